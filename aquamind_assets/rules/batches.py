"""Rules for the `batches` asset: windows, double booking, capacity, conservation, continuity."""
from __future__ import annotations

from ..warehouse.checks import Check
from ..config.years import LAST_DATE
from .common import LAST_DAY, OPEN_END, in_window, orphans, owning_year

A = "batch.batch_container_assignment"
S = "batch.assignment_daily_state"

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
CROSS_YEAR = [orphans(S, "daily state row")]
