"""The decade's changes written down once the plan is made: commissioning and retirement dates on the
stored units, sensors replaced and recalibrated, and one event per change (the yearly
`infrastructure_changes` asset renders a year of them).

Sensor changes are drawn here from the seed alone: nothing the batches do depends on them. A replaced
sensor is a new row on the same container and parameter; readings come from whichever is installed
on the day (`sensor_on_day`).
"""
from __future__ import annotations

import numpy as np

from .calendar import EPOCH_OFFSET, FIRST_STORED_DAY, N_DAYS, owning_year
from .infrastructure_life import NEVER
from .rng import stream

SENSOR_REPLACED_SHARE = 0.15  # of the sensors in service, replaced once in the stored years
CALIBRATION_DAYS = (365, 20)  # a probe is recalibrated about yearly (mean, sd of the interval)
MAX_CALIBRATIONS = 12
UNIT_KINDS = ("freshwater_station", "hall", "area", "container", "sensor")


def _nullable(day: np.ndarray) -> np.ndarray:
    out = np.empty(len(day), dtype=object)
    ok = day < N_DAYS
    out[ok] = (day[ok] + EPOCH_OFFSET).astype(np.int32)
    return out


def _settle_sites(infra, site_free: dict[int, int]) -> None:
    """A retiring site is given up after its last generation's fallow (or on its day, if idle then)."""
    lives = infra.lives
    for area, after in lives.area_retire_after.items():
        day = max(after, site_free.get(area, -10**6))
        if day < N_DAYS:
            lives.area_retired[area] = day
            lives.container_retired[infra.container_area == area] = day


def _replace_sensors(infra, seed: int) -> None:
    """A share of the sensors in service is replaced once: a new row, the old one decommissioned."""
    s, lives = infra.tables["sensor"], infra.lives
    rng = stream(seed, "sensor-replacement")
    n = len(s["id"])
    c = s["container_id"] - 1
    installed = s["installation_date"].astype(np.int64) - EPOCH_OFFSET
    day = rng.integers(FIRST_STORED_DAY, N_DAYS, n)
    chosen = ((rng.random(n) < SENSOR_REPLACED_SHARE) & (day > installed + 30)
              & (day >= lives.container_commissioned[c] + 30) & (day < lives.container_retired[c]))
    old = np.flatnonzero(chosen)
    new_ids = n + 1 + np.arange(len(old))
    lives.sensor_successor = np.zeros(n + 1, np.int64)
    lives.sensor_switch = np.full(n + 1, NEVER, np.int64)
    lives.sensor_successor[old + 1], lives.sensor_switch[old + 1] = new_ids, day[old]
    retired = np.minimum(lives.container_retired[c], np.where(chosen, day, NEVER))
    s["decommissioned_on"] = _nullable(retired)
    lives.replacement_sensors = {
        "id": new_ids, "container_id": s["container_id"][old], "parameter_id": s["parameter_id"][old],
        "name": s["name"][old], "serial_number": np.array([f"SN{100000 + i - 1}" for i in new_ids], dtype=object),
        "installation_date": (day[old] + EPOCH_OFFSET).astype(np.int32),
        "decommissioned_on": _nullable(lives.container_retired[c[old]])}


def stored_tables(infra) -> dict[str, dict[str, np.ndarray]]:
    """The infrastructure tables as stored: the sensors as first installed (what the plan's tables
    hold, one per container and parameter: the places readings are taken at) and their replacements."""
    extra = getattr(infra.lives, "replacement_sensors", None) if infra.lives is not None else None
    if not extra:
        return infra.tables
    s = infra.tables["sensor"]
    return {**infra.tables, "sensor": {k: np.concatenate([v, extra[k]]) for k, v in s.items()}}


