"""Rules for `feeding`: meals sum to the daily ration, feed comes from the unit's own store, the
stock balances to the gram and chains day to day, no store overfilled or run below zero, no feed
eaten that was never bought (docs/domain.md §6, §10). Quantities are exact binary fractions of a kg, so
0.001 kg tolerances only absorb the plan's float4 ration, not drift.
"""
from __future__ import annotations

from ..config.years import FIRST_DATE, FIRST_YEAR, LAST_DATE
from ..sim.feed_inventory import MAX_LEAD_DAYS
from ..warehouse.checks import Check
from .common import LAST_DAY, in_window, orphans, owning_year
from .feeding_frames import FRAME_RULES  # noqa: F401  (part of this module's rule set)

E, P, S, L = "inventory.feeding_event", "inventory.feed_purchase", "inventory.feed_stock", "inventory.feed_lot"
DS = "batch.assignment_daily_state"
DAY = "(e.feeding_time AT TIME ZONE 'UTC')::date"
JAN1, DEC31 = "make_date(%(year)s::int, 1, 1)", "make_date(%(year)s::int, 12, 31)"
# day-level ration as % of biomass, by lifecycle_stage_id (fry .. adult); the plan's rations sit well inside
DAY_PCT_MAX = "CASE s.lifecycle_stage_id WHEN 2 THEN 10 WHEN 3 THEN 6 WHEN 4 THEN 4 WHEN 5 THEN 3 ELSE 4 END"


def _rule(name: str, description: str, source: str, bad: str, cols: str, where: str = "true",
          min_examined: int = 1) -> Check:
    """Rows of `source` (a FROM clause) passing `where`, those where `bad` holds; sample `cols`."""
    return Check(name, description, f"SELECT count(*), count(*) FILTER (WHERE {bad}) FROM {source} WHERE {where}",
                 f"SELECT {cols} FROM {source} WHERE ({where}) AND ({bad}) LIMIT 5", min_examined)


MEALS_PER_DAY = f"""(SELECT assignment_id, state_date, feed_kg, lifecycle_stage_id FROM {DS}
        WHERE year = %(year)s AND feed_kg > 0) s
    FULL JOIN (SELECT e.assignment_id, {DAY} AS d, sum(e.amount_kg::float8) AS kg,
        sum(e.feeding_percentage::float8) AS pct, count(*) AS meals FROM {E} e WHERE e.year = %(year)s
        GROUP BY 1, 2) m ON m.assignment_id = s.assignment_id AND m.d = s.state_date"""
# the meals per assignment-day joined to the daily state once, for the two rules that read them
MEALS_TABLE = f"""DROP TABLE IF EXISTS pg_temp.meals_per_day;
CREATE TEMP TABLE meals_per_day AS SELECT s.assignment_id, s.state_date, s.feed_kg, s.lifecycle_stage_id,
    m.assignment_id AS meal_assignment, m.d, m.kg, m.pct, m.meals FROM {MEALS_PER_DAY}"""


def _meals(name: str, description: str, bad: str, cols: str) -> Check:
    return Check(name, description, f"SELECT count(*), count(*) FILTER (WHERE {bad}) FROM meals_per_day s",
                 f"SELECT {cols} FROM meals_per_day s WHERE {bad} LIMIT 5", prepare_sql=MEALS_TABLE)


EVENT_STATE = f"""{E} e LEFT JOIN {DS} s ON s.assignment_id = e.assignment_id AND s.state_date = {DAY}
        AND s.year = %(year)s
    JOIN inventory.feed f ON f.id = e.feed_id
    JOIN infrastructure.container c ON c.id = e.container_id
    JOIN infrastructure.feed_container fc ON fc.id = e.feed_container_id"""
CHAIN = f"""(SELECT feed_container_id, feed_id, stock_date, opening_kg, closing_kg,
        lag(stock_date) OVER w AS prev_date, lag(closing_kg) OVER w AS prev_closing,
        lead(stock_date) OVER w AS next_date FROM {S} WHERE year = %(year)s
        WINDOW w AS (PARTITION BY feed_container_id, feed_id ORDER BY stock_date)) x"""
LOTS = f"""(SELECT feed_container_id, feed_id, opening_kg FROM {S}
        WHERE year = %(year)s AND stock_date = {JAN1}) s
    FULL JOIN (SELECT feed_container_id, feed_id, sum(remaining_kg) AS kg,
        bool_and(balance_date = {JAN1} AND delivery_date < balance_date AND remaining_kg > 0
                 AND cost_per_kg BETWEEN 1.0 AND 2.5) AS ok
        FROM {L} WHERE year = %(year)s GROUP BY 1, 2) l USING (feed_container_id, feed_id)"""
