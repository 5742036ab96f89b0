"""SQL invariants over stored rows (docs/domain.md §10), grouped by the asset that writes them.

Each rule counts what it examined and what broke it; loads run the rules of their asset inside the
year's transaction, and `aquamind validate` reruns all of them over everything stored.
"""
