"""The ground truth of the sensor faults as stored rows: one row per fault owned by the year, with the
offset each spike got and the value each stuck sensor repeated as the readings were rendered."""
from __future__ import annotations

import numpy as np

from ..sim.calendar import EPOCH_OFFSET
from ..sim.faults import GAP, KINDS, SPIKE, STUCK, YearFaults

US_PER_MIN = 60_000_000


def render_faults(plan, faults: YearFaults, year: int) -> dict[str, np.ndarray]:
    """environmental.sensor_fault of `year`; call it after the year's readings have streamed."""
    s = plan.infra.tables["sensor"]
    pos = faults.sensor - 1
    learnt = (faults.kind == SPIKE) | (faults.kind == STUCK)
    magnitude = np.where(learnt, faults.value, faults.offset).astype(np.float32)
    magnitude = np.ma.masked_array(magnitude, mask=(faults.kind == GAP) | np.isnan(magnitude))  # masked: NULL
    return {
        "id": (faults.index + 1).astype(np.int32),
        "sensor_id": faults.stored_sensor.astype(np.int32),  # as its readings are stored
        "container_id": np.asarray(s["container_id"], np.int32)[pos],
        "parameter_id": np.asarray(s["parameter_id"], np.int32)[pos],
        "kind": np.array(KINDS, dtype=object)[faults.kind],
        "start_time": (faults.start + EPOCH_OFFSET * 1440) * US_PER_MIN,
        "end_time": (faults.end + EPOCH_OFFSET * 1440) * US_PER_MIN,
        "magnitude": magnitude,
        "year": np.full(len(pos), year, np.int16),
    }