CONSUMED = f"""(SELECT feed_container_id, feed_id, stock_date, consumed_kg, consumed_cost FROM {S}
        WHERE year = %(year)s AND consumed_kg > 0) s
    FULL JOIN (SELECT e.feed_container_id, e.feed_id, {DAY} AS stock_date, sum(e.amount_kg::float8) AS kg,
        sum(e.feed_cost::float8) AS cost FROM {E} e WHERE e.year = %(year)s GROUP BY 1, 2, 3) m
    USING (feed_container_id, feed_id, stock_date)"""


def _landed(s_where: str, p_where: str) -> str:
    """Deliveries per store, feed and day vs the stock rows' purchased_kg."""
    return f"""(SELECT feed_container_id, feed_id, stock_date, purchased_kg FROM {S}
            WHERE purchased_kg > 0 AND {s_where}) s
        FULL JOIN (SELECT feed_container_id, feed_id, delivery_date AS stock_date, sum(quantity_kg) AS kg
            FROM {P} WHERE {p_where} GROUP BY 1, 2, 3) p
        USING (feed_container_id, feed_id, stock_date)"""


# orders of the first MAX_LEAD_DAYS of a year may belong to the previous year: checked across years
STORED_YEAR = f"{{}} IN (SELECT DISTINCT year FROM {S})"
CUTOFF = f"({JAN1} + CASE WHEN %(year)s::int = {FIRST_YEAR} THEN 0 ELSE {MAX_LEAD_DAYS} END)"

RULES = [
    owning_year(E, "feeding_time", ts=True),
    owning_year(P, "order_date"),
    owning_year(S, "stock_date"),
    in_window(E, "feeding_time", "feeding event", ts=True),
    _meals("meals_sum_to_daily_feed", "an assignment-day's meals sum to its daily state's feed_kg (within "
           "0.001 kg) in 2-4 meals (one for a ration of a few grams); no meal on a day without a ration "
           "(docs/domain.md §6)",
           "abs(coalesce(s.kg, 0) - coalesce(s.feed_kg, 0)) > 0.001 OR s.meals > 4 OR (s.meals < 2 AND s.kg >= 0.01)",
           "s.assignment_id, s.state_date, s.feed_kg, s.meal_assignment, s.d, s.kg, s.meals"),
    _meals("daily_ration_percentage", "a day's meals are a sane share of the biomass for the stage "
           "(fry <= 10 %, parr <= 6, smolt <= 4, post-smolt <= 3, sea <= 4 %)",
           f"s.pct > {DAY_PCT_MAX}", "s.assignment_id, s.state_date, s.lifecycle_stage_id, s.pct"),
    _rule("feeding_matches_daily_state", "a meal carries its assignment's batch, container and biomass "
          "that day, a positive amount and cost, feeding_percentage = amount / biomass x 100 (<= 5 % a "
          "meal), the pellet size for the fish's mean weight and a feed store of the unit's own hall or "
          "site (docs/domain.md §6)", EVENT_STATE,
          """s.assignment_id IS NULL OR e.batch_id <> s.batch_id OR e.container_id <> s.container_id
             OR e.batch_biomass_kg <> s.biomass_kg OR e.amount_kg <= 0 OR e.feed_cost <= 0
             OR e.feeding_percentage <= 0 OR e.feeding_percentage > 5
             OR abs(e.feeding_percentage - e.amount_kg::float8 / e.batch_biomass_kg * 100)
                > 1e-6 * e.feeding_percentage
             OR NOT (s.avg_weight_g >= f.min_fish_weight_g AND s.avg_weight_g < f.max_fish_weight_g)
             OR fc.hall_id IS DISTINCT FROM c.hall_id OR fc.area_id IS DISTINCT FROM c.area_id""",
          "e.id, e.assignment_id, e.feeding_time, e.feed_id, s.avg_weight_g, e.feed_container_id, "
          "e.batch_biomass_kg, s.biomass_kg, e.feeding_percentage", where="e.year = %(year)s"),
    _rule("feed_stock_balance", "opening + purchased - consumed = closing per store, feed and day, and "
          "no quantity is negative (docs/domain.md §6, §10)", S,
          """abs(opening_kg + purchased_kg - consumed_kg - closing_kg) > 0.001 OR opening_kg < 0
             OR purchased_kg < 0 OR consumed_kg < 0 OR closing_kg < 0 OR consumed_cost < 0""",
          "feed_container_id, feed_id, stock_date, opening_kg, purchased_kg, consumed_kg, closing_kg",
          where="year = %(year)s"),
    _rule("feed_stock_chain", "stock chains day to day: today's opening is yesterday's closing; a store "
          "missing a day held nothing then; stock never appears or vanishes within the year", CHAIN,
          f"""(prev_date IS NULL AND stock_date > {JAN1} AND opening_kg > 0.001)
             OR (prev_date = stock_date - 1 AND abs(prev_closing - opening_kg) > 0.001)
             OR (prev_date < stock_date - 1 AND (prev_closing > 0.001 OR opening_kg > 0.001))
             OR (next_date IS NULL AND stock_date < {DEC31} AND closing_kg > 0.001)""",
          "feed_container_id, feed_id, stock_date, opening_kg, prev_date, prev_closing, next_date, closing_kg"),
    _rule("feed_opening_lots", "the lots held on 1 January (delivered before it, priced 1.0-2.5 EUR/kg) "
          "sum to each store's opening stock of that feed", LOTS,
          "abs(coalesce(l.kg, 0) - coalesce(s.opening_kg, 0)) > 0.001 OR NOT coalesce(l.ok, true)",
          "feed_container_id, feed_id, s.opening_kg, l.kg, l.ok"),
    _rule("feed_consumed_is_meals", "what a store issues of a feed in a day is exactly that day's meals "
          "from it, at their FIFO cost: no meal from a store without stock (docs/domain.md §6, §10)", CONSUMED,
          """abs(coalesce(s.consumed_kg, 0) - coalesce(m.kg, 0)) > 0.001
             OR abs(coalesce(s.consumed_cost, 0) - coalesce(m.cost, 0)) > 0.001 + 1e-5 * coalesce(m.cost, 0)""",
          "feed_container_id, feed_id, stock_date, s.consumed_kg, m.kg, s.consumed_cost, m.cost"),
    _rule("feed_purchases_land", "each day's deliveries of the year's orders are the stock's purchased_kg "
          f"(deliveries in the first {MAX_LEAD_DAYS} days of a later year are checked across years)",
          _landed(f"year = %(year)s AND stock_date >= {CUTOFF}",
                  f"year = %(year)s AND delivery_date BETWEEN {CUTOFF} AND {DEC31}"),
          "abs(coalesce(s.purchased_kg, 0) - coalesce(p.kg, 0)) > 0.001",
          "feed_container_id, feed_id, stock_date, s.purchased_kg, p.kg"),
    _rule("feed_purchase_valid", "an order is whole kg, costs 1.0-2.5 EUR/kg and lands exactly the "
          f"supplier's lead time after it was placed, by {LAST_DATE} (docs/domain.md §6)",
          f"{P} p JOIN inventory.feed_supplier fs ON fs.id = p.supplier_id",
          f"""p.quantity_kg <= 0 OR p.quantity_kg <> round(p.quantity_kg) OR p.cost_per_kg NOT BETWEEN 1.0 AND 2.5
             OR p.delivery_date - p.order_date <> fs.lead_time_days OR p.delivery_date > {LAST_DAY}""",
          "p.id, p.order_date, p.delivery_date, fs.lead_time_days, p.quantity_kg, p.cost_per_kg",
          where="p.year = %(year)s"),
    _rule("feed_store_capacity", "no silo or barge ever holds more than its capacity, all feeds together, "
          "counting the day's deliveries before its meals (docs/domain.md §6)",
          f"""(SELECT s.feed_container_id, s.stock_date, sum(s.opening_kg + s.purchased_kg) AS kg,
                 min(fc.capacity_kg) AS capacity_kg FROM {S} s
               JOIN infrastructure.feed_container fc ON fc.id = s.feed_container_id
               WHERE s.year = %(year)s GROUP BY 1, 2) x""",
          "kg > capacity_kg + 0.001", "feed_container_id, stock_date, kg, capacity_kg"),
]

