"""The frozen plan: the builder's state as flat column arrays, one row per assignment-day, per event."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import biology as bio
from .calendar import N_DAYS
from .feed_inventory import UNIT
from .plan_state import PlanBuilder
from .rng import stream

FW_CAUSES = np.array([0.25, 0.12, 0.0, 0.13, 0.50])  # disease, handling, predation, environmental, unknown
SEA_CAUSES = np.array([0.30, 0.05, 0.15, 0.10, 0.40])


@dataclass
class Plan:
    """Everything that happened, for every simulated day: what the yearly exports render."""

    scenario_hash: str
    infra: object
    climate: object
    batch: dict[str, np.ndarray]
    assignment: dict[str, np.ndarray]
    daily: dict[str, np.ndarray]
    workflow: dict[str, np.ndarray]
    action: dict[str, np.ndarray]
    harvest: dict[str, np.ndarray]
    vaccination: dict[str, np.ndarray]
    treatment: dict[str, np.ndarray]
    lice: dict[str, np.ndarray]
    outbreak: dict[str, np.ndarray]
    stats: dict[str, float] = field(default_factory=dict)
    sensor_faults: dict = field(default_factory=dict)  # the decade's sensor faults (sim/faults.attach_faults)


def _arr(rows, names, dtypes=None):
    rows = list(rows)
    cols = list(zip(*rows)) if rows else [[] for _ in names]
    return {n: np.asarray(c, dtype=(dtypes or {}).get(n)) for n, c in zip(names, cols)}


def _ration(c, seed) -> np.ndarray:
    """Feed per unit-day = biomass gain x biological FCR (by size), to the UNIT; nothing for eggs or on
    harvest days."""
    if c.stage == bio.EGG:
        return np.zeros(c.pop.shape, np.float32)
    nxt = np.concatenate([c.weight[:, 1:], c.exit_w[:, None]], axis=1)
    gain = np.maximum(nxt - c.weight, 0) * c.pop / 1000.0
    noise = stream(seed, "ration", int(c.ids[0])).lognormal(0, 0.04, c.pop.shape)
    # in whole UNITs, as the feed stores issue it and the meals split it: a day's feed is the sum of
    # its meals and of the stores' outflow, exactly
    return (np.rint(gain * bio.ration_fcr(c.weight) * noise * UNIT) / UNIT).astype(np.float32)


def freeze(b: PlanBuilder) -> Plan:
    seed = b.scenario.seed
    n_ass = b.next_assignment - 1
    a = {k: np.zeros(n_ass, dt) for k, dt in (("batch", np.int32), ("container", np.int32), ("stage", np.int8),
                                                ("start", np.int32), ("end", np.int32), ("n0", np.int32),
                                                ("w0", np.float32), ("offset", np.int64), ("length", np.int32))}
    a["batch"][:] = b.rows["assignment_batch"]
    a["container"][:] = b.rows["assignment_container"]
    dtypes = {"pop": np.int32, "weight": np.float32, "base": np.int32, "event": np.int32, "ecause": np.int8,
              "bcause": np.int8, "feed": np.float32, "temp": np.float32}
    total = int(sum(int(c.lengths.sum()) for c in b.chunks))
    daily = {k: np.empty(total, dt) for k, dt in dtypes.items()}  # filled in place: no second copy
    offset = 0
    while b.chunks:
        c = b.chunks.pop(0)  # freed as soon as it is flattened: memory stays near one copy
        mask = np.arange(c.pop.shape[1])[None, :] < c.lengths[:, None]
        idx = c.ids - 1
        a["stage"][idx], a["start"][idx] = c.stage, c.start
        a["end"][idx] = c.start + c.lengths
        a["n0"][idx], a["w0"][idx] = c.pop[:, 0], c.weight[:, 0]
        a["length"][idx] = c.lengths
        a["offset"][idx] = offset + np.concatenate([[0], np.cumsum(c.lengths)[:-1]])
        n = int(c.lengths.sum())
        feed = _ration(c, seed)
        mix = SEA_CAUSES if c.stage == bio.ADULT else FW_CAUSES
        bc = stream(seed, "base-cause", int(c.ids[0])).choice(5, size=c.pop.shape, p=mix).astype(np.int8)
        for k, v in (("pop", c.pop), ("weight", c.weight), ("base", c.base), ("event", c.event),
                     ("ecause", c.ecause), ("bcause", bc), ("feed", feed), ("temp", c.temp)):
            daily[k][offset:offset + n] = np.asarray(v)[mask]
        offset += n
    daily["assignment"] = np.repeat(np.arange(1, n_ass + 1, dtype=np.int32), a["length"])
    daily["day"] = (np.arange(len(daily["assignment"])) - np.repeat(a["offset"], a["length"])
                    + np.repeat(a["start"], a["length"])).astype(np.int32)
    a["end"] = np.where(a["end"] >= N_DAYS, -1, a["end"]).astype(np.int32)
    # a pen harvested on the last stored day leaves the day after: stored open (NULL), like any later end
    batch = _arr(b.rows["batch"], ("id", "geo", "start", "eggs", "supplier", "strain", "name", "end"))
    return Plan(
        scenario_hash=b.scenario.data_hash(), infra=b.infra, climate=b.climate, batch=batch, assignment=a,
        daily=daily,
        workflow=_arr(b.rows["workflow"], ("id", "batch", "src_stage", "dst_stage", "day", "source", "mortality",
                                           "transferred", "biomass")),
        action=_arr(b.rows["action"], ("workflow", "src", "dst", "day", "count", "biomass")),
        harvest=_arr(b.rows["harvest"], ("assignment", "batch", "day", "count", "weight", "early")),
        vaccination=_arr(b.rows["vaccination"], ("batch", "day", "weight", "vaccine", "first_assignment", "n")),
        treatment=_arr(b.rows["treatment"], ("assignment", "batch", "day", "type", "lice_before", "outcome")),
        lice=_arr(b.rows["lice"], ("assignment", "batch", "day", "observed", "level")),
        outbreak=_arr(b.rows["outbreak"], ("batch", "disease", "start", "end", "area")),
        stats={**b.stats, "seed": seed, "cadence_multiplier": b.scenario.scale_spec.cadence_multiplier,
               "gutted_ratio": tuple(b.scenario.biology.gutted_ratio),
               "readings_cadence": b.scenario.scale_spec.readings_cadence,
               "sensor_faults": b.scenario.sensor_faults.model_dump()})
