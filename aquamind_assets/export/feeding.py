"""Yearly rendering of the feeding tables from the plan and its feed book: pure numpy, any year alone.

A day's ration is split into 2-4 meals in whole UNITs (1/1024 kg), so the meals of an
assignment-day sum exactly (in float4 too) to the plan's ration rounded to ~1 g. Meal count,
shares, times and method come from a counter hash of the plan row, never from generator state,
so a year renders the same whatever ran before it.
"""
from __future__ import annotations

import numpy as np

from ..sim.calendar import EPOCH_OFFSET, FIRST_STORED_DAY, SIM_START, epoch_days, owning_year, year_days
from ..sim.feed_inventory import UNIT, _hash_unit, feed_of_weight, simulate_feed_inventory
from ..sim.reference import FEED_SUPPLIERS
from ..warehouse.schema import Table
from ..warehouse.tables_feeding import FEED_LOT, FEED_PURCHASE, FEED_STOCK, FEEDING_EVENT
from .columns import vocabulary

US_PER_DAY = 86_400_000_000
US_PER_MIN = 60_000_000
CHUNK_ROWS = 400_000  # fed assignment-days per chunk (~1.2 M meals)
# meal hours by number of meals (sea 2-3, freshwater 3-4)
HOURS = {2: (7, 15), 3: (6, 12, 18), 4: (6, 10, 14, 18)}
MANUAL_SHARE = np.array([0.0, 0.30, 0.10, 0.05, 0.03, 0.02])  # by stage: fry hand-fed most often
SUPPLIER_CODE = np.array([""] + [s[1][:3].upper() for s in FEED_SUPPLIERS], dtype=object)
METHODS = ("AUTOMATIC", "MANUAL")


def split_meals(seed: int, rows: np.ndarray, units: np.ndarray, sea: np.ndarray):
    """(meal count, UNITs per meal [n, 4]) for plan rows: 2-3 meals at sea, 3-4 in freshwater.

    Parts are integer differences of a cumulative split, so they sum exactly to `units`.
    """
    n_meals = np.where(sea, 2, 3) + (_hash_unit(seed, 101, rows) < 0.5)
    w = 0.75 + 0.5 * _hash_unit(seed, 103, rows[:, None], np.arange(4)[None, :])
    w = np.where(np.arange(4)[None, :] < n_meals[:, None], w, 0.0)
    frac = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
    edges = np.floor(units[:, None] * frac).astype(np.int64)
    edges[:, -1] = units
    parts = np.diff(np.concatenate([np.zeros((len(units), 1), np.int64), edges], axis=1), axis=1)
    return n_meals, parts


def _events(plan, book, rows: np.ndarray, year: int) -> dict[str, np.ndarray]:
    d, a = plan.daily, plan.assignment
    seed = int(plan.stats["seed"])
    ass = d["assignment"][rows]
    stage = a["stage"][ass - 1]
    container = a["container"][ass - 1]
    units = np.rint(d["feed"][rows].astype(np.float64) * UNIT).astype(np.int64)
    n_meals, parts = split_meals(seed, rows, units, stage == 5)
    r_idx, meal = np.nonzero(parts > 0)
    r = rows[r_idx]
    amount = (parts[r_idx, meal] / UNIT).astype(np.float32)
    feed = feed_of_weight(d["weight"][r])
    fc = book.container_fc[container[r_idx] - 1]
    pair = book.pair_of(fc, feed)
    day = d["day"][r].astype(np.int64)
    price = book.day_price(pair, day)
    biomass = (d["pop"][r] * d["weight"][r].astype(np.float64) / 1000).astype(np.float32)
    k = n_meals[r_idx]
    hours = np.select([k == 2, k == 3], [np.array(HOURS[2] + (0, 0))[meal], np.array(HOURS[3] + (0,))[meal]],
                      np.array(HOURS[4])[meal])
    minutes = np.floor(_hash_unit(seed, 107, r, meal) * 45).astype(np.int64)
    manual = _hash_unit(seed, 109, r, meal) < MANUAL_SHARE[stage[r_idx]]
    return {
        "year": np.full(len(r), year, np.int16), "id": r.astype(np.int64) * 4 + meal + 1,
        "assignment_id": ass[r_idx], "batch_id": a["batch"][ass[r_idx] - 1], "container_id": container[r_idx],
        "feed_id": feed.astype(np.int32), "feed_container_id": fc.astype(np.int32),
        "feeding_time": (day + EPOCH_OFFSET) * US_PER_DAY + hours * 3_600_000_000 + minutes * US_PER_MIN,
        "amount_kg": amount, "batch_biomass_kg": biomass,
        "feeding_percentage": (amount.astype(np.float64) / biomass * 100).astype(np.float32),
        "feed_cost": (amount * price).astype(np.float32), "method": vocabulary(manual, METHODS)}


