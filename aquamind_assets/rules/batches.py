"""Rules for the `batches` asset: windows, double booking, capacity, conservation, continuity."""
from __future__ import annotations

from ..warehouse.checks import Check
from ..config.years import LAST_DATE
from .batches_frames import FRAME_RULES  # noqa: F401  (part of this module's rule set)
from .common import LAST_DAY, OPEN_END, in_window, orphans, owning_year

A = "batch.batch_container_assignment"
S = "batch.assignment_daily_state"
JAN1, NEXT_JAN1 = "make_date(%(year)s::int, 1, 1)", "make_date(%(year)s::int + 1, 1, 1)"
# the year's daily state rows per assignment, for assignments that are stored (orphans: see CROSS_YEAR)
STATE_DAYS = f"""(SELECT assignment_id, count(*) AS days, count(DISTINCT state_date) AS distinct_days FROM {S}
        WHERE year = %(year)s AND assignment_id IN (SELECT id FROM {A}) GROUP BY 1) s"""
HARVESTED = """(SELECT assignment_id, event_date, sum(unit_count) AS n FROM harvest.harvest_lot
        GROUP BY 1, 2) h"""

EXITS = f"""{A} a JOIN {S} l ON l.assignment_id = a.id AND l.state_date = a.departure_date - 1
    LEFT JOIN {HARVESTED} ON h.assignment_id = a.id AND h.event_date = l.state_date
    LEFT JOIN (SELECT source_assignment_id, sum(transferred_count) AS n FROM batch.transfer_action
        GROUP BY 1) o ON o.source_assignment_id = a.id"""
FISH_LEFT = "l.population - l.deaths - coalesce(h.n, 0) - coalesce(o.n, 0)"

