"""Table specs for the feeding asset (see tables.py for conventions)."""
from .schema import C, yearly  # noqa: F401

