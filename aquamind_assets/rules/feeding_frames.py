"""The feeding rules that join meals to the daily state, as frame rules: every meal as written,
against the stored assignments, feeds, containers and feed stores and the year's daily state (see
daily_state_frames.py); same names and invariants as their SQL forms in feeding.py.

The meals of an assignment-day, and of a feed store, feed and day, are summed as the frames pass
(a day's meals may straddle two frames) and judged once the last frame is in.
"""
from __future__ import annotations

import numpy as np

from ..warehouse.frame_checks import FrameCheck, FrameTotal
from .daily_state_frames import YearOfState, sums_by_key
from .frame_dims import US_PER_DAY, ById, fetch, in_window_rule, owning_year_rule, take

E, S = "inventory.feeding_event", "inventory.feed_stock"
FEEDS = """SELECT string_agg(int4send(id) || float8send(min_fish_weight_g) || float8send(max_fish_weight_g),
               ''::bytea) FROM inventory.feed"""
CONTAINERS = """SELECT string_agg(int4send(id) || int4send(coalesce(hall_id, -1)) || int4send(coalesce(area_id, -1)),
                    ''::bytea) FROM infrastructure.container"""
STORES = """SELECT string_agg(int4send(id) || int4send(coalesce(hall_id, -1)) || int4send(coalesce(area_id, -1)),
                ''::bytea) FROM infrastructure.feed_container"""
# % of biomass a day, by lifecycle_stage_id 0-6 (0: no daily state row; 1 eggs, 6 sea: the SQL form's ELSE 4)
DAY_PCT_MAX = np.array([4, 4, 10, 6, 4, 3, 4], np.float64)


def _store_day(fc: np.ndarray, feed: np.ndarray, day: np.ndarray) -> np.ndarray:
    """One int64 per (feed store, feed, unix day)."""
    return (fc.astype(np.int64) << 32) | (feed.astype(np.int64) << 16) | day.astype(np.int64)


