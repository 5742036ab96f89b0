"""Warehouse I/O: DDL from the table specs, binary COPY, atomic year loads, SQL checks.

No Dagster here: the defs/ layer wires these into assets and asset checks.
"""
