"""Rules for `growth_samples`: in the window, never on egg trays, a plausible K that follows from the
stored weight and length, and a mean weight close to the daily state it was sampled from."""
from __future__ import annotations

from ..warehouse.checks import Check
from .common import in_window, orphans, owning_year
from .growth_frames import FRAME_RULES  # noqa: F401  (part of this module's rule set)

G = "batch.growth_sample"
A = "batch.batch_container_assignment"
S = "batch.assignment_daily_state"
_K = "100.0 * g.avg_weight_g / (g.avg_length_cm ^ 3)"
_BAD_K = (f"g.condition_factor < 1.0 OR g.condition_factor > 1.4 OR g.avg_length_cm <= 0 "
          f"OR abs(g.condition_factor - {_K}) > 0.005 * g.condition_factor")

RULES = [
    owning_year(G, "sample_date"),
    in_window(G, "sample_date", "growth sample"),
    Check("growth_sample_condition_factor", "condition factor K = 100 W / L^3 is 1.0-1.4 and follows from "
          "the stored mean weight and length (docs/domain.md §4)",
          f"SELECT count(*), count(*) FILTER (WHERE {_BAD_K}) FROM {G} g WHERE g.year = %(year)s",
          f"""SELECT g.id, g.avg_weight_g, g.avg_length_cm, g.condition_factor, {_K} AS k FROM {G} g
              WHERE g.year = %(year)s AND ({_BAD_K}) LIMIT 5"""),
    Check("growth_sample_not_on_trays", "fish are sampled in tanks and pens, never as eggs on trays, and "
          "a sample never holds more fish than the unit",
          f"""SELECT count(*), count(*) FILTER (WHERE a.lifecycle_stage_id = 1 OR g.sample_size <= 0
                 OR g.sample_size > s.population OR s.population IS NULL)
              FROM {G} g JOIN {A} a ON a.id = g.assignment_id
              LEFT JOIN {S} s ON s.year = g.year AND s.assignment_id = g.assignment_id AND s.state_date = g.sample_date
              WHERE g.year = %(year)s""",
          f"""SELECT g.id, g.assignment_id, a.lifecycle_stage_id, g.sample_size, s.population FROM {G} g
              JOIN {A} a ON a.id = g.assignment_id LEFT JOIN {S} s ON s.year = g.year
              AND s.assignment_id = g.assignment_id AND s.state_date = g.sample_date WHERE g.year = %(year)s
              AND (a.lifecycle_stage_id = 1 OR g.sample_size <= 0 OR g.sample_size > s.population
                   OR s.population IS NULL) LIMIT 5"""),
    Check("growth_sample_matches_daily_state", "a sample's mean weight lies within 10 % of the unit's mean "
          "weight that day, with a spread of 5-25 %",
          f"""SELECT count(*), count(*) FILTER (WHERE s.avg_weight_g IS NULL
                 OR abs(g.avg_weight_g - s.avg_weight_g) > 0.1 * s.avg_weight_g
                 OR g.std_weight_g NOT BETWEEN 0.05 * g.avg_weight_g AND 0.25 * g.avg_weight_g)
              FROM {G} g LEFT JOIN {S} s ON s.year = g.year AND s.assignment_id = g.assignment_id
                AND s.state_date = g.sample_date WHERE g.year = %(year)s""",
          f"""SELECT g.id, g.assignment_id, g.sample_date, g.avg_weight_g, g.std_weight_g, s.avg_weight_g AS plan_g
              FROM {G} g LEFT JOIN {S} s ON s.year = g.year AND s.assignment_id = g.assignment_id
                AND s.state_date = g.sample_date WHERE g.year = %(year)s AND (s.avg_weight_g IS NULL
                 OR abs(g.avg_weight_g - s.avg_weight_g) > 0.1 * s.avg_weight_g
                 OR g.std_weight_g NOT BETWEEN 0.05 * g.avg_weight_g AND 0.25 * g.avg_weight_g) LIMIT 5"""),
]
CROSS_YEAR = [orphans(G, "growth sample")]
