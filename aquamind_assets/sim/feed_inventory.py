"""Feed inventory over the whole simulation: which store feeds each unit, purchases, lots, FIFO cost.

Run over every plan day (warm-up included) so the stock on the first stored day is the result of earlier
purchases. Quantities are integer UNITs (1/1024 kg): sums of them are exact in float4/float8, so
opening + purchased = consumed + closing holds to the gram in SQL as well as here. Purchases are
whole kg. Pure numpy: no Dagster, no database.

Policy (docs/domain.md §6): a store is refilled when its stock of a feed would fall under the next
SAFETY_DAYS of use; the order, placed one supplier lead time earlier, covers COVER_DAYS more. The
feeding plan is known ahead, so the reorder point anticipates use over the lead time exactly.
A delivery never overfills the store (all feeds share its capacity) and is sized in bags (silos)
or tonnes (barges) unless the feed is about to be phased out.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .calendar import DOY, N_DAYS, YEAR
from .reference import FEED_MAX_G, FEED_SUPPLIERS, FEEDS

UNIT = 1024  # quantity units per kg
SAFETY_DAYS = 2
COVER_DAYS = {"SILO": 14, "BARGE": 7}
ORDER_STEP_KG = {"SILO": 25, "BARGE": 1000}
LOOKAHEAD_DAYS = 60  # an order is rounded up only if that much will be eaten within this horizon
FEED_SUPPLIER = np.array([0] + [next(s[0] for s in FEED_SUPPLIERS if s[1].startswith(f[2]))
                               for f in FEEDS])  # feed id -> supplier id: the brand itself
LEAD_DAYS = np.array([0] + [s[2] for s in FEED_SUPPLIERS])  # supplier id -> lead time
MAX_LEAD_DAYS = int(LEAD_DAYS.max())
SUPPLIER_MULT = np.array([0.0] + [s[3] for s in FEED_SUPPLIERS])
# small pellets cost more (docs/domain.md §6: price by size; protein falls with pellet size)
FEED_PRICE_FACTOR = np.array([0.0, 1.15, 1.11, 1.06, 1.02, 1.00, 0.98, 0.97, 0.96, 0.95])
# (calendar year, EUR/kg) reference price, market history whatever years are stored: flat-ish
# 2015-2021, the 2021-22 step up (raw materials), easing in 2024
PRICE_KNOTS = ((2011.0, 1.32), (2015.0, 1.38), (2017.0, 1.35), (2019.0, 1.37), (2021.0, 1.40),
               (2021.5, 1.48), (2022.75, 1.82), (2023.5, 1.88), (2025.0, 1.78))


@dataclass
class FeedBook:
    """Inventory of every (feed container, feed) pair; quantities in UNITs (1/1024 kg)."""

    container_fc: np.ndarray  # container id - 1 -> feed container id serving it
    pair_fc: np.ndarray  # pair -> feed container id
    pair_feed: np.ndarray  # pair -> feed id
    purchase: dict[str, np.ndarray]  # id, pair, order_day, delivery_day, units, price, supplier
    stock: dict[str, np.ndarray]  # day, pair, opening, purchased, consumed, cost (sorted by day, pair)
    stats: dict[str, float] = field(default_factory=dict)

    @functools.cached_property
    def _stock_key(self) -> np.ndarray:
        """day * pairs + pair of every stock row: ascending, as the rows are sorted by day, pair."""
        return self.stock["day"].astype(np.int64) * len(self.pair_fc) + self.stock["pair"]

    @functools.cached_property
    def pair_of_key(self) -> np.ndarray:
        """feed container id * 16 + feed id -> pair, as a dense table (one gather per lookup)."""
        keys = self.pair_fc.astype(np.int64) * 16 + self.pair_feed
        return np.searchsorted(keys, np.arange(int(keys.max(initial=0)) + 2))

    def pair_of(self, feed_container: np.ndarray, feed: np.ndarray) -> np.ndarray:
        """The pair index of (feed container, feed); pairs are sorted by that key."""
        lut = self.pair_of_key
        return lut[np.minimum(feed_container.astype(np.int64) * 16 + feed, len(lut) - 1)]

    def day_price(self, pair: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Average FIFO price (EUR/kg) of what a pair consumed on a day; NaN if it consumed nothing."""
        key = self._stock_key
        want = np.asarray(day, np.int64) * len(self.pair_fc) + pair
        i = np.minimum(np.searchsorted(key, want), len(key) - 1)
        ok = key[i] == want
        with np.errstate(invalid="ignore", divide="ignore"):
            price = self.stock["cost"][i] / (self.stock["consumed"][i] / UNIT)
        return np.where(ok, price, np.nan)

    def lots_at(self, day: int) -> dict[str, np.ndarray]:
        """Lots held at the start of `day` (FIFO remains of deliveries before it), oldest first per pair."""
        p, s = self.purchase, self.stock
        before = s["day"] < day
        used = np.bincount(s["pair"][before], weights=s["consumed"][before], minlength=len(self.pair_fc))
        sel = np.flatnonzero(p["delivery_day"] < day)
        sel = sel[np.lexsort((p["delivery_day"][sel], p["pair"][sel]))]
        pair, q = p["pair"][sel], p["units"][sel]
        start = np.concatenate([[0], np.flatnonzero(np.diff(pair)) + 1]) if len(pair) else np.zeros(0, int)
        cum = np.cumsum(q)
        first = np.repeat(cum[start] - q[start], np.diff(np.append(start, len(pair))))
        upto = cum - first  # delivered into the pair up to and including this lot
        remaining = np.clip(upto - used[pair].astype(np.int64), 0, q)
        keep = remaining > 0
        return {"purchase": sel[keep], "pair": pair[keep], "remaining": remaining[keep]}


