"""Yearly rendering of the batch-level tables from the plan: pure numpy, any year alone.

Owning year: the year of a row's start date, FIRST_YEAR for anything that started earlier; nothing
dated after LAST_DATE (an open end is NULL).
"""
from __future__ import annotations

import numpy as np

from ..config.years import FIRST_DATE, FIRST_YEAR
from ..sim.calendar import FIRST_STORED_DAY, epoch_days, year_days
from ..warehouse.schema import Table
from ..warehouse.tables import (ASSIGNMENT, BATCH, BATCH_OPENING_TOTALS, DAILY_STATE, OPENING_STATE,
                                TRANSFER_ACTION, TRANSFER_WORKFLOW)
from .columns import nullable_date, stored
from .daily_rollups import daily_rollups

Columns = dict[str, np.ndarray]
OPENING_POPULATION = f"population_on_{FIRST_DATE.replace('-', '_')}"  # column of batch_opening_totals


def _batches(plan, year: int) -> Columns:
    a, bt = plan.assignment, plan.batch
    b_start = bt["start"].astype(np.int64)
    b_end = bt["end"].astype(np.int64)
    m = stored(b_start, b_end, year)
    first_container = np.zeros(len(bt["id"]), np.int64)
    first_container[a["batch"][::-1] - 1] = a["container"][::-1]
    station = plan.infra.container_station[first_container[m] - 1] + 1
    harvested = np.isin(bt["id"], plan.harvest["batch"])
    return {
        "year": np.full(m.sum(), year, np.int16), "id": bt["id"][m].astype(np.int32),
        "batch_number": bt["name"][m].astype(object), "species_id": np.ones(m.sum(), np.int32),
        "geography_id": (bt["geo"][m] + 1).astype(np.int32), "freshwater_station_id": station.astype(np.int32),
        "egg_supplier_id": bt["supplier"][m].astype(np.int32), "strain": bt["strain"][m].astype(object),
        "egg_count": bt["eggs"][m].astype(np.int32), "start_date": epoch_days(b_start[m]),
        "actual_end_date": nullable_date(np.where(b_end[m] > 0, b_end[m] - 1, -1)),
        "status": np.where(b_end[m] < 0, "ACTIVE", np.where(harvested[m], "COMPLETED", "TERMINATED")).astype(object)}


def _assignments(plan, year: int) -> Columns:
    a = plan.assignment
    start, end = a["start"].astype(np.int64), a["end"].astype(np.int64)
    m = stored(start, end, year)
    ids = np.flatnonzero(m) + 1
    return {
        "year": np.full(len(ids), year, np.int16), "id": ids.astype(np.int32),
        "batch_id": a["batch"][m], "container_id": a["container"][m],
        "lifecycle_stage_id": (a["stage"][m] + 1).astype(np.int32), "population_count": a["n0"][m],
        "avg_weight_g": a["w0"][m], "biomass_kg": (a["n0"][m] * a["w0"][m].astype(np.float64) / 1000).astype(np.float32),
        "assignment_date": epoch_days(start[m]), "departure_date": nullable_date(end[m]), "is_active": end[m] < 0}


def daily_state(plan, year: int) -> Columns:
    """The year's daily state rows (also what frame rules of other assets compare their rows with)."""
    a, d = plan.assignment, plan.daily
    first, stop = year_days(year)
    rows = np.flatnonzero((d["day"] >= first) & (d["day"] < stop))  # gathered by index: one scan, not one per column
    ass = d["assignment"][rows]
    deaths = d["base"][rows] + d["event"][rows]
    return {
        "year": np.full(len(rows), year, np.int16), "assignment_id": ass,
        "batch_id": a["batch"][ass - 1], "container_id": a["container"][ass - 1],
        "lifecycle_stage_id": (a["stage"][ass - 1] + 1).astype(np.int32),
        "state_date": epoch_days(d["day"][rows]), "population": d["pop"][rows], "avg_weight_g": d["weight"][rows],
        "biomass_kg": (d["pop"][rows] * d["weight"][rows].astype(np.float64) / 1000).astype(np.float32),
        "temperature_c": d["temp"][rows], "feed_kg": d["feed"][rows], "deaths": deaths.astype(np.int32)}


def _workflow_rows(plan, year: int) -> np.ndarray:
    """Mask of the transfer workflows dated in the year's stored days."""
    wf = plan.workflow
    first, stop = year_days(year)
    if not len(wf["day"]):
        return np.zeros(0, bool)
    return (wf["day"] >= max(first, FIRST_STORED_DAY)) & (wf["day"] < stop)


