"""The production plan at tiny scale: container schedule, conservation, continuity, weights at
transfers, warm start, harvest size, sea TGC, withholding, and the yearly rendering of it.

Every figure is computed here from the plan's arrays (REFERENCE 2-5, 8-10), never read from
the plan's own stats.
"""
from __future__ import annotations

import numpy as np
import pytest

from aquamind_assets.config.scenario import load_scenario
from aquamind_assets.export.batches import render_batches
from aquamind_assets.export.harvest import render_harvest
from aquamind_assets.export.mortality import render_mortality
from aquamind_assets.sim import biology as bio
from aquamind_assets.sim.calendar import EPOCH_OFFSET, FIRST_STORED_DAY, N_DAYS, day_of, year_days
from aquamind_assets.sim.plan import build_plan
from aquamind_assets.sim.reference import DURATION, TREATMENTS, WITHHOLDING
from aquamind_assets.sim.sea import base_season
from aquamind_assets.warehouse.tables import HARVEST_LOT


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_scenario(scale="tiny"))


def _end(a) -> np.ndarray:
    """Exclusive end day; an open assignment (end -1) runs past the data."""
    return np.where(a["end"] < 0, N_DAYS + 10**6, a["end"]).astype(np.int64)


def _rows(plan, i: int) -> slice:
    a = plan.assignment
    o = int(a["offset"][i])
    return slice(o, o + int(a["length"][i]))


def _harvested_pens(plan) -> np.ndarray:
    return plan.harvest["assignment"].astype(np.int64) - 1


def test_plan_is_not_trivial(plan):
    a = plan.assignment
    assert len(plan.batch["id"]) >= 20
    assert len(a["batch"]) >= 300
    assert np.bincount(a["stage"], minlength=6).min() > 0  # every stage is used
    assert len(plan.harvest["day"]) >= 30
    assert len(plan.workflow["id"]) >= 100
    assert len(plan.treatment["day"]) > 0
    # the flattened daily state is exactly one row per assignment-day
    assert len(plan.daily["day"]) == int(a["length"].sum())
    assert (a["length"] >= 1).all()


# ------------------------------------------------------------------ schedule
def test_no_container_holds_two_assignments_at_once(plan):
    a = plan.assignment
    start, end = a["start"].astype(np.int64), _end(a)
    order = np.lexsort((start, a["container"]))
    c, s, e = a["container"][order], start[order], end[order]
    same = c[1:] == c[:-1]
    assert same.sum() > 100, "containers are reused: the check examines consecutive uses"
    overlap = same & (s[1:] < e[:-1])
    assert not overlap.any(), f"{overlap.sum()} overlapping uses, e.g. container {c[1:][overlap][:3]}"


def test_cleaning_and_fallow_gaps(plan):
    """Trays 7 d and tanks 14 d between uses; a sea site lies fallow >= 60 d (FO) / 28 d (SC)."""
    a, infra = plan.assignment, plan.infra
    start, end = a["start"].astype(np.int64), _end(a)
    order = np.lexsort((start, a["container"]))
    c, s, e, st = a["container"][order], start[order], end[order], a["stage"][order]
    same = c[1:] == c[:-1]
    gap = s[1:] - e[:-1]
    need = np.where(st[1:] == bio.EGG, 7, 14)
    fw = same & (st[1:] < bio.ADULT)
    assert fw.sum() > 50
    assert (gap[fw] >= need[fw]).all(), f"min freshwater gap {gap[fw].min()}"
    # sea: per site, the next generation arrives >= fallow days after the last pen of the previous one
    pens = a["stage"] == bio.ADULT
    site = infra.container_area[a["container"][pens] - 1]
    b = a["batch"][pens]
    gens = {}
    for s_, bt, st_, en in zip(site, b, start[pens], end[pens]):
        lo, hi = gens.get((s_, bt), (10**9, -1))
        gens[(s_, bt)] = (min(lo, st_), max(hi, en))
    checked = 0
    for site_id in np.unique(site):
        cycles = sorted(v for (s_, _), v in gens.items() if s_ == site_id)
        geo = int(infra.area_geo[site_id - 1])
        for (s0, e0), (s1, _) in zip(cycles, cycles[1:]):
            assert s1 - e0 >= (60 if geo == 0 else 28), f"site {site_id}: fallow {s1 - e0} d"
            checked += 1
    assert checked > 5


