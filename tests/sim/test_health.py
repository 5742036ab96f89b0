"""Health and growth-sample tables rendered from a tiny plan: windows, ids, determinism, lice season,
treatments that follow counts, no antibiotics in the Faroes, plausible condition factors."""
from __future__ import annotations

import numpy as np
import pytest

from aquamind_assets.config.scenario import load_scenario
from aquamind_assets.export.growth import render_growth
from aquamind_assets.export.health import render_health, rendered
from aquamind_assets.sim.calendar import EPOCH_OFFSET, FIRST_STORED_DAY, MONTH, N_DAYS, YEAR, year_days
from aquamind_assets.sim.plan import build_plan
from aquamind_assets.sim.reference import TREATMENT_ID

YEARS = range(2015, 2025)
DATED = {"batch.growth_sample": "sample_date", "health.vaccination": "vaccination_date",
         "health.lice_count": "count_date", "health.treatment": "treatment_date",
         "health.journal_entry": "entry_date", "health.health_sampling_event": "sampling_date",
         "health.health_lab_sample": "sample_date"}
KEYS = {"health.fish_parameter_score": ("observation_id", "parameter_id")}


def _render(plan, year: int) -> dict[str, dict[str, np.ndarray]]:
    return {table.qualified: cols for table, cols in {**rendered(render_health(plan, year)), **render_growth(plan, year)}.items()}


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_scenario(scale="tiny"))


@pytest.fixture(scope="module")
def years(plan):
    return {y: _render(plan, y) for y in YEARS}


@pytest.fixture(scope="module")
def every(years):
    """Each table over all years, concatenated."""
    names = years[2015].keys()
    return {n: {c: np.concatenate([years[y][n][c] for y in YEARS]) for c in years[2015][n]} for n in names}


def _day(dates) -> np.ndarray:
    return np.asarray(dates, np.int64) - EPOCH_OFFSET


def _threshold(day) -> np.ndarray:
    m = MONTH[np.asarray(day)]
    return np.where((m >= 2) & (m <= 6), 0.5, 1.0)


def test_every_row_inside_its_assignment_window_and_year(plan, years):
    a = plan.assignment
    end = np.where(a["end"] < 0, N_DAYS, a["end"])
    for y in YEARS:
        first, stop = year_days(y)
        for name, col in DATED.items():
            t = years[y][name]
            i, day = t["assignment_id"] - 1, _day(t[col])
            assert ((day >= a["start"][i]) & (day < end[i])).all(), (y, name)
            carried = (y == 2015) & (name == "health.treatment") & (day < FIRST_STORED_DAY)
            assert (((day >= first) & (day < stop)) | carried).all(), (y, name)
            assert (t["year"] == y).all()
            if "batch_id" in t:
                assert (a["batch"][i] == t["batch_id"]).all(), (y, name)


def test_ids_unique_across_years_and_deterministic(plan, years, every):
    for name, t in every.items():
        cols = KEYS.get(name, ("id",))
        key = np.rec.fromarrays([t[c] for c in cols])
        assert len(np.unique(key)) == len(key) > 0, name
    again = _render(plan, 2020)
    for name, t in again.items():
        for col, v in t.items():
            np.testing.assert_array_equal(v, years[2020][name][col], err_msg=f"{name}.{col}")


def test_a_year_never_depends_on_what_else_ran(years):
    alone = _render(build_plan(load_scenario(scale="tiny")), 2019)  # a fresh plan, 2019 rendered first
    for name, t in alone.items():
        for col, v in t.items():
            np.testing.assert_array_equal(v, years[2019][name][col], err_msg=f"{name}.{col}")


def test_lice_peak_late_summer_autumn_and_low_in_winter(every):
    li = every["health.lice_count"]
    month = MONTH[_day(li["count_date"])]
    af = li["lice_type_id"] == 4  # L. salmonis adult female
    per_fish = li["count_value"][af] / li["fish_sampled"][af]
    peak, winter = per_fish[np.isin(month[af], (8, 9, 10))].mean(), per_fish[np.isin(month[af], (1, 2, 3))].mean()
    assert peak > 2 * winter and 0.1 < peak < 1.5
    chal = li["lice_type_id"] == 1
    summer = np.isin(month, (6, 7, 8, 9))
    ratio = lambda m: li["count_value"][chal & m].sum() / max(li["count_value"][af & m].sum(), 1)  # noqa: E731
    assert ratio(summer) > ratio(~summer)  # young stages more in summer
    cal = li["lice_type_id"] >= 5
    assert li["count_value"][cal].sum() < li["count_value"][~cal].sum() / 2  # Caligus the smaller species


def test_scottish_lice_treatments_follow_a_count_above_the_limit(plan, every):
    t, li = every["health.treatment"], every["health.lice_count"]
    af = li["lice_type_id"] == 4
    count = {(int(a), int(d)): int(c) for a, d, c in zip(li["assignment_id"][af], _day(li["count_date"][af]),
                                                        li["count_value"][af])}
    scot = plan.batch["geo"][t["batch_id"] - 1] == 1
    lice = np.array([v is not None for v in t["lice_before"]])
    sel = np.flatnonzero(scot & lice & (_day(t["treatment_date"]) > FIRST_STORED_DAY))
    assert len(sel) > 5
    lower = 0
    for i in sel:
        ass, day = int(t["assignment_id"][i]), int(_day(t["treatment_date"][i]))
        before = count[(ass, day - 1)] / 20
        assert before > _threshold(day - 1) and before == pytest.approx(t["lice_before"][i], abs=1e-6)
        later = sorted(d for (a, d) in count if a == ass and d > day)
        lower += bool(later) and count[(ass, later[0])] / 20 < before
    assert lower >= 0.7 * len(sel)


