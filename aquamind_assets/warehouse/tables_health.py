"""Table specs for the health asset (see tables.py for conventions)."""
from .schema import C, yearly  # noqa: F401