# ------------------------------------------------------------------ populations
def test_populations_are_whole_non_negative_and_continuous(plan):
    a, d = plan.assignment, plan.daily
    assert d["pop"].dtype.kind == "i" and d["base"].dtype.kind == "i" and d["event"].dtype.kind == "i"
    deaths = d["base"].astype(np.int64) + d["event"]
    assert (d["pop"] >= 0).all() and (d["base"] >= 0).all() and (d["event"] >= 0).all()
    assert (deaths <= d["pop"]).all()
    same = d["assignment"][1:] == d["assignment"][:-1]
    assert same.sum() > 50_000
    assert (d["day"][1:][same] == d["day"][:-1][same] + 1).all(), "one row per consecutive day"
    broken = same & (d["pop"][1:] != d["pop"][:-1] - deaths[:-1])
    assert not broken.any(), f"{broken.sum()} breaks in pop[d+1] = pop[d] - deaths[d]"
    # the first row of each assignment is its stocking count n0
    first = d["pop"][a["offset"]]
    assert (first == a["n0"]).all()
    assert (a["n0"] > 0).all()


def test_population_is_conserved_across_every_transfer(plan):
    a, d, wf, ac = plan.assignment, plan.daily, plan.workflow, plan.action
    pop, deaths = d["pop"].astype(np.int64), d["base"].astype(np.int64) + d["event"]
    n_wf = len(wf["id"])
    assert n_wf > 100 and len(ac["count"]) > n_wf
    assert (ac["count"] > 0).all()
    # actions of a workflow sum to its transferred count; source = transferred + losses
    per_wf = np.bincount(ac["workflow"], weights=ac["count"], minlength=n_wf + 1)[1:]
    assert (per_wf == wf["transferred"]).all()
    assert (wf["source"] - wf["mortality"] == wf["transferred"]).all()
    assert (wf["mortality"] >= 0).all()
    # every destination starts with exactly what moved into it, on the transfer day
    into = np.bincount(ac["dst"], weights=ac["count"], minlength=len(a["n0"]) + 1)[1:]
    dests = np.unique(ac["dst"]) - 1
    assert (into[dests] == a["n0"][dests]).all()
    assert (into[dests] == pop[a["offset"][dests]]).all()
    assert (a["start"][ac["dst"] - 1] == ac["day"]).all()
    # every source gives away exactly its survivors of the last day (nothing appears or vanishes)
    out_of = np.bincount(ac["src"], weights=ac["count"], minlength=len(a["n0"]) + 1)[1:]
    srcs = np.unique(ac["src"]) - 1
    last = a["offset"][srcs] + a["length"][srcs] - 1
    assert (out_of[srcs] == pop[last] - deaths[last]).all()
    assert (a["end"][ac["src"] - 1] == ac["day"]).all(), "the source leaves on the transfer day"
    # every stage after the eggs was stocked through a transfer
    later = np.flatnonzero(a["stage"] > bio.EGG)
    assert np.isin(later + 1, ac["dst"]).all()
    # transfer losses are 1-2 % of the fish moved, except culls when capacity was short
    loss = wf["mortality"] / np.maximum(wf["source"], 1)
    assert np.mean((loss >= 0.005) & (loss <= 0.025)) >= 0.9


def test_destination_weight_is_the_weight_of_the_fish_it_receives(plan):
    a, d, ac, wf = plan.assignment, plan.daily, plan.action, plan.workflow
    checked = 0
    for wid in wf["id"]:
        k = ac["workflow"] == wid
        src, dst, n = ac["src"][k] - 1, ac["dst"][k] - 1, ac["count"][k].astype(float)
        # each destination starts at the mean weight of the fish moved into it (REFERENCE 3.14)
        dests = np.unique(dst)
        received = np.bincount(dst, weights=ac["biomass"][k])[dests] * 1000 / np.bincount(dst, weights=n)[dests]
        w0 = a["w0"][dests]
        assert np.all(np.abs(w0 / received - 1) <= 0.001), (wid, received, w0)
        first_day_w = d["weight"][a["offset"][dests]]
        assert np.allclose(first_day_w, w0)
        # weight never resets: the fish are at least as heavy as on the sources' last day
        pooled = ac["biomass"][k].sum() * 1000 / n.sum()
        last_w = d["weight"][a["offset"][np.unique(src)] + a["length"][np.unique(src)] - 1]
        src_pooled = np.average(last_w, weights=np.bincount(src, weights=n)[np.unique(src)])
        assert pooled >= src_pooled * 0.999 and pooled <= src_pooled * 1.15
        checked += 1
    assert checked == len(wf["id"]) > 100


