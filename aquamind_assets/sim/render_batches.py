"""Yearly rendering of the batch-level tables from the plan: pure numpy, any year alone.

Owning year: the year of a row's start date, 2015 for anything that started earlier; nothing
dated after 2024-12-31 (an open end is NULL).
"""
from __future__ import annotations

import numpy as np

from .calendar import EPOCH_OFFSET, FIRST_STORED_DAY, N_DAYS, YEAR, owning_year, year_days
from .reference import CAUSE_ID, MORTALITY_CAUSES
from .rng import stream

GRADES = ((0.10, 1.15), (0.40, 1.05), (0.35, 1.00), (0.12, 0.85), (0.03, 0.60))  # share, weight ratio
CAUSES = np.array(MORTALITY_CAUSES, dtype=object)


def _date(day) -> np.ndarray:
    return (np.asarray(day, dtype=np.int64) + EPOCH_OFFSET).astype(np.int32)


def _nullable_date(day: np.ndarray) -> np.ndarray:
    out = np.empty(len(day), dtype=object)
    valid = (day >= 0) & (day < N_DAYS)
    out[valid] = _date(day[valid])
    return out


def _stored(start: np.ndarray, end: np.ndarray, year: int) -> np.ndarray:
    """Rows owned by `year` that are alive on or after 2015-01-01."""
    return (owning_year(start) == year) & ((end < 0) | (end > FIRST_STORED_DAY))


def render_batches(plan, year: int) -> dict[str, dict[str, np.ndarray]]:
    a, bt, d = plan.assignment, plan.batch, plan.daily
    first, stop = year_days(year)
    out: dict[str, dict[str, np.ndarray]] = {}
    b_start = bt["start"].astype(np.int64)
    b_end = bt["end"].astype(np.int64)
    m = _stored(b_start, b_end, year)
    first_container = np.zeros(len(bt["id"]), np.int64)
    first_container[a["batch"][::-1] - 1] = a["container"][::-1]
    station = plan.infra.container_station[first_container[m] - 1] + 1
    harvested = np.isin(bt["id"], plan.harvest["batch"])
    out["batch.batch"] = {
        "year": np.full(m.sum(), year, np.int16), "id": bt["id"][m].astype(np.int32),
        "batch_number": bt["name"][m].astype(object), "species_id": np.ones(m.sum(), np.int32),
        "geography_id": (bt["geo"][m] + 1).astype(np.int32), "freshwater_station_id": station.astype(np.int32),
        "egg_supplier_id": bt["supplier"][m].astype(np.int32), "strain": bt["strain"][m].astype(object),
        "egg_count": bt["eggs"][m].astype(np.int32), "start_date": _date(b_start[m]),
        "actual_end_date": _nullable_date(np.where(b_end[m] > 0, b_end[m] - 1, -1)),
        "status": np.where(b_end[m] < 0, "ACTIVE", np.where(harvested[m], "COMPLETED", "TERMINATED")).astype(object)}
    start, end = a["start"].astype(np.int64), a["end"].astype(np.int64)
    m = _stored(start, end, year)
    ids = np.flatnonzero(m) + 1
    out["batch.batch_container_assignment"] = {
        "year": np.full(len(ids), year, np.int16), "id": ids.astype(np.int32),
        "batch_id": a["batch"][m], "container_id": a["container"][m],
        "lifecycle_stage_id": (a["stage"][m] + 1).astype(np.int32), "population_count": a["n0"][m],
        "avg_weight_g": a["w0"][m], "biomass_kg": (a["n0"][m] * a["w0"][m].astype(np.float64) / 1000).astype(np.float32),
        "assignment_date": _date(start[m]), "departure_date": _nullable_date(end[m]), "is_active": end[m] < 0}
    rows = (d["day"] >= first) & (d["day"] < stop)
    deaths = d["base"][rows] + d["event"][rows]
    out["batch.assignment_daily_state"] = {
        "year": np.full(rows.sum(), year, np.int16), "assignment_id": d["assignment"][rows],
        "batch_id": a["batch"][d["assignment"][rows] - 1], "container_id": a["container"][d["assignment"][rows] - 1],
        "lifecycle_stage_id": (a["stage"][d["assignment"][rows] - 1] + 1).astype(np.int32),
        "state_date": _date(d["day"][rows]), "population": d["pop"][rows], "avg_weight_g": d["weight"][rows],
        "biomass_kg": (d["pop"][rows] * d["weight"][rows].astype(np.float64) / 1000).astype(np.float32),
        "temperature_c": d["temp"][rows], "feed_kg": d["feed"][rows], "deaths": deaths.astype(np.int32)}
    out.update(_opening(plan, year))
    wf = plan.workflow
    w = (wf["day"] >= max(first, FIRST_STORED_DAY)) & (wf["day"] < stop) if len(wf["day"]) else np.zeros(0, bool)
    out["batch.batch_transfer_workflow"] = {
        "year": np.full(w.sum(), year, np.int16), "id": wf["id"][w].astype(np.int32),
        "batch_id": wf["batch"][w].astype(np.int32),
        "workflow_number": np.array([f"TRF-{b}-{s}" for b, s in zip(wf["batch"][w], wf["dst_stage"][w])], dtype=object),
        "workflow_type": np.where(wf["dst_stage"][w] == 5, "SEA_TRANSFER", "LIFECYCLE_TRANSITION").astype(object),
        "source_stage_id": (wf["src_stage"][w] + 1).astype(np.int32), "dest_stage_id": (wf["dst_stage"][w] + 1).astype(np.int32),
        "transfer_date": _date(wf["day"][w]), "source_count": wf["source"][w].astype(np.int32),
        "transferred_count": wf["transferred"][w].astype(np.int32), "mortality_count": wf["mortality"][w].astype(np.int32),
        "transferred_biomass_kg": wf["biomass"][w].astype(np.float32)}
    ac = plan.action
    k = np.isin(ac["workflow"], wf["id"][w]) if len(ac["workflow"]) else np.zeros(0, bool)
    idx = np.flatnonzero(k)
    out["batch.transfer_action"] = {
        "year": np.full(len(idx), year, np.int16), "id": (idx + 1).astype(np.int32),
        "workflow_id": ac["workflow"][k].astype(np.int32),
        "action_number": (idx - np.searchsorted(ac["workflow"], ac["workflow"][k]) + 1).astype(np.int32),
        "source_assignment_id": ac["src"][k].astype(np.int32), "dest_assignment_id": ac["dst"][k].astype(np.int32),
        "transfer_date": _date(ac["day"][k]), "transferred_count": ac["count"][k].astype(np.int32),
        "transferred_biomass_kg": ac["biomass"][k].astype(np.float32),
        "transfer_method": np.where(a["stage"][ac["dst"][k] - 1] == 5, "PUMP", "NET").astype(object)}
    return out


