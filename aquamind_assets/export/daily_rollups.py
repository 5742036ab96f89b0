"""Rollups of the daily state, summed by the batches load from the days it writes: per assignment and
year, per container and month, per geography, environment and day. The marts read these rows
instead of scanning the daily state again (assignment_year_summary, utilization_monthly,
mortality_monthly_by_geography); tests/defs/test_dbt.py holds each mart to the stored days.

Sums are taken in float64 from the stored float4 values, as SQL sums the widened columns."""
from __future__ import annotations

import numpy as np

from ..warehouse.schema import Table
from ..warehouse.tables import ASSIGNMENT_YEAR, CONTAINER_MONTH, STOCK_DAY

Columns = dict[str, np.ndarray]


def daily_rollups(plan, days: Columns) -> dict[Table, Columns]:
    return {ASSIGNMENT_YEAR: assignment_year(days), CONTAINER_MONTH: container_month(days),
            STOCK_DAY: stock_day(plan, days)}


def _runs(key: np.ndarray) -> np.ndarray:
    """Start of each run of equal keys."""
    return np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)


def _sum(v: np.ndarray, start: np.ndarray) -> np.ndarray:
    return np.add.reduceat(v, start) if len(start) else np.zeros(0, v.dtype)


def assignment_year(ds: Columns) -> Columns:
    """batch.assignment_year: each assignment's first and last day of the year and its sums (the days
    are rendered ordered by assignment and day)."""
    start = _runs(ds["assignment_id"])
    last = np.r_[start[1:], len(ds["assignment_id"])].astype(np.int64) - 1
    deaths = ds["deaths"].astype(np.int64)
    temp = ds["temperature_c"].astype(np.float64)
    degree_days = _sum(temp, start)
    first = {k: ds[k][start] for k in ("year", "assignment_id", "batch_id", "container_id", "lifecycle_stage_id")}
    return {**first, "state_days": (last - start + 1).astype(np.int32),
            "first_date": ds["state_date"][start], "last_date": ds["state_date"][last],
            "first_population": ds["population"][start], "first_avg_weight_g": ds["avg_weight_g"][start],
            "first_biomass_kg": ds["biomass_kg"][start], "last_population": ds["population"][last],
            "last_avg_weight_g": ds["avg_weight_g"][last], "last_biomass_kg": ds["biomass_kg"][last],
            "last_day_deaths": ds["deaths"][last], "feed_kg": _sum(ds["feed_kg"].astype(np.float64), start),
            "deaths": _sum(deaths, start),
            "dead_biomass_kg": _sum(deaths * ds["avg_weight_g"].astype(np.float64) / 1000.0, start),
            "population_days": _sum(ds["population"].astype(np.float64), start), "degree_days": degree_days,
            "degree_days_before_last": degree_days - temp[last]}


def _month_start(epoch_day: np.ndarray) -> np.ndarray:
    """Unix day of the first of the month of each unix day."""
    month = epoch_day.astype("datetime64[D]").astype("datetime64[M]")
    return month.astype("datetime64[D]").astype(np.int64).astype(np.int32)


def container_month(ds: Columns) -> Columns:
    """batch.container_month: days occupied and the peak biomass per container and month (a container
    holds at most one assignment a day: the batches rule no_double_booking)."""
    month = _month_start(ds["state_date"])
    key = ds["container_id"].astype(np.int64) << 32 | month.astype(np.int64)
    order = np.argsort(key, kind="stable")
    start = _runs(key[order])
    rows = order[start]
    return {"year": ds["year"][rows], "container_id": ds["container_id"][rows], "month_start": month[rows],
            "occupied_days": np.diff(np.r_[start, len(key)]).astype(np.int32),
            "max_biomass_kg": np.maximum.reduceat(ds["biomass_kg"][order], start) if len(start)
            else np.zeros(0, np.float32)}


def stock_day(plan, ds: Columns) -> Columns:
    """batch.stock_day: fish at the start of each day and deaths that day, per geography and
    environment (sea pens or freshwater units)."""
    c = ds["container_id"].astype(np.int64) - 1
    geo = plan.infra.container_geo[c].astype(np.int64) + 1
    sea = np.asarray(plan.infra.tables["container"]["is_sea"], bool)[c]
    key = ds["state_date"].astype(np.int64) << 8 | geo << 1 | sea
    order = np.argsort(key, kind="stable")
    start = _runs(key[order])
    rows = order[start]
    return {"year": ds["year"][rows], "state_date": ds["state_date"][rows], "geography_id": geo[rows].astype(np.int32),
            "environment": np.where(sea[rows], "sea", "freshwater").astype(object),
            "population": _sum(ds["population"][order].astype(np.int64), start),
            "deaths": _sum(ds["deaths"][order].astype(np.int64), start)}