# ------------------------------------------------------------------ warm start
def test_warm_start_on_2015_01_01(plan):
    a, d = plan.assignment, plan.daily
    open_then = (a["start"] < FIRST_STORED_DAY) & (_end(a) > FIRST_STORED_DAY)
    assert open_then.sum() >= 10
    on = d["day"] == FIRST_STORED_DAY
    alive = np.unique(d["assignment"][on]) - 1
    assert set(alive.tolist()) == set(np.flatnonzero(open_then).tolist())
    # a running operation, not an empty farm: eggs/juveniles in freshwater and fish at sea at once.
    # (Not all six stages: early batches go to sea as ~120 g smolts, skipping post-smolt by design.)
    stages = set(a["stage"][alive].tolist())
    assert len(stages) >= 3 and bio.ADULT in stages and min(stages) <= bio.PARR, sorted(stages)
    batches = np.unique(a["batch"][alive])
    assert len(batches) >= 5
    # every stage is occupied on some day of the first stored year
    first, stop = year_days(2015)
    in_2015 = np.unique(d["assignment"][(d["day"] >= first) & (d["day"] < stop)]) - 1
    assert set(a["stage"][in_2015].tolist()) >= {bio.EGG, bio.FRY, bio.PARR, bio.SMOLT, bio.ADULT}
    assert (d["pop"][on] > 0).all()
    # the simulation ran years before: some batches were already harvested before 2015
    assert (plan.harvest["day"] < FIRST_STORED_DAY).any()


# ------------------------------------------------------------------ harvest
def test_harvest_weights_and_geographies(plan):
    h, bt = plan.harvest, plan.batch
    w = h["weight"].astype(float)
    assert len(w) >= 30
    assert np.mean((w >= 4500) & (w <= 6500)) >= 0.9
    geo = bt["geo"][h["batch"] - 1]
    assert (geo == 0).sum() >= 5 and (geo == 1).sum() >= 5
    assert np.median(w[geo == 0]) > np.median(w[geo == 1]), "Faroese fish are harvested heavier"
    # the harvest is the pen's last day, with the pen's fish of that day
    pens = _harvested_pens(plan)
    assert (plan.assignment["stage"][pens] == bio.ADULT).all()
    last = plan.assignment["offset"][pens] + plan.assignment["length"][pens] - 1
    assert (plan.daily["day"][last] == h["day"]).all()
    assert (plan.daily["pop"][last] == h["count"]).all()
    # a pen harvested on the last simulated day leaves after the data: stored open (end -1)
    assert (plan.assignment["end"][pens] == np.where(h["day"] + 1 >= N_DAYS, -1, h["day"] + 1)).all()
    assert len(np.unique(pens)) == len(pens), "a pen is harvested once"


def test_sea_tgc_from_daily_weight_and_temperature(plan):
    """TGC = 1000 * (W_end^(1/3) - W_0^(1/3)) / sum(T) over each harvested pen's sea days."""
    d = plan.daily
    tgcs = []
    for i in _harvested_pens(plan):
        r = _rows(plan, i)
        w, t = d["weight"][r].astype(float), d["temp"][r].astype(float)
        assert len(w) > 200, "months at sea"
        # weight is at the start of each day: growth to the last day used the temps before it
        tgcs.append(1000 * (np.cbrt(w[-1]) - np.cbrt(w[0])) / t[:-1].sum())
    tgcs = np.array(tgcs)
    assert len(tgcs) >= 30
    share = np.mean((tgcs >= 2.5) & (tgcs <= 3.5))
    assert share >= 0.9, f"only {share:.0%} of pens in TGC 2.5-3.5: {np.percentile(tgcs, [5, 50, 95])}"


def test_no_harvest_inside_a_withholding_window(plan):
    tr, h = plan.treatment, plan.harvest
    assert len(tr["day"]) > 20
    assert set(np.unique(tr["type"]).tolist()) <= set(range(1, len(DURATION)))
    harvest_day = dict(zip(h["assignment"].tolist(), h["day"].tolist()))
    examined = 0
    for ass, day, t in zip(tr["assignment"].tolist(), tr["day"].tolist(), tr["type"].tolist()):
        if ass not in harvest_day:
            continue
        examined += 1
        until = day + int(DURATION[t]) + int(WITHHOLDING[t])
        assert not (day <= harvest_day[ass] < until), (ass, day, t, harvest_day[ass])
        assert harvest_day[ass] >= day, "a treatment after harvest"
    assert examined > 10
    # withholding mattered somewhere: at least one treatment type with a withholding period was used
    assert (WITHHOLDING[tr["type"]] > 0).any()


