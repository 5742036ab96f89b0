"""Readings and environmental events rendered from a tiny plan: counts, windows, physics, determinism.

The physics is checked on readings rendered without sensor faults (the readings model); what the
faults do is tests/sim/test_faults.py, and the readings' link to growth holds outside fault windows."""
from __future__ import annotations

import numpy as np
import pytest

from aquamind_assets.config.scenario import load_scenario
from aquamind_assets.export.readings import US_PER_DAY, render_environmental_events, render_readings
from aquamind_assets.sim.calendar import YEAR as DAY_YEAR
from aquamind_assets.sim.calendar import EPOCH_OFFSET, FIRST_STORED_DAY, MONTH, N_DAYS, year_days
from aquamind_assets.sim.climate import EVENT_TYPES
from aquamind_assets.sim.infrastructure_events import stored_tables
from aquamind_assets.sim.plan import build_plan
from aquamind_assets.sim.faults import KINDS, YearFaults, draw_faults, plan_faults
from aquamind_assets.sim.readings import RPD, ReadingLayout, estimate_readings
from aquamind_assets.sim.reference import PARAM_ID

YEAR = 2020


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_scenario(scale="tiny"))


def _concat(chunks) -> dict[str, np.ndarray]:
    chunks = list(chunks)
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def _no_faults(plan, year, *layout):
    return YearFaults(draw_faults(plan, ReadingLayout(plan, *layout), {k: 0 for k in KINDS}), year)


@pytest.fixture(scope="module")
def rows(plan):
    """The readings model alone: no sensor faults."""
    return _concat(render_readings(plan, YEAR, faults=_no_faults(plan, YEAR)))


@pytest.fixture(scope="module")
def faulty(plan):
    return _concat(render_readings(plan, YEAR))