CROSS_YEAR = [
    orphans(E, "feeding event"),
    _rule("feed_purchases_land_all_years", "every delivery, whichever year ordered it, is in the stock's "
          "purchased_kg of its day, and nothing is purchased that was not ordered (years with stock rows)",
          _landed(STORED_YEAR.format("year"), f"delivery_date >= DATE '{FIRST_DATE}' AND "
                  + STORED_YEAR.format("extract(year FROM delivery_date)::int")),
          "abs(coalesce(s.purchased_kg, 0) - coalesce(p.kg, 0)) > 0.001",
          "feed_container_id, feed_id, stock_date, s.purchased_kg, p.kg", min_examined=0),
    _rule("feed_stock_chain_across_years", "each store's closing stock on 31 December is its opening stock "
          "on 1 January of the next stored year",
          f"""(SELECT year, feed_container_id, feed_id, closing_kg FROM {S}
                WHERE stock_date = make_date(year, 12, 31) AND year + 1 IN (SELECT DISTINCT year FROM {S})) d
              FULL JOIN (SELECT year - 1 AS year, feed_container_id, feed_id, opening_kg FROM {S}
                WHERE stock_date = make_date(year, 1, 1) AND year - 1 IN (SELECT DISTINCT year FROM {S})) j
              USING (year, feed_container_id, feed_id)""",
          "abs(coalesce(d.closing_kg, 0) - coalesce(j.opening_kg, 0)) > 0.001",
          "year, feed_container_id, feed_id, d.closing_kg, j.opening_kg", min_examined=0),
]