# ------------------------------------------------------------------ rendering
def _by_name(frames: dict) -> dict[str, dict[str, np.ndarray]]:
    return {table.qualified: cols for table, cols in frames.items()}


def _render_all(plan, year):
    return _by_name({**render_batches(plan, year), **render_mortality(plan, year), **render_harvest(plan, year)})


def _assert_same(x, y):
    assert x.keys() == y.keys()
    for table in x:
        assert x[table].keys() == y[table].keys(), table
        for col in x[table]:
            a, b = np.asarray(x[table][col]), np.asarray(y[table][col])
            assert a.dtype == b.dtype and a.shape == b.shape, (table, col)
            if a.dtype == object:
                assert a.tolist() == b.tolist(), (table, col)
            else:
                assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (table, col)


def test_rendering_is_deterministic_and_order_independent(plan):
    first = _render_all(plan, 2016)
    again = _render_all(plan, 2016)
    _render_all(plan, 2015)
    _render_all(plan, 2023)
    after = _render_all(plan, 2016)
    _assert_same(first, again)
    _assert_same(first, after)
    assert sum(len(t["year"]) for t in first.values()) > 1000


@pytest.mark.parametrize("year", [2015, 2016, 2024])
def test_rendered_rows_belong_to_their_year(plan, year):
    out = _render_all(plan, year)
    first, stop = year_days(year)
    lo, hi = first + EPOCH_OFFSET, stop + EPOCH_OFFSET
    s = out["batch.assignment_daily_state"]
    assert len(s["state_date"]) > 1000
    assert ((s["state_date"] >= lo) & (s["state_date"] < hi)).all()
    assert (s["year"] == year).all()
    ev = out["batch.mortality_event"]
    assert ((ev["event_date"] >= lo) & (ev["event_date"] < hi)).all()
    # assignments owned by the year: started in it (or before 2015 for 2015); none ends after 2024
    ba = out["batch.batch_container_assignment"]
    assert len(ba["id"]) > 0
    start_year = ba["assignment_date"].astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    assert (np.maximum(start_year, 2015) == year).all()
    dep = np.array([x for x in ba["departure_date"] if x is not None])
    assert (dep <= day_of("2024-12-31") + EPOCH_OFFSET + 1).all()
    assert (np.array([x is None for x in ba["departure_date"]]) == ba["is_active"]).all()
    if year == 2015:
        assert len(out["batch.opening_state"]["assignment_id"]) >= 10
    else:
        assert len(out["batch.opening_state"]["assignment_id"]) == 0


@pytest.mark.parametrize("year", [2016, 2020])
def test_mortality_events_sum_to_daily_deaths(plan, year):
    out = _render_all(plan, year)
    s, ev = out["batch.assignment_daily_state"], out["batch.mortality_event"]
    assert (ev["count"] > 0).all()
    assert len(ev["id"]) == len(np.unique(ev["id"]))
    key_s = s["assignment_id"].astype(np.int64) * 100_000 + s["state_date"]
    key_e = ev["assignment_id"].astype(np.int64) * 100_000 + ev["event_date"]
    assert np.isin(key_e, key_s).all(), "an event outside the daily state"
    uk, inv = np.unique(key_e, return_inverse=True)
    per_day = np.bincount(inv, weights=ev["count"])
    expected = dict(zip(key_s.tolist(), s["deaths"].tolist()))
    assert all(expected[k] == v for k, v in zip(uk.tolist(), per_day.tolist()))
    assert int(ev["count"].sum()) == int(s["deaths"].sum()) > 1000


def test_harvest_lots_conserve_fish_and_weight(plan):
    years = [y for y in range(2015, 2025) if len(_by_name(render_harvest(plan, y))["harvest.harvest_event"]["id"])]
    assert len(years) >= 5
    for y in years:
        out = _by_name(render_harvest(plan, y))
        ev, lot = out["harvest.harvest_event"], out["harvest.harvest_lot"]
        h = plan.harvest
        for eid in ev["id"]:
            k = lot["harvest_event_id"] == eid
            assert k.sum() == 5
            assert lot["unit_count"][k].sum() == h["count"][eid - 1]
            assert lot["live_weight_kg"][k].sum() == pytest.approx(h["count"][eid - 1] * h["weight"][eid - 1] / 1000)
            ratio = lot["gutted_weight_kg"][k].sum() / lot["live_weight_kg"][k].sum()
            assert 0.83 <= ratio <= 0.85


