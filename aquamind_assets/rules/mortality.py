"""Rules for `mortality_events`: inside the window, and summing exactly to the daily state's deaths."""
from __future__ import annotations

from ..warehouse.checks import Check
from .common import in_window, orphans, owning_year
from .mortality_frames import FRAME_RULES  # noqa: F401  (part of this module's rule set)

M = "batch.mortality_event"
RULES = [
    owning_year(M, "event_date"),
    in_window(M, "event_date", "mortality event"),
    Check("mortality_positive", "a mortality event records a positive whole number of fish",
          f"SELECT count(*), count(*) FILTER (WHERE count <= 0 OR biomass_kg < 0) FROM {M} WHERE year = %(year)s",
          f"SELECT id, count, biomass_kg FROM {M} WHERE year = %(year)s AND (count <= 0 OR biomass_kg < 0) LIMIT 5"),
    Check("deaths_sum_to_daily_state", "death events sum exactly to each assignment-day's deaths in the plan",
          f"""SELECT count(*), count(*) FILTER (WHERE coalesce(m.n, 0) <> s.deaths)
              FROM batch.assignment_daily_state s LEFT JOIN (SELECT assignment_id, event_date, sum(count) n
                FROM {M} WHERE year = %(year)s GROUP BY 1, 2) m
                ON m.assignment_id = s.assignment_id AND m.event_date = s.state_date
              WHERE s.year = %(year)s""",
          f"""SELECT s.assignment_id, s.state_date, s.deaths, m.n FROM batch.assignment_daily_state s
              LEFT JOIN (SELECT assignment_id, event_date, sum(count) n FROM {M} WHERE year = %(year)s
              GROUP BY 1, 2) m ON m.assignment_id = s.assignment_id AND m.event_date = s.state_date
              WHERE s.year = %(year)s AND coalesce(m.n, 0) <> s.deaths LIMIT 5"""),
]
CROSS_YEAR = [orphans(M, "mortality event")]
