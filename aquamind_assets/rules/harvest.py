"""Rules for `harvest`: on the pen's last day, lots sum to the pen's fish, gutted below live weight."""
from __future__ import annotations

from ..warehouse.checks import Check
from .common import in_window, orphans, owning_year
from .harvest_frames import FRAME_RULES  # noqa: F401  (part of this module's rule set)
from .health import HARVEST_OUTSIDE_WITHHOLDING

E, L = "harvest.harvest_event", "harvest.harvest_lot"
RULES = [
    owning_year(E, "event_date"),
    in_window(E, "event_date", "harvest event"),
    in_window(L, "event_date", "harvest lot"),
    Check("harvest_lots_sum_to_pen", "a pen's harvest lots add up to the fish in the pen that day",
          f"""SELECT count(*), count(*) FILTER (WHERE l.n IS DISTINCT FROM s.population)
              FROM {E} e LEFT JOIN (SELECT harvest_event_id, sum(unit_count) n FROM {L} WHERE year = %(year)s
                GROUP BY 1) l ON l.harvest_event_id = e.id
              LEFT JOIN batch.assignment_daily_state s ON s.assignment_id = e.assignment_id
                AND s.state_date = e.event_date AND s.year = %(year)s
              WHERE e.year = %(year)s""",
          f"""SELECT e.id, e.assignment_id, e.event_date, l.n, s.population FROM {E} e
              LEFT JOIN (SELECT harvest_event_id, sum(unit_count) n FROM {L} WHERE year = %(year)s GROUP BY 1) l
              ON l.harvest_event_id = e.id LEFT JOIN batch.assignment_daily_state s
              ON s.assignment_id = e.assignment_id AND s.state_date = e.event_date AND s.year = %(year)s
              WHERE e.year = %(year)s AND l.n IS DISTINCT FROM s.population LIMIT 5""", min_examined=0),
    Check("gutted_below_live", "gutted weight is 83-85 % of live weight and never above it (docs/domain.md §9)",
          f"""SELECT count(*), count(*) FILTER (WHERE gutted_weight_kg > live_weight_kg
                 OR (unit_count > 0 AND gutted_weight_kg < 0.8 * live_weight_kg)) FROM {L} WHERE year = %(year)s""",
          f"""SELECT id, live_weight_kg, gutted_weight_kg FROM {L} WHERE year = %(year)s
              AND (gutted_weight_kg > live_weight_kg OR (unit_count > 0 AND gutted_weight_kg < 0.8 * live_weight_kg))
              LIMIT 5""", min_examined=0),
    HARVEST_OUTSIDE_WITHHOLDING,  # health's withholding, judged from the harvest's side
]
CROSS_YEAR = [orphans(E, "harvest event")]