def _opening(plan, year: int) -> dict[str, dict[str, np.ndarray]]:
    """Warm start: state on 2015-01-01 of every open assignment, and each batch's life before it."""
    a, d = plan.assignment, plan.daily
    n = 0 if year != 2015 else None
    on = (d["day"] == FIRST_STORED_DAY) if n is None else np.zeros(len(d["day"]), bool)
    ass = d["assignment"][on]
    state = {"year": np.full(len(ass), year, np.int16), "assignment_id": ass, "batch_id": a["batch"][ass - 1],
             "state_date": _date(np.full(len(ass), FIRST_STORED_DAY)), "population": d["pop"][on],
             "avg_weight_g": d["weight"][on],
             "biomass_kg": (d["pop"][on] * d["weight"][on].astype(np.float64) / 1000).astype(np.float32)}
    batches = np.unique(a["batch"][ass - 1])
    before = d["day"] < FIRST_STORED_DAY
    bb = a["batch"][d["assignment"] - 1]
    sel = before & np.isin(bb, batches)
    feed = np.bincount(np.searchsorted(batches, bb[sel]), weights=d["feed"][sel], minlength=len(batches))
    dead = np.bincount(np.searchsorted(batches, bb[sel]), weights=(d["base"] + d["event"])[sel], minlength=len(batches))
    pop = np.bincount(np.searchsorted(batches, a["batch"][ass - 1]), weights=d["pop"][on], minlength=len(batches))
    totals = {"year": np.full(len(batches), year, np.int16), "batch_id": batches.astype(np.int32),
              "stocked_count": plan.batch["eggs"][batches - 1].astype(np.int32), "feed_kg_before": feed,
              "deaths_before": dead.astype(np.int32), "population_on_2015_01_01": pop.astype(np.int32)}
    return {"batch.opening_state": state, "batch.batch_opening_totals": totals}