def feed_of_weight(weight_g: np.ndarray) -> np.ndarray:
    """Feed id (pellet size) for a mean fish weight: min_fish_weight_g <= w < max_fish_weight_g."""
    return (np.searchsorted(FEED_MAX_G, np.asarray(weight_g, np.float64), side="right") + 1).clip(1, len(FEEDS))


def container_feed_store(infra) -> np.ndarray:
    """Feed container serving each unit: its hall's silo, or one of its site's barges (pen index mod 3)."""
    n = len(infra.container_stage)
    out = np.zeros(n, np.int32)
    halls = infra.container_hall
    for hall, silo in infra.hall_feed_container.items():
        out[halls == hall] = silo
    for area, barges in infra.area_barges.items():
        pens = np.flatnonzero(infra.container_area == area)
        out[pens] = np.asarray(barges)[np.arange(len(pens)) % len(barges)]
    return out


_M64 = (1 << 64) - 1
_GOLDEN, _MIX1, _MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def _hash_unit(*keys) -> np.ndarray:
    """Counter-based uniform [0, 1) from integer keys (splitmix64): no generator state to share.
    Leading scalar keys (seed, salt) are mixed once in Python; only the array keys cost passes."""
    x, rest = 0, list(keys)
    while rest and np.ndim(rest[0]) == 0:
        x = ((x ^ (int(rest.pop(0)) & _M64)) + _GOLDEN) & _M64
        x = ((x ^ (x >> 30)) * _MIX1) & _M64
        x = ((x ^ (x >> 27)) * _MIX2) & _M64
        x ^= x >> 31
    x = np.full(np.broadcast(*keys).shape, x, np.uint64)
    with np.errstate(over="ignore"):
        for k in rest:
            x = (x ^ np.asarray(k).astype(np.uint64)) + np.uint64(_GOLDEN)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(_MIX1)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(_MIX2)
            x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def feed_price(seed: int, purchase_id: np.ndarray, order_day: np.ndarray, feed: np.ndarray,
               supplier: np.ndarray) -> np.ndarray:
    """EUR/kg of an order: reference curve x pellet size x supplier x season (+-2.5 %) x +-1.5 % noise."""
    t = YEAR[order_day] + (DOY[order_day] - 1) / 365.25
    kx, ky = zip(*PRICE_KNOTS)
    base = np.interp(t, kx, ky)
    season = 1 + 0.025 * np.cos(2 * np.pi * (DOY[order_day] - 45) / 365.25)  # dearest in late winter
    noise = 1 + 0.03 * (_hash_unit(seed, 7919, purchase_id) - 0.5)
    return np.round(base * FEED_PRICE_FACTOR[feed] * SUPPLIER_MULT[supplier] * season * noise, 3)


