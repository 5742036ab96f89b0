"""Feed inventory and meals from a tiny plan: meals sum to the ration, the stock balances to the gram
over every year, stores are never overfilled or run dry, FIFO costing, determinism."""
from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from aquamind_assets.config.scenario import load_scenario
from aquamind_assets.export.feeding import US_PER_DAY, render_feeding
from aquamind_assets.sim.calendar import EPOCH_OFFSET, FIRST_STORED_DAY, N_DAYS, YEAR, year_days
from aquamind_assets.sim.feed_inventory import LEAD_DAYS, UNIT, feed_of_weight, simulate_feed_inventory
from aquamind_assets.sim.plan import build_plan
from aquamind_assets.sim.reference import FEEDS

YEARS = range(2015, 2025)


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_scenario(scale="tiny"))


@pytest.fixture(scope="module")
def book(plan):
    return simulate_feed_inventory(plan)


def _render(plan, year) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, list] = {}
    for table, cols in render_feeding(plan, year):
        out.setdefault(table.qualified, []).append(cols)
    return {k: {c: np.concatenate([p[c] for p in v]) for c in v[0]} for k, v in out.items()}


@pytest.fixture(scope="module")
def years(plan):
    return {y: _render(plan, y) for y in (2015, 2016, 2020)}


def test_book_is_cached_on_the_plan(plan, book):
    assert simulate_feed_inventory(plan) is book


@pytest.mark.parametrize("year", [2015, 2016, 2020])
def test_meals_sum_to_plan_feed(plan, years, year):
    ev, d = years[year]["inventory.feeding_event"], plan.daily
    row = (ev["id"] - 1) // 4
    first, stop = year_days(year)
    fed = np.flatnonzero((d["day"] >= first) & (d["day"] < stop) & (d["feed"] > 0))
    total = np.bincount(row, weights=ev["amount_kg"].astype(np.float64), minlength=len(d["day"]))
    assert np.abs(total[fed] - d["feed"][fed]).max() <= 0.5 / UNIT  # ~0.5 g
    # exact: the float4 meals of a day add up (in float4 too) to the ration rounded to 1/1024 kg
    assert np.array_equal(total[fed], np.rint(d["feed"][fed].astype(np.float64) * UNIT) / UNIT)
    assert not np.isin(row, fed, invert=True).any()  # no meal on a day without a ration
    meals = np.bincount(row)[np.unique(row)]
    small = total[np.unique(row)] < 0.01
    assert meals.max() <= 4 and (meals[~small] >= 2).all()
    sea = plan.assignment["stage"][ev["assignment_id"] - 1] == 5
    assert set(np.unique(np.bincount(row[sea])[np.unique(row[sea])])) <= {1, 2, 3}
    day = ev["feeding_time"] // US_PER_DAY - EPOCH_OFFSET
    assert np.array_equal(day, d["day"][row]) and (ev["year"] == year).all()


def test_meal_columns_are_consistent(plan, book, years):
    ev, d, a = years[2020]["inventory.feeding_event"], plan.daily, plan.assignment
    row = (ev["id"] - 1) // 4
    assert np.array_equal(ev["assignment_id"], d["assignment"][row])
    assert np.array_equal(ev["container_id"], a["container"][ev["assignment_id"] - 1])
    w = d["weight"][row]
    lo, hi = np.array([f[4] for f in FEEDS]), np.array([f[5] for f in FEEDS])
    assert ((w >= lo[ev["feed_id"] - 1]) & (w < hi[ev["feed_id"] - 1])).all()
    fct = plan.infra.tables["feed_container"]
    hall = np.asarray(fct["hall_id"], dtype=object)[ev["feed_container_id"] - 1]
    area = np.asarray(fct["area_id"], dtype=object)[ev["feed_container_id"] - 1]
    ch, ca = plan.infra.container_hall[ev["container_id"] - 1], plan.infra.container_area[ev["container_id"] - 1]
    assert all((h == c) if h is not None else (ar == c2) for h, ar, c, c2 in zip(hall, area, ch, ca))
    bio = (d["pop"][row] * w.astype(np.float64) / 1000).astype(np.float32)
    assert np.array_equal(ev["batch_biomass_kg"], bio)
    assert (ev["feeding_percentage"] > 0).all() and ev["feeding_percentage"].max() < 5
    assert (ev["feed_cost"] > 0).all() and len(np.unique(ev["id"])) == len(ev["id"])
    assert set(np.unique(ev["method"])) == {"AUTOMATIC", "MANUAL"}


def _dense(book, key):
    out = np.zeros((len(book.pair_fc), N_DAYS), np.int64)
    out[book.stock["pair"], book.stock["day"]] = book.stock[key]
    return out