class Feeding(YearOfState):
    """A feeding load's dimensions and the totals its meals add up to."""

    statements = (*YearOfState.statements, FEEDS, CONTAINERS, STORES)

    def __init__(self, cur, params: dict):
        super().__init__(cur, params)
        n = self.index.n
        self.kg, self.pct, self.meals = np.zeros(n), np.zeros(n), np.zeros(n)
        self.orphans: tuple[list, list, list] = ([], [], [])  # meals of days without a daily state row
        self.issued: tuple[list, list, list] = ([], [], [])  # meals per store-day: key, kg, cost
        self.stock: tuple[list, list, list] = ([], [], [])  # stock rows that issued feed: key, kg, cost
        ids, lo, hi = fetch(cur, FEEDS, (">i4", ">f8", ">f8"))
        self.feeds, self.feed_min, self.feed_max = ById(ids), lo, hi
        ids, hall, area = fetch(cur, CONTAINERS, (">i4", ">i4", ">i4"))
        self.containers, self.c_hall, self.c_area = ById(ids), hall, area
        ids, hall, area = fetch(cur, STORES, (">i4", ">i4", ">i4"))
        self.stores, self.s_hall, self.s_area = ById(ids), hall, area
        self._memo: tuple[int, np.ndarray] = (0, np.zeros(0, np.int64))

    def positions(self, cols) -> np.ndarray:
        """Each meal's daily state row (-1: none), once per frame whichever rule asks first."""
        if self._memo[0] != id(cols["assignment_id"]):
            day = cols["feeding_time"] // US_PER_DAY
            self._memo = (id(cols["assignment_id"]), self.index.at(cols["assignment_id"], day))
        return self._memo[1]

    def add(self, table: str, cols) -> None:
        if table == E:
            self._add_meals(cols)
        elif table == S:
            issued = cols["consumed_kg"] > 0
            for acc, v in zip(self.stock, (_store_day(cols["feed_container_id"][issued], cols["feed_id"][issued],
                                                      cols["stock_date"][issued]),
                                           cols["consumed_kg"][issued], cols["consumed_cost"][issued])):
                acc.append(np.asarray(v))

    def _add_meals(self, cols) -> None:
        pos = self.positions(cols)
        found = pos >= 0
        kg, pct = cols["amount_kg"].astype(np.float64), cols["feeding_percentage"].astype(np.float64)
        n = self.index.n
        self.kg += np.bincount(pos[found], weights=kg[found], minlength=n)
        self.pct += np.bincount(pos[found], weights=pct[found], minlength=n)
        self.meals += np.bincount(pos[found], minlength=n)
        day = cols["feeding_time"] // US_PER_DAY
        orphan_key = cols["assignment_id"][~found].astype(np.int64) * 100_000 + day[~found]
        for acc, v in zip(self.orphans, (orphan_key, kg[~found], pct[~found])):
            acc.append(v)
        keys, k, c = sums_by_key([_store_day(cols["feed_container_id"], cols["feed_id"], day)], [kg],
                                 [cols["feed_cost"].astype(np.float64)])
        for acc, v in zip(self.issued, (keys, k, c)):
            acc.append(v)

    def day_totals(self):
        """Per assignment-day with a ration or a meal: (feed_kg, meals' kg, their % of biomass, meal
        count, lifecycle_stage_id or 0, assignment_id, day), daily state rows first, then meals
        without a row (the SQL form's FULL JOIN)."""
        st = self.state
        fed = (st["feed_kg"] > 0) | (self.meals > 0)
        stage = np.where(st["feed_kg"] > 0, st["lifecycle_stage_id"], 0)[fed]
        keys, kg, pct, meals = sums_by_key(self.orphans[0], self.orphans[1], self.orphans[2],
                                           [np.ones(len(k)) for k in self.orphans[0]])
        cat = np.concatenate
        return (cat([st["feed_kg"][fed].astype(np.float64), np.zeros(len(keys))]), cat([self.kg[fed], kg]),
                cat([self.pct[fed], pct]), cat([self.meals[fed], meals]), cat([stage, np.zeros(len(keys), int)]),
                cat([st["assignment_id"][fed], keys // 100_000]), cat([st["state_date"][fed], keys % 100_000]))


def _verdict(bad: np.ndarray, names: tuple[str, ...], columns: tuple) -> tuple[int, int, list]:
    rows = np.flatnonzero(bad)[:5]
    return len(bad), int(bad.sum()), [{n: str(c[r]) for n, c in zip(names, columns)} for r in rows]


def _meals_verdict(ctx: Feeding):
    feed, kg, _, meals, _, ass, day = t = ctx.day_totals()
    bad = (np.abs(kg - feed) > 0.001) | (meals > 4) | ((meals < 2) & (kg >= 0.01))
    return _verdict(bad, ("feed_kg", "kg", "pct", "meals", "stage", "assignment_id", "day"), t)


def _ration_verdict(ctx: Feeding):
    t = ctx.day_totals()
    bad = t[2] > DAY_PCT_MAX[np.clip(t[4].astype(np.int64), 0, len(DAY_PCT_MAX) - 1)]
    return _verdict(bad, ("feed_kg", "kg", "pct", "meals", "stage", "assignment_id", "day"), t)


def _consumed_verdict(ctx: Feeding):
    meal_keys, meal_kg, meal_cost = sums_by_key(*ctx.issued)
    cat = np.concatenate
    stock_keys = cat(ctx.stock[0]) if ctx.stock[0] else np.zeros(0, np.int64)
    keys = np.union1d(meal_keys, stock_keys)
    m, s = np.searchsorted(keys, meal_keys), np.searchsorted(keys, stock_keys)
    mk, mc, sk, sc = (np.zeros(len(keys)) for _ in range(4))
    mk[m], mc[m] = meal_kg, meal_cost
    if len(stock_keys):
        sk[s], sc[s] = cat(ctx.stock[1]), cat(ctx.stock[2])
    bad = (np.abs(sk - mk) > 0.001) | (np.abs(sc - mc) > 0.001 + 1e-5 * mc)
    return _verdict(bad, ("store_feed_day", "consumed_kg", "meals_kg", "consumed_cost", "meals_cost"),
                    (keys, sk, mk, sc, mc))


def _bad_meal(cols, ctx: Feeding) -> np.ndarray:
    pos, st = ctx.positions(cols), ctx.state
    amount, biomass = cols["amount_kg"], cols["batch_biomass_kg"]
    pct = cols["feeding_percentage"].astype(np.float64)
    weight = take(st["avg_weight_g"], pos, np.nan).astype(np.float64)
    f = ctx.feeds.at(cols["feed_id"])
    c, s = ctx.containers.at(cols["container_id"]), ctx.stores.at(cols["feed_container_id"])
    pellet = (weight >= take(ctx.feed_min, f, np.inf)) & (weight < take(ctx.feed_max, f, -np.inf))
    store = ((c >= 0) & (s >= 0) & (take(ctx.s_hall, s, -2) == take(ctx.c_hall, c, -3))
             & (take(ctx.s_area, s, -2) == take(ctx.c_area, c, -3)))
    return ((pos < 0) | (cols["batch_id"] != take(st["batch_id"], pos, -1))
            | (cols["container_id"] != take(st["container_id"], pos, -1))
            | (biomass != take(st["biomass_kg"], pos, np.nan)) | (amount <= 0) | (cols["feed_cost"] <= 0)
            | (pct <= 0) | (pct > 5)
            | (np.abs(pct - amount.astype(np.float64) / biomass.astype(np.float64) * 100) > 1e-6 * pct)
            | ~pellet | ~store)


FRAME_RULES = [
    owning_year_rule(E, "feeding_time", Feeding),
    in_window_rule(E, "feeding_time", "feeding event", Feeding),
    FrameTotal("meals_sum_to_daily_feed", "an assignment-day's meals sum to its daily state's feed_kg (within "
               "0.001 kg) in 2-4 meals; no meal on a day without a ration (summed over the frames)",
               Feeding, _meals_verdict),
    FrameTotal("daily_ration_percentage", "a day's meals are a sane share of the biomass for the stage "
               "(summed over the frames)", Feeding, _ration_verdict),
    FrameCheck("feeding_matches_daily_state", "a meal carries its assignment's batch, container and biomass "
               "that day, a sane amount, cost and percentage, the pellet for the fish and a store of the unit's "
               "own hall or site (every row, as written)", E, _bad_meal, lookup=Feeding),
    FrameTotal("feed_consumed_is_meals", "what a store issues of a feed in a day is exactly that day's meals "
               "from it, at their cost (summed over the frames)", Feeding, _consumed_verdict),
]