def sensor_on_day(infra, sensor: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The sensor installed on `day` at the place of the (first) sensor `sensor`."""
    lives = infra.lives
    if lives is None or getattr(lives, "sensor_successor", None) is None:
        return sensor
    s = np.asarray(sensor, np.int64)
    return np.where(day >= lives.sensor_switch[s], lives.sensor_successor[s], s).astype(sensor.dtype)


def _epoch(days) -> np.ndarray:
    return (np.asarray(days, np.int64) + EPOCH_OFFSET).astype(np.int32)


def _dates(infra) -> None:
    """commissioned_on / decommissioned_on on stations, halls, sites and containers."""
    lives, t = infra.lives, infra.tables
    epoch = _epoch
    t["freshwater_station"]["commissioned_on"] = epoch(lives.station_commissioned)
    t["hall"]["commissioned_on"] = epoch([lives.hall_commissioned[int(h)] for h in t["hall"]["id"]])
    t["area"]["commissioned_on"] = epoch([lives.area_commissioned[int(a)] for a in t["area"]["id"]])
    t["area"]["decommissioned_on"] = _nullable(np.array([lives.area_retired.get(int(a), NEVER)
                                                         for a in t["area"]["id"]]))
    t["container"]["commissioned_on"] = epoch(lives.container_commissioned)
    t["container"]["decommissioned_on"] = _nullable(lives.container_retired)


def _calibrations(s: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(sensor id, day) of every recalibration while a sensor is installed in the stored years."""
    rng = stream(seed, "sensor-calibration")
    n = len(s["id"])
    start = np.maximum(s["installation_date"].astype(np.int64) - EPOCH_OFFSET, FIRST_STORED_DAY)
    end = np.array([N_DAYS if d is None else int(d) - EPOCH_OFFSET for d in s["decommissioned_on"]])
    steps = np.round(rng.normal(*CALIBRATION_DAYS, (n, MAX_CALIBRATIONS))).astype(np.int64)
    steps[:, 0] = rng.integers(1, CALIBRATION_DAYS[0], n)
    days = start[:, None] + np.cumsum(steps, axis=1)
    keep = days < end[:, None]
    return np.broadcast_to(s["id"][:, None], days.shape)[keep], days[keep]


def _events(infra, seed: int) -> dict[str, np.ndarray]:
    lives, t = infra.lives, infra.tables
    rows: list[tuple[np.ndarray, ...]] = []  # (kind index, unit id, day, event kind, replaces)

    def add(kind: str, ids, days, event: str, replaces=None) -> None:
        ids, days = np.asarray(ids, np.int64), np.asarray(days, np.int64)
        m = (days >= FIRST_STORED_DAY) & (days < N_DAYS)
        rep = np.full(len(ids), -1, np.int64) if replaces is None else np.asarray(replaces, np.int64)
        rows.append((np.full(m.sum(), UNIT_KINDS.index(kind)), ids[m], days[m], np.full(m.sum(), event, object), rep[m]))

    add("hall", list(lives.hall_commissioned), list(lives.hall_commissioned.values()), "commissioned")
    add("area", list(lives.area_commissioned), list(lives.area_commissioned.values()), "commissioned")
    add("area", list(lives.area_retired), list(lives.area_retired.values()), "retired")
    cid = np.arange(1, len(lives.container_commissioned) + 1)
    rebuilt = np.zeros(len(cid), bool)
    rebuilt[list(lives.rebuilt)] = True
    replaces = np.full(len(cid), -1)
    replaces[list(lives.rebuilt)] = [old + 1 for old, _ in lives.rebuilt.values()]
    add("container", cid[~rebuilt], lives.container_commissioned[~rebuilt], "commissioned")
    add("container", cid[rebuilt], lives.container_commissioned[rebuilt], "rebuilt", replaces[rebuilt])
    add("container", cid, lives.container_retired, "retired")
    s = stored_tables(infra)["sensor"]
    installed = s["installation_date"].astype(np.int64) - EPOCH_OFFSET
    successor_of = np.full(len(s["id"]) + 1, -1)
    successor_of[lives.sensor_successor[lives.sensor_successor > 0]] = np.flatnonzero(lives.sensor_successor)
    prev = successor_of[s["id"]]
    add("sensor", s["id"][prev < 0], installed[prev < 0], "commissioned")
    add("sensor", s["id"][prev > 0], installed[prev > 0], "sensor_replaced", prev[prev > 0])
    gone = np.array([N_DAYS if d is None else int(d) - EPOCH_OFFSET for d in s["decommissioned_on"]])
    add("sensor", s["id"], gone, "retired")
    add("sensor", *_calibrations(s, seed), "sensor_calibrated")
    kind, unit, day, event, rep = (np.concatenate(c) for c in zip(*rows))
    order = np.lexsort((event.astype(str), unit, kind, day))
    kind, unit, day, event, rep = kind[order], unit[order], day[order], event[order], rep[order]
    return {"id": np.arange(1, len(day) + 1, dtype=np.int32), "year": owning_year(day), "day": day,
            "unit_kind": np.array(UNIT_KINDS, dtype=object)[kind], "unit_id": unit.astype(np.int32),
            "event_kind": event, "replaces_id": rep.astype(np.int32)}


def record_decade(infra, site_free: dict[int, int], seed: int) -> None:
    """Settle the plan's dates on the units, replace sensors, and list the decade's events."""
    _settle_sites(infra, site_free)
    _replace_sensors(infra, seed)
    _dates(infra)
    infra.events = _events(infra, seed)