def _workflows(plan, w: np.ndarray, year: int) -> Columns:
    wf = plan.workflow
    return {
        "year": np.full(w.sum(), year, np.int16), "id": wf["id"][w].astype(np.int32), "batch_id": wf["batch"][w].astype(np.int32),
        "workflow_number": np.array([f"TRF-{b}-{s}" for b, s in zip(wf["batch"][w], wf["dst_stage"][w])],
                                    dtype=object),
        "workflow_type": np.where(wf["dst_stage"][w] == 5, "SEA_TRANSFER", "LIFECYCLE_TRANSITION").astype(object),
        "source_stage_id": (wf["src_stage"][w] + 1).astype(np.int32),
        "dest_stage_id": (wf["dst_stage"][w] + 1).astype(np.int32),
        "transfer_date": epoch_days(wf["day"][w]), "source_count": wf["source"][w].astype(np.int32),
        "transferred_count": wf["transferred"][w].astype(np.int32),
        "mortality_count": wf["mortality"][w].astype(np.int32),
        "transferred_biomass_kg": wf["biomass"][w].astype(np.float32)}


def _actions(plan, w: np.ndarray, year: int) -> Columns:
    a, ac, wf = plan.assignment, plan.action, plan.workflow
    k = np.isin(ac["workflow"], wf["id"][w]) if len(ac["workflow"]) else np.zeros(0, bool)
    idx = np.flatnonzero(k)
    return {
        "year": np.full(len(idx), year, np.int16), "id": (idx + 1).astype(np.int32),
        "workflow_id": ac["workflow"][k].astype(np.int32),
        "action_number": (idx - np.searchsorted(ac["workflow"], ac["workflow"][k]) + 1).astype(np.int32),
        "source_assignment_id": ac["src"][k].astype(np.int32), "dest_assignment_id": ac["dst"][k].astype(np.int32),
        "transfer_date": epoch_days(ac["day"][k]), "transferred_count": ac["count"][k].astype(np.int32),
        "transferred_biomass_kg": ac["biomass"][k].astype(np.float32),
        "transfer_method": np.where(a["stage"][ac["dst"][k] - 1] == 5, "PUMP", "NET").astype(object)}


def render_batches(plan, year: int) -> dict[Table, Columns]:
    """The batches asset's tables of one year: batches, assignments, daily state and its rollups, the
    opening state (first stored year only), transfer workflows and their actions."""
    days = daily_state(plan, year)
    out = {BATCH: _batches(plan, year), ASSIGNMENT: _assignments(plan, year), DAILY_STATE: days,
           **daily_rollups(plan, days)}
    out.update(_opening(plan, year))
    w = _workflow_rows(plan, year)
    out[TRANSFER_WORKFLOW] = _workflows(plan, w, year)
    out[TRANSFER_ACTION] = _actions(plan, w, year)
    return out


def _opening(plan, year: int) -> dict[Table, Columns]:
    """Warm start: state on the first stored day of every open assignment, and each batch's life before it."""
    a, d = plan.assignment, plan.daily
    opening = year == FIRST_YEAR  # other years: empty tables, without a pass over the plan's days
    none = np.zeros(0, np.int64)
    on = np.flatnonzero(d["day"] == FIRST_STORED_DAY) if opening else none
    ass = d["assignment"][on]
    state = {"year": np.full(len(ass), year, np.int16), "assignment_id": ass, "batch_id": a["batch"][ass - 1],
             "state_date": epoch_days(np.full(len(ass), FIRST_STORED_DAY)), "population": d["pop"][on],
             "avg_weight_g": d["weight"][on],
             "biomass_kg": (d["pop"][on] * d["weight"][on].astype(np.float64) / 1000).astype(np.float32)}
    batches = np.unique(a["batch"][ass - 1])
    before = np.flatnonzero(d["day"] < FIRST_STORED_DAY) if opening else none
    bb = a["batch"][d["assignment"][before] - 1]
    keep = np.isin(bb, batches)
    sel, bb = before[keep], bb[keep]
    feed = np.bincount(np.searchsorted(batches, bb), weights=d["feed"][sel], minlength=len(batches))
    dead = np.bincount(np.searchsorted(batches, bb), weights=(d["base"][sel] + d["event"][sel]), minlength=len(batches))
    pop = np.bincount(np.searchsorted(batches, a["batch"][ass - 1]), weights=d["pop"][on], minlength=len(batches))
    totals = {"year": np.full(len(batches), year, np.int16), "batch_id": batches.astype(np.int32),
              "stocked_count": plan.batch["eggs"][batches - 1].astype(np.int32), "feed_kg_before": feed,
              "deaths_before": dead.astype(np.int32), OPENING_POPULATION: pop.astype(np.int32)}
    return {OPENING_STATE: state, BATCH_OPENING_TOTALS: totals}