def daily_demand(plan, book_fc: np.ndarray):
    """Per fed plan row: (row index, pair key fc*16+feed, units); units = round(feed kg x UNIT)."""
    d, a = plan.daily, plan.assignment
    units = np.rint(d["feed"].astype(np.float64) * UNIT).astype(np.int64)
    rows = np.flatnonzero(units > 0)
    fc = book_fc[a["container"][d["assignment"][rows] - 1] - 1].astype(np.int64)
    if len(fc) and fc.min() <= 0:
        raise ValueError("a fed unit has no feed store (hall silo or site barge)")
    return rows, fc * 16 + feed_of_weight(d["weight"][rows]), units[rows]


def simulate_feed_inventory(plan) -> FeedBook:
    """The whole inventory, computed once per plan object and cached on it."""
    cached = getattr(plan, "_feed_book", None)
    if cached is not None:
        return cached
    infra, seed = plan.infra, int(plan.stats["seed"])
    store = container_feed_store(infra)
    rows, key, units = daily_demand(plan, store)
    present = np.bincount(key) > 0  # keys are small: a dense lookup beats sorting 20 M of them
    keys, pair = np.flatnonzero(present), (np.cumsum(present) - 1)[key]
    P = len(keys)
    pair_fc, pair_feed = (keys // 16).astype(np.int32), (keys % 16).astype(np.int16)
    day = plan.daily["day"][rows]
    demand = np.bincount(pair * N_DAYS + day, weights=units, minlength=P * N_DAYS).astype(np.int64).reshape(P, N_DAYS)
    deliveries, capped = _replenish(infra, pair_fc, demand)
    book = _fifo(seed, store, pair_fc, pair_feed, demand, deliveries)
    book.stats.update(fed_rows=len(rows), pairs=P, deliveries_cut_to_fit=capped)
    plan._feed_book = book
    return book


def _replenish(infra, pair_fc: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, int]:
    """Delivered UNITs per pair and day (and how many deliveries were cut to fit the store): a
    forward pass over days, vectorised over pairs."""
    fct = infra.tables["feed_container"]
    kind = np.asarray(fct["container_type"])[pair_fc - 1]
    cap = np.rint(np.asarray(fct["capacity_kg"], np.float64)[pair_fc - 1] * UNIT).astype(np.int64)
    cover = np.array([COVER_DAYS[k] for k in kind]) + SAFETY_DAYS
    step = np.array([ORDER_STEP_KG[k] for k in kind], np.int64)
    P, N = demand.shape
    pad = int(cover.max()) + LOOKAHEAD_DAYS + 2
    cum = np.zeros((P, N + 1 + pad), np.int64)
    cum[:, 1:N + 1] = np.cumsum(demand, axis=1)
    cum[:, N + 1:] = cum[:, N:N + 1]
    fcs, grp = np.unique(pair_fc, return_inverse=True)
    cap_c = np.zeros(len(fcs), np.int64)
    cap_c[grp] = cap
    stock = np.zeros(P, np.int64)
    out = np.zeros((P, N), np.int64)
    rows = np.arange(P)
    shortfall = capped = 0
    for t in range(int(np.argmax(demand.any(axis=0))), N):
        trig = stock < cum[:, t + 1 + SAFETY_DAYS] - cum[:, t]
        if trig.any():
            want = np.where(trig, cum[rows, t + cover] - cum[:, t] - stock, 0)
            kg = -(-want // UNIT)
            rounded = -(-kg // step) * step
            ahead = cum[:, t + LOOKAHEAD_DAYS] - cum[:, t] - stock
            kg = np.where(rounded * UNIT <= ahead, rounded, kg)
            must = -(-np.maximum(demand[:, t] - stock, 0) // UNIT) * trig
            room = (cap_c - np.bincount(grp, stock, len(fcs)).astype(np.int64)) // UNIT
            tot = np.bincount(grp, kg, len(fcs)).astype(np.int64)
            over = tot > room
            if over.any():  # fill today's needs first, share what room is left pro rata
                tot_must = np.bincount(grp, must, len(fcs)).astype(np.int64)
                spare = np.maximum(room - tot_must, 0)
                extra = kg - must
                tot_extra = np.maximum(np.bincount(grp, extra, len(fcs)).astype(np.int64), 1)
                cut = must + (extra * spare[grp]) // tot_extra[grp]
                capped += int((over[grp] & (cut < kg)).sum())
                kg = np.where(over[grp], cut, kg)
                shortfall += int(np.maximum(tot_must - room, 0).sum())
            out[:, t] = kg * UNIT
        stock = stock + out[:, t] - demand[:, t]
    if shortfall or (stock < 0).any():
        raise RuntimeError(f"feed stores too small for the plan: {shortfall} kg could not be delivered")
    return out, capped


def _fifo(seed: int, store, pair_fc, pair_feed, demand: np.ndarray, delivered: np.ndarray) -> FeedBook:
    """Purchases from deliveries, then FIFO: each day's use costed from the oldest lots first."""
    pr, dd = np.nonzero(delivered)
    supplier = FEED_SUPPLIER[pair_feed[pr]]
    order_day = dd - LEAD_DAYS[supplier]
    order = np.lexsort((pr, order_day))
    pr, dd, supplier, order_day = pr[order], dd[order], supplier[order], order_day[order]
    ids = np.arange(1, len(pr) + 1)
    q = delivered[pr, dd]
    price = feed_price(seed, ids, np.maximum(order_day, 0), pair_feed[pr], supplier)
    purchase = {"id": ids, "pair": pr, "order_day": order_day, "delivery_day": dd, "units": q,
                "price": price, "supplier": supplier}
    cum_d = np.cumsum(delivered, axis=1)
    opening = cum_d - delivered - np.cumsum(demand, axis=1) + demand
    sp, sd = np.nonzero((opening > 0) | (delivered > 0) | (demand > 0))
    cost = np.zeros(len(sp))
    k = np.lexsort((dd, pr))  # lots in FIFO order within each pair
    bounds = np.searchsorted(pr[k], np.arange(len(pair_fc) + 1))
    srow = np.searchsorted(sp, np.arange(len(pair_fc) + 1))
    for p in range(len(pair_fc)):
        lots = k[bounds[p]:bounds[p + 1]]
        xq = np.concatenate([[0], np.cumsum(q[lots])]).astype(np.float64)
        xc = np.concatenate([[0.0], np.cumsum(q[lots] * price[lots] / UNIT)])
        r = slice(srow[p], srow[p + 1])
        used = np.cumsum(demand[p]).astype(np.float64)
        after, before = used[sd[r]], used[sd[r]] - demand[p, sd[r]]
        cost[r] = np.interp(after, xq, xc) - np.interp(before, xq, xc)
    o = np.lexsort((sp, sd))
    stock = {"day": sd[o].astype(np.int32), "pair": sp[o].astype(np.int32), "opening": opening[sp, sd][o],
             "purchased": delivered[sp, sd][o], "consumed": demand[sp, sd][o], "cost": cost[o]}
    stats = {"purchases": len(ids), "purchased_kg": float(q.sum()) / UNIT,
             "consumed_kg": float(demand.sum()) / UNIT}
    return FeedBook(store, pair_fc, pair_feed, purchase, stock, stats)