def test_no_antibiotics_in_the_faroes_and_withholding_respected(plan, every):
    t = every["health.treatment"]
    faroes = plan.batch["geo"][t["batch_id"] - 1] == 0
    assert not (faroes & (t["treatment_type_id"] == TREATMENT_ID["ANTIBIOTIC"])).any()
    assert (~faroes & (t["treatment_type_id"] == TREATMENT_ID["ANTIBIOTIC"])).any()
    start = _day(t["treatment_date"])
    w_end = start + t["duration_days"] + t["withholding_days"]
    stored = np.array([-1 if v is None else v for v in t["withholding_end_date"]], np.int64)
    np.testing.assert_array_equal(np.where(w_end < N_DAYS, w_end + EPOCH_OFFSET, -1), stored)
    h = plan.harvest
    for a, s, e in zip(t["assignment_id"], start, w_end):
        assert not ((h["assignment"] == a) & (h["day"] >= s) & (h["day"] < e)).any()


def test_vaccinated_at_25_g_in_freshwater_before_sea_transfer(plan, every):
    v, a = every["health.vaccination"], plan.assignment
    assert len(v["id"]) and (v["avg_weight_g"] >= 25).all() and (a["stage"][v["assignment_id"] - 1] < 5).all()
    for b, d in zip(v["batch_id"], _day(v["vaccination_date"])):
        sea = a["start"][(a["batch"] == b) & (a["stage"] == 5)]
        assert not len(sea) or d < sea.min()


def test_condition_factor_and_length_plausible(every):
    g = every["batch.growth_sample"]
    k = 100 * g["avg_weight_g"].astype(float) / g["avg_length_cm"].astype(float) ** 3
    assert ((k >= 1.0) & (k <= 1.4)).all() and np.allclose(k, g["condition_factor"], rtol=1e-4)
    for lo, hi, lmin, lmax in ((480, 520, 31, 38), (4800, 5200, 68, 81)):  # 500 g ~34 cm, 5 kg ~72 cm
        m = (g["avg_weight_g"] > lo) & (g["avg_weight_g"] < hi)
        assert m.any() and (g["avg_length_cm"][m] > lmin).all() and (g["avg_length_cm"][m] < lmax).all()
    assert ((g["std_weight_g"] >= 0.1 * g["avg_weight_g"] * 0.99) & (g["std_weight_g"] <= 0.2 * g["avg_weight_g"] * 1.01)).all()
    f = every["health.individual_fish_observation"]
    kf = 100 * f["weight_g"].astype(float) / f["length_cm"].astype(float) ** 3
    assert ((kf >= 1.0) & (kf <= 1.4)).all()


def test_health_checks_are_computed_from_their_fish(every):
    e, f = every["health.health_sampling_event"], every["health.individual_fish_observation"]
    order = np.argsort(e["id"])
    e = {k: v[order] for k, v in e.items()}
    idx = np.searchsorted(e["id"], f["sampling_event_id"])
    assert (e["id"][idx] == f["sampling_event_id"]).all()
    n = np.bincount(idx, minlength=len(e["id"]))
    np.testing.assert_array_equal(n, e["fish_sampled"])
    assert ((n >= 10) & (n <= 30)).all()
    w = np.bincount(idx, weights=f["weight_g"].astype(float)) / n
    assert np.allclose(w, e["avg_weight_g"], rtol=1e-5)


def test_scores_mostly_healthy_and_worse_in_outbreaks(plan, every):
    s, f, e = every["health.fish_parameter_score"], every["health.individual_fish_observation"], \
        every["health.health_sampling_event"]
    assert s["score"].min() >= 0 and s["score"].max() <= 3 and (s["score"] <= 1).mean() > 0.85
    assert len(s["score"]) == 9 * len(f["id"])
    order = np.argsort(e["id"])
    e = {k: v[order] for k, v in e.items()}
    ob = plan.outbreak
    ev_batch, ev_day = plan.assignment["batch"][e["assignment_id"] - 1], _day(e["sampling_date"])
    sick = np.zeros(len(e["id"]), bool)
    for b, st, en in zip(ob["batch"], ob["start"], ob["end"]):
        sick |= (ev_batch == b) & (ev_day >= st) & (ev_day < en)
    fish_sick = np.repeat(sick[np.searchsorted(e["id"], f["sampling_event_id"])], 9)
    assert fish_sick.any() and s["score"][fish_sick].mean() > s["score"][~fish_sick].mean() + 0.2


def test_lab_results_after_sample_and_journal_modest(every):
    lab = every["health.health_lab_sample"]
    res = np.array([np.inf if r is None else r for r in lab["results_date"]])
    assert (res > lab["sample_date"]).all() and all(lab["finding"])
    j = every["health.journal_entry"]
    assert set(j["category"]) == {"observation", "issue", "action", "diagnosis", "treatment", "vaccination", "sample"}
    assert set(j["severity"]) <= {"low", "medium", "high"}
    assert len(j["id"]) < len(every["health.lice_count"]["id"]) / 10
    assert YEAR[_day(j["entry_date"])].min() >= 2015