RULES = [
    owning_year(A, "assignment_date"),
    owning_year(S, "state_date"),
    owning_year("batch.batch", "start_date"),
    Check("assignment_window_valid", f"an assignment ends after it starts and never after {LAST_DATE}",
          f"""SELECT count(*), count(*) FILTER (WHERE departure_date <= assignment_date
                 OR departure_date > {LAST_DAY}) FROM {A} WHERE year = %(year)s""",
          f"""SELECT id, assignment_date, departure_date FROM {A} WHERE year = %(year)s
              AND (departure_date <= assignment_date OR departure_date > {LAST_DAY}) LIMIT 5"""),
    in_window(S, "state_date", "daily state row"),
    Check("daily_state_covers_window", "every stored assignment has exactly one daily state row for each "
          "day of its window in the year: no gap, no duplicate (docs/domain.md §2)",
          f"""SELECT count(*), count(*) FILTER (WHERE coalesce(s.days, 0) <> coalesce(e.days, 0)
                 OR coalesce(s.days, 0) <> coalesce(s.distinct_days, 0))
              FROM (SELECT id, least(coalesce(departure_date, {OPEN_END}), {NEXT_JAN1})
                           - greatest(assignment_date, {JAN1}) AS days FROM {A}
                    WHERE year <= %(year)s AND assignment_date < {NEXT_JAN1}
                      AND coalesce(departure_date, {OPEN_END}) > {JAN1}) e
              FULL JOIN {STATE_DAYS} ON s.assignment_id = e.id""",
          f"""SELECT coalesce(e.id, s.assignment_id) AS assignment_id, e.days AS window_days, s.days AS state_rows,
                     s.distinct_days FROM (SELECT id, least(coalesce(departure_date, {OPEN_END}), {NEXT_JAN1})
                           - greatest(assignment_date, {JAN1}) AS days FROM {A}
                    WHERE year <= %(year)s AND assignment_date < {NEXT_JAN1}
                      AND coalesce(departure_date, {OPEN_END}) > {JAN1}) e
              FULL JOIN {STATE_DAYS} ON s.assignment_id = e.id
              WHERE coalesce(s.days, 0) <> coalesce(e.days, 0) OR coalesce(s.days, 0) <> coalesce(s.distinct_days, 0)
              LIMIT 5"""),
    Check("no_double_booking", "a container never holds two batches at once (docs/domain.md §2, §10)",
          f"""SELECT count(*), count(*) FILTER (WHERE EXISTS (
                 SELECT 1 FROM {A} b WHERE b.container_id = a.container_id AND b.id <> a.id
                   AND b.assignment_date < coalesce(a.departure_date, {OPEN_END})
                   AND a.assignment_date < coalesce(b.departure_date, {OPEN_END})))
              FROM {A} a WHERE a.year = %(year)s""",
          f"""SELECT a.id, b.id AS other, a.container_id, a.assignment_date, b.assignment_date AS other_date
              FROM {A} a JOIN {A} b ON b.container_id = a.container_id AND b.id <> a.id
               AND b.assignment_date < coalesce(a.departure_date, {OPEN_END})
               AND a.assignment_date < coalesce(b.departure_date, {OPEN_END})
              WHERE a.year = %(year)s LIMIT 5"""),
    Check("assignment_in_container_service", "a batch is assigned to a container only while it is in service: "
          "not before its commissioning, not after its retirement (docs/domain.md §1.14)",
          f"""SELECT count(*), count(*) FILTER (WHERE a.assignment_date < c.commissioned_on
                 OR coalesce(a.departure_date, {OPEN_END}) > coalesce(c.decommissioned_on, {OPEN_END}))
              FROM {A} a JOIN infrastructure.container c ON c.id = a.container_id WHERE a.year = %(year)s""",
          f"""SELECT a.id, a.container_id, a.assignment_date, a.departure_date, c.commissioned_on, c.decommissioned_on
              FROM {A} a JOIN infrastructure.container c ON c.id = a.container_id WHERE a.year = %(year)s
              AND (a.assignment_date < c.commissioned_on
                   OR coalesce(a.departure_date, {OPEN_END}) > coalesce(c.decommissioned_on, {OPEN_END})) LIMIT 5"""),
    Check("container_capacity", "no container holds more fish or biomass than it allows, and sea pens "
          "keep the Faroese density limits 10/15/20/25 kg/m3 (docs/domain.md §10)",
          f"""SELECT count(*), count(*) FILTER (WHERE s.population > c.max_count
                 OR s.biomass_kg > c.max_biomass_kg * 1.0001
                 OR (c.is_sea AND s.biomass_kg / c.volume_m3 > CASE WHEN s.avg_weight_g < 1000 THEN 10
                     WHEN s.avg_weight_g < 2000 THEN 15 WHEN s.avg_weight_g < 3000 THEN 20 ELSE 25 END))
              FROM {S} s JOIN infrastructure.container c ON c.id = s.container_id WHERE s.year = %(year)s""",
          f"""SELECT s.assignment_id, s.state_date, s.population, c.max_count, s.biomass_kg, c.max_biomass_kg
              FROM {S} s JOIN infrastructure.container c ON c.id = s.container_id WHERE s.year = %(year)s
              AND (s.population > c.max_count OR s.biomass_kg > c.max_biomass_kg * 1.0001) LIMIT 5"""),
    Check("fish_non_negative", "no negative fish and never more deaths than fish (docs/domain.md §10)",
          f"""SELECT count(*), count(*) FILTER (WHERE population < 0 OR deaths < 0 OR deaths > population)
              FROM {S} WHERE year = %(year)s""",
          f"SELECT assignment_id, state_date, population, deaths FROM {S} WHERE year = %(year)s "
          "AND (population < 0 OR deaths < 0 OR deaths > population) LIMIT 5"),
    Check("population_continuity", "within an assignment, tomorrow's fish = today's fish - today's deaths",
          f"""SELECT count(*), count(*) FILTER (WHERE nxt IS NOT NULL AND nxt <> population - deaths)
              FROM (SELECT population, deaths, lead(population) OVER w AS nxt, lead(state_date) OVER w AS nd,
                           state_date FROM {S} WHERE year = %(year)s
                    WINDOW w AS (PARTITION BY assignment_id ORDER BY state_date)) x""",
          f"""SELECT * FROM (SELECT assignment_id, state_date, population, deaths,
                  lead(population) OVER (PARTITION BY assignment_id ORDER BY state_date) AS nxt
                  FROM {S} WHERE year = %(year)s) x WHERE nxt <> population - deaths LIMIT 5"""),
    Check("transfer_conservation", "population is conserved across every transfer: actions sum to the "
          "workflow, source = transferred + losses (docs/domain.md §3, §10)",
          """SELECT count(*), count(*) FILTER (WHERE coalesce(t.n, -1) <> w.transferred_count
                 OR w.transferred_count + w.mortality_count <> w.source_count)
             FROM batch.batch_transfer_workflow w LEFT JOIN (SELECT workflow_id, sum(transferred_count) n
               FROM batch.transfer_action WHERE year = %(year)s GROUP BY 1) t ON t.workflow_id = w.id
             WHERE w.year = %(year)s""",
          """SELECT w.id, w.source_count, w.transferred_count, w.mortality_count, t.n AS actions_sum
             FROM batch.batch_transfer_workflow w LEFT JOIN (SELECT workflow_id, sum(transferred_count) n
               FROM batch.transfer_action WHERE year = %(year)s GROUP BY 1) t ON t.workflow_id = w.id
             WHERE w.year = %(year)s AND (coalesce(t.n, -1) <> w.transferred_count
               OR w.transferred_count + w.mortality_count <> w.source_count) LIMIT 5""",
          min_examined=0),
    Check("transfer_stocks_destination", "every destination assignment starts with exactly the fish moved into it",
          f"""SELECT count(*), count(*) FILTER (WHERE a.population_count <> t.n)
              FROM (SELECT dest_assignment_id, sum(transferred_count) n FROM batch.transfer_action
                    WHERE year = %(year)s GROUP BY 1) t JOIN {A} a ON a.id = t.dest_assignment_id""",
          f"""SELECT a.id, a.population_count, t.n FROM (SELECT dest_assignment_id, sum(transferred_count) n
              FROM batch.transfer_action WHERE year = %(year)s GROUP BY 1) t JOIN {A} a
              ON a.id = t.dest_assignment_id WHERE a.population_count <> t.n LIMIT 5""", min_examined=0),
]
CROSS_YEAR = [
    orphans(S, "daily state row"),
    Check("population_continuity_across_years", "on 1 January an assignment holds the fish of 31 December "
          "less that day's deaths and harvest (years with daily state stored)",
          f"""SELECT count(*), count(*) FILTER (WHERE n.population <> p.population - p.deaths - coalesce(h.n, 0))
              FROM {S} n JOIN {S} p ON p.assignment_id = n.assignment_id AND p.year = n.year - 1
                AND p.state_date = n.state_date - 1
              LEFT JOIN {HARVESTED} ON h.assignment_id = p.assignment_id AND h.event_date = p.state_date
              WHERE n.state_date = make_date(n.year, 1, 1)""",
          f"""SELECT n.assignment_id, n.state_date, n.population, p.population AS before, p.deaths, h.n AS harvested
              FROM {S} n JOIN {S} p ON p.assignment_id = n.assignment_id AND p.year = n.year - 1
                AND p.state_date = n.state_date - 1
              LEFT JOIN {HARVESTED} ON h.assignment_id = p.assignment_id AND h.event_date = p.state_date
              WHERE n.state_date = make_date(n.year, 1, 1)
                AND n.population <> p.population - p.deaths - coalesce(h.n, 0) LIMIT 5""", min_examined=0),
    Check("population_leaves_at_exit", "on an assignment's last day every fish left: the day's fish less its "
          "deaths are exactly those harvested and transferred out (docs/domain.md §3)",
          f"""SELECT count(*), count(*) FILTER (WHERE {FISH_LEFT} <> 0) FROM {EXITS}""",
          f"""SELECT a.id, l.state_date, l.population, l.deaths, h.n AS harvested, o.n AS transferred
              FROM {EXITS} WHERE {FISH_LEFT} <> 0 LIMIT 5""", min_examined=0),
]
