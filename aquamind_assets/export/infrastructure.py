"""Yearly rendering of the farm's changes: the units commissioned, retired and rebuilt and the sensors
replaced and recalibrated in a year (sim/infrastructure_events.py decides them for the whole decade)."""
from __future__ import annotations

import numpy as np

from ..sim.calendar import epoch_days
from ..warehouse.schema import Table
from ..warehouse.tables import INFRASTRUCTURE_EVENT
from .columns import vocabulary


def _words(values: np.ndarray):
    """A few kinds repeated over thousands of rows: carried as codes (warehouse/encode.py)."""
    words, codes = np.unique(values, return_inverse=True)
    return vocabulary(codes, words)


def render_infrastructure_changes(plan, year: int) -> dict[Table, dict[str, np.ndarray]]:
    ev = plan.infra.events
    m = ev["year"] == year
    replaces = np.empty(int(m.sum()), dtype=object)
    known = ev["replaces_id"][m] > 0
    replaces[known] = ev["replaces_id"][m][known]
    return {INFRASTRUCTURE_EVENT: {
        "year": np.full(int(m.sum()), year, np.int16), "id": ev["id"][m], "unit_kind": _words(ev["unit_kind"][m]),
        "unit_id": ev["unit_id"][m], "event_date": epoch_days(ev["day"][m]),
        "event_kind": _words(ev["event_kind"][m]), "replaces_id": replaces}}
