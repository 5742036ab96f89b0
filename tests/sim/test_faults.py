"""Sensor faults drawn from a tiny plan: deterministic, every kind present, the rate knob, and what
each kind does to the rendered readings."""
from __future__ import annotations

import numpy as np
import pytest

from aquamind_assets.config.scenario import ScenarioError, load_scenario
from aquamind_assets.export.readings import render_environment, render_readings
from aquamind_assets.sim.faults import KINDS, YearFaults, draw_faults, plan_faults
from aquamind_assets.sim.plan import build_plan
from aquamind_assets.sim.readings import ReadingLayout

YEAR = 2020


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_scenario(scale="tiny"))


@pytest.fixture(scope="module")
def lay(plan):
    return ReadingLayout(plan)


def _tables(plan, year) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, list] = {}
    for table, cols in render_environment(plan, year):
        out.setdefault(table.name, []).append(cols)
    return {name: {k: np.ma.concatenate([c[k] for c in parts]) if np.ma.isMaskedArray(parts[0][k])
                   else np.concatenate([c[k] for c in parts]) for k in parts[0]} for name, parts in out.items()}


@pytest.fixture(scope="module")
def year(plan):
    return _tables(plan, YEAR)


def test_every_kind_is_recorded_each_year(plan):
    for y in range(2015, 2025):
        kinds = set(_tables(plan, y)["sensor_fault"]["kind"])
        assert kinds == set(KINDS), (y, kinds)


def test_faults_are_drawn_the_same_whatever_ran_before(plan, lay, year):
    a, b = draw_faults(plan, lay, plan.stats["sensor_faults"]), draw_faults(plan, lay, plan.stats["sensor_faults"])
    for k in ("sensor", "start", "end", "kind", "offset"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    _tables(plan, 2017)
    again = _tables(plan, YEAR)
    for name, cols in year.items():
        for k, v in cols.items():
            np.testing.assert_array_equal(np.ma.getdata(v), np.ma.getdata(again[name][k]), err_msg=f"{name}.{k}")


def test_faults_of_a_sensor_never_overlap_and_stay_in_their_year(plan, lay):
    f = plan_faults(plan, lay)
    same = f.sensor[1:] == f.sensor[:-1]
    assert (f.start[1:][same] >= f.end[:-1][same]).all()
    assert ((f.start // 1440) // 1 >= 0).all() and (f.end > f.start).all()
    for y in (2015, YEAR, 2024):
        i = f.of_year(y)
        assert len(i) and (YearFaults(f, y).end <= (YearFaults(f, y).start // 1440 + 366) * 1440).all()


def test_rate_knob_scales_each_kind_and_zero_switches_it_off(plan, lay):
    base = plan.stats["sensor_faults"]
    counts = np.bincount(draw_faults(plan, lay, base).kind, minlength=len(KINDS))
    doubled = np.bincount(draw_faults(plan, lay, {**base, "spike": 2 * base["spike"]}).kind, minlength=len(KINDS))
    assert 1.8 < doubled[KINDS.index("spike")] / counts[KINDS.index("spike")] < 2.2
    none = draw_faults(plan, lay, {k: 0 for k in KINDS})
    assert len(none.sensor) == 0
    assert len(draw_faults(plan, lay, {**base, "stuck": 0}).kind) and not (
        draw_faults(plan, lay, {**base, "stuck": 0}).kind == KINDS.index("stuck")).any()
    clean = list(render_readings(plan, YEAR, faults=YearFaults(none, YEAR)))
    faulty = list(render_readings(plan, YEAR))
    assert sum(len(c["value"]) for c in clean) > sum(len(c["value"]) for c in faulty)  # the gaps


@pytest.mark.parametrize("value", [-1, 51, "often", True])
def test_bad_rate_is_refused_in_one_line(value):
    with pytest.raises(ScenarioError) as e:
        load_scenario(scale="tiny", sensor_faults={"spike": value})
    assert "\n" not in str(e.value) and "sensor_faults.spike" in str(e.value) and "per sensor-year" in str(e.value)
    with pytest.raises(ScenarioError, match="unknown scenario key 'sensor_faults.flood'"):
        load_scenario(scale="tiny", sensor_faults={"flood": 1})


def _in_window(readings, faults, kind):
    """Per fault of the kind: the readings of its sensor inside its window."""
    t = readings["reading_time"]
    for i in np.flatnonzero(faults["kind"] == kind):
        yield i, (readings["sensor_id"] == faults["sensor_id"][i]) & (t >= faults["start_time"][i]) & (
            t < faults["end_time"][i])


def test_what_each_kind_does_to_the_readings(year):
    r, f = year["environmental_reading"], year["sensor_fault"]
    for _, m in _in_window(r, f, "gap"):
        assert not m.any()  # a gap is missing rows
    for i, m in _in_window(r, f, "stuck"):
        assert m.sum() >= 2 and (r["value"][m] == f["magnitude"][i]).all()
    for i, m in _in_window(r, f, "spike"):
        assert m.sum() == 1 and abs(f["magnitude"][i]) > 0
    assert f["magnitude"].mask[f["kind"] == "gap"].all() and not f["magnitude"].mask[f["kind"] != "gap"].any()


def test_detectors_find_spikes_and_stuck_sensors(plan):
    """Event-level precision and recall of the streamed detectors against the faults (the stored
    version of this score is the dbt model fault_detection_scores)."""
    for y in (2016, YEAR):
        t = _tables(plan, y)
        f, flag = t["sensor_fault"], t["sensor_fault_flag"]
        day0 = flag["flag_date"].astype(np.int64) * 86_400_000_000
        for kind in ("gap", "spike", "stuck"):
            fi, gi = np.flatnonzero(f["kind"] == kind), np.flatnonzero(flag["kind"] == kind)
            hit = ((f["sensor_id"][fi, None] == flag["sensor_id"][None, gi])
                   & (f["start_time"][fi, None] < day0[None, gi] + 86_400_000_000)
                   & (f["end_time"][fi, None] > day0[None, gi]))
            recall, precision = hit.any(axis=1).mean(), hit.any(axis=0).mean()
            assert recall >= 0.9 and precision >= 0.9, (y, kind, recall, precision)


def test_flags_do_not_depend_on_the_chunks(plan):
    """The detectors carry each sensor's last days from chunk to chunk: small chunks flag the same days."""
    from aquamind_assets.export.detectors import FaultDetectors
    from aquamind_assets.export.readings import daily_rollup
    from aquamind_assets.sim.readings import readings_per_day

    def flags(chunk_rows):
        det = FaultDetectors(readings_per_day())
        got = [det.feed(daily_rollup(c)) for c in render_readings(plan, YEAR, chunk_rows=chunk_rows)]
        f = {k: np.concatenate([g[k] for g in got]) for k in got[0]}
        return sorted(zip(f["sensor_id"].tolist(), f["flag_date"].tolist(), f["kind"].tolist()))
    whole = flags(2_000_000)
    assert len(whole) > 100 and flags(5_000) == whole
