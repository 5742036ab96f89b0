"""The farm through the decade at tiny scale: units commissioned, retired and rebuilt, sensors replaced
and recalibrated, decided in the plan; the container schedule uses a unit only while it is in service,
readings come only from a sensor while it is installed, and a year's changes render alone."""
from __future__ import annotations

import numpy as np
import pytest

from aquamind_assets.config.scenario import load_scenario
from aquamind_assets.export.infrastructure import render_infrastructure_changes
from aquamind_assets.export.readings import render_readings
from aquamind_assets.sim.calendar import EPOCH_OFFSET, FIRST_STORED_DAY, N_DAYS, year_days
from aquamind_assets.sim.infrastructure import build_infrastructure
from aquamind_assets.sim.infrastructure_events import stored_tables
from aquamind_assets.sim.plan import build_plan
from aquamind_assets.sim.schedule import ContainerBook
from aquamind_assets.warehouse.tables import INFRASTRUCTURE_EVENT


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_scenario(scale="tiny"))


def _dates(col) -> np.ndarray:
    """Stored dates (epoch days, None = NULL) as simulation days, NULL as 'never'."""
    return np.array([10**9 if d is None else int(d) - EPOCH_OFFSET for d in col], dtype=np.int64)


def test_units_are_commissioned_retired_and_rebuilt_in_the_stored_years(plan):
    c = plan.infra.tables["container"]
    since, until = _dates(c["commissioned_on"]), _dates(c["decommissioned_on"])
    stored = (since >= FIRST_STORED_DAY) & (since < N_DAYS)
    assert stored.sum() > 0 and (since < 0).sum() > 0, "units built before the warm-up and in the decade"
    assert c["is_sea"][stored].any() and (~c["is_sea"][stored]).any(), "a new sea site and new tanks"
    retired = until < N_DAYS
    assert c["is_sea"][retired].any() and (~c["is_sea"][retired]).any(), "a site given up and tanks rebuilt"
    assert np.all(until[retired] > since[retired])
    rebuilt = np.char.endswith(c["name"].astype(str), "R")
    assert rebuilt.any() and np.all(since[rebuilt] >= FIRST_STORED_DAY)
    area = plan.infra.tables["area"]
    assert (_dates(area["decommissioned_on"]) < N_DAYS).sum() >= 1
    assert (_dates(area["commissioned_on"]) >= FIRST_STORED_DAY).sum() >= 1


def test_the_schedule_uses_a_unit_only_while_it_is_in_service(plan):
    a, c = plan.assignment, plan.infra.tables["container"]
    unit = a["container"].astype(np.int64) - 1
    end = np.where(a["end"] < 0, N_DAYS, a["end"]).astype(np.int64)
    since, until = _dates(c["commissioned_on"])[unit], _dates(c["decommissioned_on"])[unit]
    assert np.all(a["start"] >= since), "an assignment before its container was commissioned"
    assert np.all(end <= until), "an assignment after its container was retired"
    new = np.flatnonzero(_dates(c["commissioned_on"]) >= FIRST_STORED_DAY)
    assert np.isin(new, unit).any(), "a unit commissioned in the decade is used"


def test_a_unit_due_for_retirement_takes_no_booking_that_could_outlast_it():
    book = ContainerBook(np.zeros(3, np.int8), np.zeros(3), np.zeros(3), np.full(3, -1),
                         commissioned=np.array([0, 0, 200]), retired=np.array([10**9, 600, 10**9]))
    assert list(book.free_units(0, 0, 100)) == [0, 1]  # unit 2 is not commissioned yet
    assert list(book.free_units(0, 0, 150)) == [0]  # unit 1 retires within the longest booking
    assert list(book.free_units(0, 0, 250)) == [0, 2]
    with pytest.raises(AssertionError):
        book.book(np.array([1]), 700, 14)


def test_readings_come_only_from_installed_sensors(plan):
    s = stored_tables(plan.infra)["sensor"]
    since, until = _dates(s["installation_date"]), _dates(s["decommissioned_on"])
    replaced = plan.infra.lives.replacement_sensors["id"]
    assert len(replaced) > 0 and len(s["id"]) == len(plan.infra.tables["sensor"]["id"]) + len(replaced)
    seen_replacement = False
    for year in (2019, 2024):
        for chunk in render_readings(plan, year):
            sid = chunk["sensor_id"].astype(np.int64) - 1
            day = chunk["reading_time"] // 86_400_000_000 - EPOCH_OFFSET
            assert np.all((day >= since[sid]) & (day < until[sid])), "a reading from a sensor not installed"
            assert np.array_equal(s["container_id"][sid], chunk["container_id"])
            seen_replacement |= bool(np.isin(sid + 1, replaced).any())
    assert seen_replacement


def test_a_years_changes_render_alone_and_together(plan):
    again = build_plan(load_scenario(scale="tiny"))
    rows = {}
    for year in range(2015, 2025):
        (frame,) = render_infrastructure_changes(plan, year).values()
        (alone,) = render_infrastructure_changes(again, year).values()
        for k, v in frame.items():
            assert list(v) == list(alone[k]), (year, k)
        d0, d1 = year_days(year)
        day = np.asarray(frame["event_date"]) - EPOCH_OFFSET
        assert np.all((day >= d0) & (day < d1))
        rows[year] = frame
    ids = np.concatenate([r["id"] for r in rows.values()])
    assert len(np.unique(ids)) == len(ids)
    kinds = set(np.concatenate([r["event_kind"] for r in rows.values()]))
    assert kinds == {"commissioned", "retired", "rebuilt", "sensor_replaced", "sensor_calibrated"}
    assert set(frame) == {c.name for c in INFRASTRUCTURE_EVENT.columns}


def test_the_full_farm_keeps_its_stated_size_at_the_end_of_the_decade():
    """docs/domain.md §1.6-§1.8 hold for the units in service on the last stored day."""
    farm = build_infrastructure(load_scenario(scale="full"))
    c = farm.tables["container"]
    in_service = farm.lives.container_retired >= N_DAYS  # sites retire by the plan: at most one per geography
    site_pens = max(int((c["area_id"] == a).sum()) for a in farm.lives.area_retire_after)
    assert in_service.sum() - 2 * site_pens >= 4_230
    assert (c["is_sea"] & in_service).sum() - 2 * site_pens >= 480
    assert len(farm.tables["freshwater_station"]["id"]) >= 20
    assert len(farm.tables["sensor"]["id"]) - 2 * site_pens * 5 >= 37_530