def test_balance_to_the_gram_over_all_days(book):
    opening, bought, used = (_dense(book, k) for k in ("opening", "purchased", "consumed"))
    closing = opening + bought - used
    assert (closing[:, :-1] == opening[:, 1:]).all()  # chains day to day, warm-up included
    assert (opening[:, 0] == 0).all() and (opening >= 0).all() and (closing >= 0).all()
    delivered = np.zeros_like(bought)
    np.add.at(delivered, (book.purchase["pair"], book.purchase["delivery_day"]), book.purchase["units"])
    assert np.array_equal(delivered, bought)
    assert (book.purchase["units"] % UNIT == 0).all()  # whole kg
    for y in YEARS:  # per store and year: opening + purchased = consumed + closing
        first, stop = year_days(y)
        assert np.array_equal(opening[:, first] + bought[:, first:stop].sum(1),
                              used[:, first:stop].sum(1) + closing[:, stop - 1])


def test_never_above_capacity_never_empty_for_a_meal(plan, book):
    opening, bought, used = (_dense(book, k) for k in ("opening", "purchased", "consumed"))
    cap = np.asarray(plan.infra.tables["feed_container"]["capacity_kg"]) * UNIT
    peak = np.zeros((len(cap), N_DAYS), np.int64)
    np.add.at(peak, book.pair_fc - 1, opening + bought)
    assert (peak <= cap[:, None]).all()
    assert (opening + bought >= used).all()  # the day's meals never exceed what is in the store
    assert book.stats["purchases"] > 0 and peak.max() > 0


def test_fifo_costs_each_kg_at_its_lots_price(book):
    """Replay every pair with an explicit queue of lots: the day's cost is the oldest lots' price."""
    p, s = book.purchase, book.stock
    lots = {}
    for i in np.lexsort((p["delivery_day"], p["pair"])):
        lots.setdefault(int(p["pair"][i]), []).append((int(p["delivery_day"][i]), int(p["units"][i]), p["price"][i]))
    order = np.lexsort((s["day"], s["pair"]))
    queue, pending, cur = deque(), deque(), -1
    for j in order:
        pair, day, need = int(s["pair"][j]), int(s["day"][j]), int(s["consumed"][j])
        if pair != cur:
            cur, queue, pending = pair, deque(), deque(lots[pair])
        while pending and pending[0][0] <= day:  # a lot can be opened only once delivered
            d, q, price = pending.popleft()
            queue.append([q, price])
        cost = 0.0
        while need:
            assert queue, "a meal from an empty store"
            take = min(need, queue[0][0])
            cost += take * queue[0][1] / UNIT
            queue[0][0] -= take
            need -= take
            if not queue[0][0]:
                queue.popleft()
        assert cost == pytest.approx(s["cost"][j], rel=1e-9, abs=1e-9)


def test_purchases_and_opening_lots(plan, book, years):
    p = book.purchase
    assert np.array_equal(p["delivery_day"] - p["order_day"], LEAD_DAYS[p["supplier"]])
    stored = [years[y]["inventory.feed_purchase"] for y in (2015, 2016)]
    for y, pu in zip((2015, 2016), stored):
        order = pu["order_date"] - EPOCH_OFFSET
        assert (np.maximum(YEAR[np.maximum(order, 0)], 2015) == y).all()
        assert (pu["delivery_date"] - EPOCH_OFFSET >= FIRST_STORED_DAY).all()
        assert pu["cost_per_kg"].min() >= 1.15 and pu["cost_per_kg"].max() <= 1.75
    assert not np.intersect1d(stored[0]["id"], stored[1]["id"]).size
    lots, st = years[2015]["inventory.feed_lot"], years[2015]["inventory.feed_stock"]
    jan1 = st["stock_date"] == FIRST_STORED_DAY + EPOCH_OFFSET
    assert lots["remaining_kg"].sum() == st["opening_kg"][jan1].sum() > 0
    assert (lots["balance_date"] == FIRST_STORED_DAY + EPOCH_OFFSET).all()
    assert (lots["delivery_date"] < lots["balance_date"]).all()
    prices = [years[y]["inventory.feed_purchase"]["cost_per_kg"].mean() for y in (2015, 2020)]
    late = book.purchase["price"][YEAR[np.maximum(book.purchase["order_day"], 0)] >= 2022]
    assert late.mean() > max(prices) * 1.15  # the 2021-22 step up


def test_feed_by_pellet_size():
    assert feed_of_weight(np.array([0.3, 0.8, 4.9, 5.0, 250.0, 2999.0, 6000.0])).tolist() == [1, 2, 2, 3, 6, 8, 9]


def test_deterministic_whatever_ran_before(plan, years):
    again = _render(plan, 2016)  # after 2015 and 2020 were rendered
    fresh = build_plan(load_scenario(scale="tiny"))  # a new process would build its own plan and book
    other = _render(fresh, 2016)
    for name, cols in years[2016].items():
        for c, v in cols.items():
            assert np.array_equal(v, again[name][c]) and np.array_equal(v, other[name][c]), (name, c)