def render_mortality(plan, year: int) -> dict[str, dict[str, np.ndarray]]:
    """One event per assignment-day and cause: base deaths and event deaths (disease, handling, ...)."""
    d, a = plan.daily, plan.assignment
    first, stop = year_days(year)
    rows = np.flatnonzero((d["day"] >= first) & (d["day"] < stop))
    parts = []
    for kind, count, cause in ((0, d["base"], d["bcause"]), (1, d["event"], d["ecause"])):
        r = rows[count[rows] > 0]
        parts.append((r.astype(np.int64) * 2 + kind, r, count[r], cause[r]))
    ids = np.concatenate([p[0] for p in parts])
    order = np.argsort(ids, kind="stable")
    r = np.concatenate([p[1] for p in parts])[order]
    cnt = np.concatenate([p[2] for p in parts])[order]
    cause = np.concatenate([p[3] for p in parts])[order].astype(np.int64)
    ass = d["assignment"][r]
    return {"batch.mortality_event": {
        "year": np.full(len(r), year, np.int16), "id": ids[order] + 1, "batch_id": a["batch"][ass - 1],
        "assignment_id": ass, "event_date": _date(d["day"][r]), "count": cnt.astype(np.int32),
        "biomass_kg": (cnt * d["weight"][r].astype(np.float64) / 1000).astype(np.float32),
        "cause": CAUSES[cause], "mortality_reason_id": (cause + 1).astype(np.int32)}}


def render_harvest(plan, year: int) -> dict[str, dict[str, np.ndarray]]:
    """Harvest events per pen and lots per grade: whole fish split by grade, weights conserved."""
    h, bt = plan.harvest, plan.batch
    first, stop = year_days(year)
    sel = np.flatnonzero((h["day"] >= first) & (h["day"] < stop)) if len(h["day"]) else np.zeros(0, int)
    ev = {"year": np.full(len(sel), year, np.int16), "id": (sel + 1).astype(np.int32),
          "batch_id": h["batch"][sel].astype(np.int32), "assignment_id": h["assignment"][sel].astype(np.int32),
          "event_date": _date(h["day"][sel]), "geography_id": (bt["geo"][h["batch"][sel] - 1] + 1).astype(np.int32),
          "document_ref": np.array([f"HRV-{b}-{p}" for b, p in zip(h["batch"][sel], h["assignment"][sel])], dtype=object),
          "is_early": h["early"][sel].astype(bool)}
    shares = np.array([g[0] for g in GRADES])
    ratio = np.array([g[1] for g in GRADES])
    lots = {k: [] for k in ("id", "harvest_event_id", "assignment_id", "event_date", "product_grade_id",
                            "unit_count", "live_weight_kg", "gutted_weight_kg")}
    for i in sel:
        n, w = int(h["count"][i]), float(h["weight"][i])
        counts = np.floor(shares * n).astype(np.int64)
        counts[1] += n - counts.sum()
        weights = counts * ratio
        live = w * n / 1000 * weights / max(weights.sum(), 1)
        gut = live * stream(int(plan.stats["seed"]), "gutting", int(i)).uniform(0.83, 0.85)
        for gi in range(5):
            lots["id"].append((i + 1) * 10 + gi + 1)
            lots["harvest_event_id"].append(i + 1)
            lots["assignment_id"].append(h["assignment"][i])
            lots["event_date"].append(h["day"][i] + EPOCH_OFFSET)
            lots["product_grade_id"].append(gi + 1)
            lots["unit_count"].append(counts[gi])
            lots["live_weight_kg"].append(live[gi])
            lots["gutted_weight_kg"].append(gut[gi])
    dt = {"live_weight_kg": np.float64, "gutted_weight_kg": np.float64}
    lot = {k: np.asarray(v, dtype=dt.get(k, np.int32)) for k, v in lots.items()}
    lot["year"] = np.full(len(lot["id"]), year, np.int16)
    return {"harvest.harvest_event": ev, "harvest.harvest_lot": lot}