def render_feeding_events(plan, year: int, chunk_rows: int = CHUNK_ROWS):
    """Meals of every fed assignment-day of the year, in chunks of plan rows (ids ascend)."""
    book = simulate_feed_inventory(plan)
    first, stop = year_days(year)
    d = plan.daily
    fed = np.flatnonzero((d["day"] >= first) & (d["day"] < stop) & (np.rint(d["feed"] * np.float32(UNIT)) > 0))
    for i in range(0, max(len(fed), 1), chunk_rows):
        yield _events(plan, book, fed[i:i + chunk_rows], year)


def render_feed_inventory(plan, year: int) -> dict[Table, dict[str, np.ndarray]]:
    """Purchases owned by the year, daily stock rows of its days, and the lots held on 1 January."""
    book = simulate_feed_inventory(plan)
    first, stop = year_days(year)
    p, s = book.purchase, book.stock
    m = (owning_year(np.maximum(p["order_day"], 0)) == year) & (p["delivery_day"] >= FIRST_STORED_DAY)
    pr, deliv = p["pair"][m], p["delivery_day"][m]
    dates = (SIM_START + deliv).astype("datetime64[D]").astype(str)
    lot = np.array([f"{c}-{dt.replace('-', '')[2:]}-{i:06d}" for c, dt, i in
                    zip(SUPPLIER_CODE[p["supplier"][m]], dates, p["id"][m])], dtype=object)
    purchases = {
        "year": np.full(m.sum(), year, np.int16), "id": p["id"][m].astype(np.int32),
        "feed_id": book.pair_feed[pr].astype(np.int32), "supplier_id": p["supplier"][m].astype(np.int32),
        "feed_container_id": book.pair_fc[pr], "order_date": epoch_days(p["order_day"][m]),
        "delivery_date": epoch_days(deliv), "quantity_kg": p["units"][m] / UNIT, "cost_per_kg": p["price"][m],
        "lot_number": lot}
    lo, hi = np.searchsorted(s["day"], [first, stop])
    sl = slice(lo, hi)
    sp = s["pair"][sl]
    stock = {
        "year": np.full(hi - lo, year, np.int16), "stock_date": epoch_days(s["day"][sl]),
        "feed_container_id": book.pair_fc[sp], "feed_id": book.pair_feed[sp].astype(np.int32),
        "opening_kg": s["opening"][sl] / UNIT, "purchased_kg": s["purchased"][sl] / UNIT,
        "consumed_kg": s["consumed"][sl] / UNIT,
        "closing_kg": (s["opening"][sl] + s["purchased"][sl] - s["consumed"][sl]) / UNIT,
        "consumed_cost": np.round(s["cost"][sl], 4)}
    held = book.lots_at(first)
    i = held["purchase"]
    lots = {
        "year": np.full(len(i), year, np.int16), "purchase_id": p["id"][i].astype(np.int32),
        "feed_container_id": book.pair_fc[held["pair"]], "feed_id": book.pair_feed[held["pair"]].astype(np.int32),
        "balance_date": np.full(len(i), epoch_days(first), np.int32), "delivery_date": epoch_days(p["delivery_day"][i]),
        "cost_per_kg": p["price"][i], "remaining_kg": held["remaining"] / UNIT}
    return {FEED_PURCHASE: purchases, FEED_STOCK: stock, FEED_LOT: lots}


def render_feeding(plan, year: int):
    """(table, columns) for the feeding asset: the inventory tables, then the meals in chunks."""
    yield from render_feed_inventory(plan, year).items()
    for chunk in render_feeding_events(plan, year):
        yield FEEDING_EVENT, chunk