def test_sea_base_mortality_is_lowest_in_may_june():
    """REFERENCE 5: the base rate's seasonal multiplier averages 1 over a year, dips in May-June and
    joins December to January without a step (events add the August-October peak on top)."""
    doy = np.arange(1, 366)
    f = base_season(doy)
    assert abs(f.mean() - 1.0) < 0.01
    assert 121 <= doy[np.argmin(f)] <= 181
    assert abs(f[-1] - f[0]) < 0.02  # 31 December to 1 January
    assert np.abs(np.diff(f)).max() < 0.02


def test_lice_threshold_and_gutted_ratio_drive_the_data(plan):
    """The scenario's lice threshold decides when pens are treated, and its gutted ratio the gutted
    weight of every harvest lot: changing them changes the rows, in the direction they say."""
    lenient = build_plan(load_scenario(scale="tiny", biology={"lice_threshold": [3.0, 3.0],
                                                               "gutted_ratio": [0.70, 0.72]}))
    lice_types = [t[0] for t in TREATMENTS if t[3] == "lice"]
    lice_treatments = lambda p: int(np.isin(p.treatment["type"], lice_types).sum())  # noqa: E731
    assert lice_treatments(lenient) < lice_treatments(plan)
    for p, (low, high) in ((plan, (0.83, 0.85)), (lenient, (0.70, 0.72))):
        lots = [render_harvest(p, y)[HARVEST_LOT] for y in range(2015, 2025)]
        live = np.concatenate([lot["live_weight_kg"] for lot in lots])
        gutted = np.concatenate([lot["gutted_weight_kg"] for lot in lots])
        share = gutted[live > 0] / live[live > 0]
        assert len(share) and low - 1e-9 <= share.min() and share.max() <= high + 1e-9, (share.min(), share.max())


def test_harvest_grades_follow_the_pens_weight(plan):
    """REFERENCE 9.5: grades by size and quality. Heavier pens put more of their fish in the superior
    grade; every pen loses some fish to quality downgrades (B, C, reject) whatever its weight."""
    lots = [render_harvest(plan, y)[HARVEST_LOT] for y in range(2015, 2025)]
    grade = np.concatenate([lot["product_grade_id"] for lot in lots])
    fish = np.concatenate([lot["unit_count"] for lot in lots]).reshape(-1, 5).astype(np.float64)
    live = np.concatenate([lot["live_weight_kg"] for lot in lots]).reshape(-1, 5).sum(axis=1)
    assert (grade.reshape(-1, 5) == np.arange(1, 6)).all()
    per_fish = live / fish.sum(axis=1)
    superior = fish[:, 0] / fish.sum(axis=1)
    heavy = per_fish >= np.median(per_fish)
    assert superior[heavy].mean() > superior[~heavy].mean()
    assert (fish[:, 4] > 0).mean() > 0.9 and (fish[:, 2:].sum(axis=1) / fish.sum(axis=1)).min() >= 0.02


def test_bigger_smolts_spend_less_time_at_sea(plan):
    """REFERENCE 3.9 within a geography (same water, same harvest size): harvest follows growth from
    the stocked size, so a bigger smolt reaches the harvest weight sooner."""
    a, h = plan.assignment, plan.harvest
    geo = dict(zip(plan.batch["id"].tolist(), plan.batch["geo"].tolist()))
    cycles = {0: [], 1: []}
    for bid in np.unique(h["batch"]):
        pens = np.flatnonzero((a["batch"] == bid) & (a["stage"] == bio.ADULT))
        if h["early"][h["batch"] == bid].any() or (a["end"][pens] < 0).any():
            continue
        w0 = np.average(a["w0"][pens], weights=a["n0"][pens])
        cycles[geo[int(bid)]].append((w0, (a["end"][pens].max() - a["start"][pens].min()) / 30.44))
    checked = 0
    for rows in cycles.values():
        w, months = np.array(rows).reshape(-1, 2).T
        if len(w) >= 5 and np.ptp(w) >= 100:
            assert np.polyfit(w, months, 1)[0] < 0, rows
            checked += 1
    assert checked >= 1