def _day(r) -> np.ndarray:
    return (r["reading_time"] // US_PER_DAY - EPOCH_OFFSET).astype(np.int64)


def _is_sea(plan, container_id) -> np.ndarray:
    return plan.infra.container_stage[container_id - 1] == 5


def test_row_count_matches_estimate(plan, rows, faulty):
    """The estimate counts exactly what is rendered: every occupied container-day's readings but
    those the gaps never sent."""
    assert len(faulty["value"]) == estimate_readings(plan, [YEAR]) > 0
    assert len(faulty["value"]) < len(rows["value"])
    n15 = sum(len(c["value"]) for c in render_readings(plan, 2015))
    assert estimate_readings(plan, [2015, YEAR]) == n15 + len(faulty["value"])
    doubled = sum(len(c["value"]) for c in render_readings(plan, YEAR, cadence_multiplier=2))
    assert doubled == estimate_readings(plan, [YEAR], cadence_multiplier=2)
    clean = render_readings(plan, YEAR, cadence_multiplier=2, faults=_no_faults(plan, YEAR, 2))
    assert sum(len(c["value"]) for c in clean) == 2 * len(rows["value"])


def test_columns_and_dtypes(rows):
    want = {"year": np.int16, "reading_time": np.int64, "sensor_id": np.int32, "container_id": np.int32,
            "assignment_id": np.int32, "parameter_id": np.int32, "value": np.float32}
    assert {k: v.dtype for k, v in rows.items()} == {k: np.dtype(v) for k, v in want.items()}
    assert (rows["year"] == YEAR).all() and np.isfinite(rows["value"]).all()


def test_every_reading_inside_its_assignment_window(plan, rows):
    a, s = plan.assignment, stored_tables(plan.infra)["sensor"]  # a replaced sensor's successor reads too
    i = rows["assignment_id"] - 1
    day = _day(rows)
    d0, d1 = year_days(YEAR)
    assert ((day >= d0) & (day < d1)).all()
    assert (day >= a["start"][i]).all()
    assert ((a["end"][i] < 0) | (day < a["end"][i])).all()
    assert (a["container"][i] == rows["container_id"]).all()
    assert (s["container_id"][rows["sensor_id"] - 1] == rows["container_id"]).all()
    assert (s["parameter_id"][rows["sensor_id"] - 1] == rows["parameter_id"]).all()
    key = rows["sensor_id"].astype(np.int64) * 10**14 + rows["reading_time"]
    assert len(np.unique(key)) == len(key)


def test_evenly_spaced_readings_per_sensor_day(rows):
    day = _day(rows)
    key = rows["sensor_id"].astype(np.int64) * 10**5 + day
    _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    assert (counts == RPD[rows["parameter_id"]][np.unique(inv, return_index=True)[1]]).all()
    temp = rows["parameter_id"] == PARAM_ID["temperature"]
    order = np.lexsort((rows["reading_time"][temp], key[temp]))
    gaps = np.diff(rows["reading_time"][temp][order])[np.diff(key[temp][order]) == 0]
    assert (gaps == 8 * 3600 * 10**6).all()


def test_daily_mean_temperature_matches_plan(plan, faulty):
    """Readings average to the temperature that drove growth, outside the fault windows."""
    rows = faulty
    faults = YearFaults(plan_faults(plan, ReadingLayout(plan)), YEAR)
    minute = rows["reading_time"] // 60_000_000 - EPOCH_OFFSET * 1440
    in_fault = faults.locate(rows["sensor_id"].astype(np.int64), minute) >= 0
    assert in_fault.any()
    m = (rows["parameter_id"] == PARAM_ID["temperature"]) & ~in_fault
    aid, day, v = rows["assignment_id"][m], _day(rows)[m], rows["value"][m].astype(np.float64)
    key = aid.astype(np.int64) * 10**5 + day
    uniq, inv = np.unique(key, return_inverse=True)
    mean = np.bincount(inv, v) / np.bincount(inv)
    ua, ud = uniq // 10**5, uniq % 10**5
    a = plan.assignment
    planned = plan.daily["temp"][a["offset"][ua - 1] + ud - a["start"][ua - 1]]
    assert (plan.daily["day"][a["offset"][ua - 1] + ud - a["start"][ua - 1]] == ud).all()
    assert np.mean(np.abs(mean - planned) <= 0.3) >= 0.99


def _sea_daily(plan, rows, param):
    m = (rows["parameter_id"] == PARAM_ID[param]) & _is_sea(plan, rows["container_id"])
    key = rows["container_id"][m].astype(np.int64) * 10**5 + _day(rows)[m]
    uniq, inv = np.unique(key, return_inverse=True)
    return uniq, np.bincount(inv, rows["value"][m]) / np.bincount(inv)


def test_sea_temperature_and_oxygen_negatively_correlated(plan, rows):
    kt, t = _sea_daily(plan, rows, "temperature")
    ko, o = _sea_daily(plan, rows, "dissolved_oxygen")
    assert (kt == ko).all() and len(kt) > 100
    assert np.corrcoef(t, o)[0, 1] < -0.5


def _event_days(plan, etype) -> np.ndarray:
    """[area, day] mask of days inside events of one type."""
    ev = plan.climate.events
    out = np.zeros((len(plan.infra.area_geo), N_DAYS), bool)
    for t, a, s, e in zip(ev["type"], ev["area"], ev["start"], ev["end"]):
        if EVENT_TYPES[t] == etype:
            out[a, s:e] = True
    return out


def test_algae_bloom_lowers_oxygen(plan):
    bloom, depletion = _event_days(plan, "algae_bloom"), _event_days(plan, "oxygen_depletion")
    d, a = plan.daily["day"], plan.assignment
    area = plan.infra.container_area[a["container"][plan.daily["assignment"] - 1] - 1]
    sea = (area > 0) & (d >= FIRST_STORED_DAY)
    hits = sea & bloom[np.maximum(area, 1) - 1, d]
    assert hits.any(), "no algae bloom over an occupied pen in the tiny plan"
    year = int(np.bincount(DAY_YEAR[d[hits]]).argmax())  # the year with most bloom pen-days
    r = _concat(render_readings(plan, year))
    m = (r["parameter_id"] == PARAM_ID["oxygen_saturation"]) & _is_sea(plan, r["container_id"])
    day, ar = _day(r)[m], plan.infra.container_area[r["container_id"][m] - 1] - 1
    v = r["value"][m]
    in_bloom = bloom[ar, day]
    months, areas = np.unique(MONTH[day[in_bloom]]), np.unique(ar[in_bloom])
    other = ~in_bloom & ~depletion[ar, day] & np.isin(MONTH[day], months) & np.isin(ar, areas)
    assert in_bloom.sum() > 0 and other.sum() > 0
    assert v[in_bloom].mean() < v[other].mean() - 3.0


def test_salinity_only_at_sea_and_in_range(plan, rows):
    sal = rows["parameter_id"] == PARAM_ID["salinity"]
    assert sal.any() and _is_sea(plan, rows["container_id"][sal]).all()
    geo = plan.infra.container_geo[rows["container_id"][sal] - 1]
    for g, (lo, hi) in ((0, (33.0, 35.0)), (1, (25.0, 34.0))):  # REFERENCE 7: Faroes, Scottish lochs
        v = rows["value"][sal][geo == g]
        assert len(v) and ((v >= lo) & (v <= hi)).all(), (g, v.min(), v.max())
    fw_only = np.isin(rows["parameter_id"], [PARAM_ID[p] for p in ("no2", "no3", "nh4")])
    assert not _is_sea(plan, rows["container_id"][fw_only]).any()


def test_value_ranges(plan, rows):
    sea = _is_sea(plan, rows["container_id"])
    p, v = rows["parameter_id"], rows["value"]
    ph = p == PARAM_ID["ph"]
    assert ((v[ph & sea] >= 7.8) & (v[ph & sea] <= 8.2)).all()
    assert ((v[ph & ~sea] >= 6.5) & (v[ph & ~sea] <= 8.0)).all()
    assert 7.0 <= np.median(v[ph & ~sea]) <= 7.5
    co2 = p == PARAM_ID["co2"]
    assert v[co2 & ~sea].max() <= 20 and np.median(v[co2 & sea]) < np.median(v[co2 & ~sea])
    do = p == PARAM_ID["dissolved_oxygen"]
    assert 7.0 <= np.median(v[do & sea]) <= 11.0 and v[do].min() > 2.0
    sat = (p == PARAM_ID["oxygen_saturation"]) & ~sea
    assert 85.0 <= v[sat].min() and v[sat].max() <= 103.0
    assert 89.0 <= np.percentile(v[sat], 1) and np.percentile(v[sat], 99) <= 101.0


def test_deterministic_and_chunk_independent(plan, faulty):
    """With its faults: a stuck sensor's value and a spike's offset do not depend on the chunks."""
    rows = faulty
    again = _concat(render_readings(plan, YEAR))
    _concat(render_readings(plan, 2017))
    after_other = _concat(render_readings(plan, YEAR))
    small = _concat(render_readings(plan, YEAR, chunk_rows=5_000))
    for k in rows:
        for other in (again, after_other, small):
            np.testing.assert_array_equal(rows[k], other[k])


def test_chunks_never_exceed_chunk_rows(plan):
    sizes = [len(c["value"]) for c in render_readings(plan, YEAR, chunk_rows=3_000)]
    assert len(sizes) > 10 and max(sizes) <= 3_000
    with pytest.raises(ValueError):
        next(render_readings(plan, YEAR, chunk_rows=5))
    with pytest.raises(ValueError):
        next(render_readings(plan, 2014))


def test_environmental_events(plan):
    ev = plan.climate.events
    per_year = [render_environmental_events(plan, y) for y in range(2015, 2025)]
    ids = np.concatenate([e["id"] for e in per_year])
    expected = np.flatnonzero(ev["end"] > FIRST_STORED_DAY) + 1
    np.testing.assert_array_equal(np.sort(ids), expected)
    for y, e in zip(range(2015, 2025), per_year):
        assert e["id"].dtype == np.int32 and e["year"].dtype == np.int16 and (e["year"] == y).all()
        start = ev["start"][e["id"] - 1]
        assert ((start >= year_days(y)[0]) | (y == 2015)).all() and (start < year_days(y)[1]).all()
        np.testing.assert_array_equal(e["start_date"], start + EPOCH_OFFSET)
        ends = np.array([x if x is not None else 10**9 for x in e["end_date"]])
        assert (ends >= e["start_date"]).all()
        assert set(e["severity"]) <= {"low", "medium", "high"} and set(e["event_type"]) <= set(EVENT_TYPES)
        assert (e["area_id"] >= 1).all() and e["magnitude"].dtype == np.float32
    last = per_year[-1]["end_date"]
    assert all(x is None or x <= N_DAYS - 1 + EPOCH_OFFSET for x in last)


def test_reference_cadence_reads_every_parameter_6_to_16_times_a_day(plan):
    """docs/domain.md §7.1: the `reference` cadence gives each sensor 6-16 readings a day (the default
    cadence keeps the presets' sizes); the estimate before a run counts them exactly."""
    got = _concat(render_readings(plan, YEAR, cadence="reference",
                                  faults=_no_faults(plan, YEAR, 1, "reference")))
    key = got["sensor_id"].astype(np.int64) * 100_000 + _day(got)
    _, per_sensor_day = np.unique(key, return_counts=True)
    assert per_sensor_day.min() >= 6 and per_sensor_day.max() <= 16
    gaps = sum(len(c["value"]) for c in render_readings(plan, YEAR, cadence="reference"))
    assert gaps == estimate_readings(plan, [YEAR], cadence="reference") > 0


def test_reference_cadence_is_refused_at_full_scale_in_one_line(tmp_path):
    """At `full` the reference cadence is refused before any simulation, with the size it would have."""
    from aquamind_assets.config.scenario import ScenarioError
    from aquamind_assets.runtime.plan_cache import ensure_built
    from aquamind_assets.sim.readings import refuse_oversized_cadence

    small = load_scenario(scale="small", scale_overrides={"readings_cadence": "reference"})
    refuse_oversized_cadence(small)  # runs at small
    full = load_scenario(scale="full", scale_overrides={"readings_cadence": "reference"})
    with pytest.raises(ScenarioError) as e:
        ensure_built(full)
    line = str(e.value)
    assert "\n" not in line and "M readings a year" in line and "tiny or small" in line, line
