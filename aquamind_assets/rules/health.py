"""Rules for `health`: windows and owning year, vaccination timing, lice only at sea, treatments that
follow their count, withholding kept (no harvest inside one), no antibiotics in the Faroes, health
checks computed from their fish with K 1.0-1.4 and scores 0-3 (docs/domain.md §8, §10).

Events a year may legitimately lack (vaccinations, treatments, outbreaks) are checked with
min_examined 0; continuous monitoring (lice counts, health checks, lab samples, journal) must exist.
"""
from __future__ import annotations

from dataclasses import replace

from ..config.years import LAST_DATE
from ..warehouse.checks import Check
from .common import LAST_DAY, in_window, orphans, owning_year
from .health_frames import FRAME_RULES  # noqa: F401  (part of this module's rule set)

A, HE = "batch.batch_container_assignment", "harvest.harvest_event"
V, L, T, O = "health.vaccination", "health.lice_count", "health.treatment", "health.disease_outbreak"
J, E, F, P, X = ("health.journal_entry", "health.health_sampling_event", "health.individual_fish_observation",
                 "health.fish_parameter_score", "health.health_lab_sample")
ADULT_STAGE = 6  # batch.lifecycle_stage id of sea grow-out
ADULT_FEMALE_LEP = 4  # health.lice_type id: L. salmonis, adult, female


def _rule(name: str, description: str, select: str, bad: str, sample_cols: str, min_examined: int = 1) -> Check:
    """A check from one FROM/WHERE clause: examined = its rows, violations = rows matching `bad`."""
    return Check(name, description, f"SELECT count(*), count(*) FILTER (WHERE {bad}) {select}",
                 f"SELECT {sample_cols} {select} AND ({bad}) LIMIT 5", min_examined)


def _optional(c: Check) -> Check:
    return replace(c, min_examined=0)


_IN_WITHHOLDING = """h.assignment_id = t.assignment_id AND h.event_date >= t.treatment_date
                     AND h.event_date < t.treatment_date + t.duration_days + t.withholding_days"""


def no_harvest_in_withholding(year_filter: str = "t.year = %(year)s") -> Check:
    """Treatments (of the year, or all) with a harvest of their pen before the withholding ends."""
    return _rule("no_harvest_in_withholding", "no pen is harvested between a treatment and the end of its "
                 "withholding period, treatment_date + duration + withholding (docs/domain.md §8, §10)",
                 f"FROM {T} t WHERE {year_filter}", f"EXISTS (SELECT 1 FROM {HE} h WHERE {_IN_WITHHOLDING})",
                 "t.id, t.assignment_id, t.treatment_date, t.duration_days, t.withholding_days", 0)


# for the harvest asset's RULES: this year's harvest events against treatments of any year
HARVEST_OUTSIDE_WITHHOLDING = _rule(
    "harvest_outside_withholding", "no harvest event falls inside a treatment's withholding period of its pen "
    "(docs/domain.md §8, §10)", f"FROM {HE} h WHERE h.year = %(year)s",
    f"EXISTS (SELECT 1 FROM {T} t WHERE {_IN_WITHHOLDING})", "h.id, h.assignment_id, h.event_date", 0)

_THRESHOLD = "CASE WHEN extract(month FROM c.count_date) BETWEEN 2 AND 6 THEN 0.5 ELSE 1.0 END"
_SAMPLED = f"""FROM {E} e JOIN {A} a ON a.id = e.assignment_id LEFT JOIN (SELECT sampling_event_id, count(*) n,
                 avg(weight_g) w, avg(length_cm) l, avg(100.0 * weight_g / length_cm ^ 3) k FROM {F}
                 WHERE year = %(year)s GROUP BY 1) o ON o.sampling_event_id = e.id WHERE e.year = %(year)s"""

RULES = [
    _optional(owning_year(V, "vaccination_date")), owning_year(L, "count_date"),
    _optional(owning_year(T, "treatment_date")), _optional(owning_year(O, "start_date")),
    owning_year(J, "entry_date"), owning_year(E, "sampling_date"), owning_year(X, "sample_date"),
    _optional(in_window(V, "vaccination_date", "vaccination")), in_window(L, "count_date", "lice count"),
    _optional(in_window(T, "treatment_date", "treatment")), in_window(E, "sampling_date", "health sampling event"),
    in_window(X, "sample_date", "lab sample"), in_window(J, "entry_date", "journal entry"),
    _rule("vaccination_before_sea", "vaccination at >= 25 g, in freshwater, before the batch's sea transfer "
          "(docs/domain.md §8)", f"""FROM {V} v JOIN {A} a ON a.id = v.assignment_id
              LEFT JOIN (SELECT batch_id, min(assignment_date) AS sea_date FROM {A}
                         WHERE lifecycle_stage_id = {ADULT_STAGE} GROUP BY batch_id) s ON s.batch_id = v.batch_id
              WHERE v.year = %(year)s""",  # one pass over the assignments, not one per vaccination
          f"""v.avg_weight_g < 25 OR a.lifecycle_stage_id = {ADULT_STAGE} OR a.batch_id <> v.batch_id
              OR s.sea_date <= v.vaccination_date""",
          "v.id, v.batch_id, v.vaccination_date, v.avg_weight_g, a.lifecycle_stage_id", 0),
    _rule("lice_count_at_sea", "lice are counted only in sea pens, on the pen's own batch (docs/domain.md §8)",
          f"FROM {L} l JOIN {A} a ON a.id = l.assignment_id WHERE l.year = %(year)s",
          f"a.lifecycle_stage_id <> {ADULT_STAGE} OR a.batch_id <> l.batch_id OR l.fish_sampled <= 0",
          "l.id, l.assignment_id, a.lifecycle_stage_id, l.count_date"),
    _rule("lice_treatment_follows_count", "a delousing follows the previous day's count of its pen, above "
          "0.5 (Feb-June) or 1.0 (July-Jan) adult females per fish, and lice_before is that count (docs/domain.md §8)",
          # a treatment after 1 January follows a count of the same year: only that year's counts are read
          f"""FROM {T} t LEFT JOIN {L} c ON c.year = %(year)s AND c.assignment_id = t.assignment_id
                AND c.count_date = t.treatment_date - 1
                AND c.lice_type_id = {ADULT_FEMALE_LEP} WHERE t.year = %(year)s AND t.lice_before IS NOT NULL
                AND t.treatment_date > make_date(%(year)s, 1, 1)""",
          f"""c.count_value IS NULL OR abs(c.count_value::float8 / c.fish_sampled - t.lice_before) > 0.001
              OR c.count_value::float8 / c.fish_sampled <= {_THRESHOLD}""",
          "t.id, t.assignment_id, t.treatment_date, t.lice_before, c.count_value, c.fish_sampled", 0),
    _rule("treatment_withholding_recorded", "duration and withholding are the treatment type's and the "
          f"withholding end is treatment_date + duration + withholding (NULL only after {LAST_DATE})",
          f"FROM {T} t JOIN health.treatment_type tt ON tt.id = t.treatment_type_id WHERE t.year = %(year)s",
          f"""t.duration_days <> tt.duration_days OR t.withholding_days <> tt.withholding_days
             OR t.withholding_end_date IS DISTINCT FROM (CASE WHEN t.treatment_date + t.duration_days
                + t.withholding_days <= {LAST_DAY} THEN t.treatment_date + t.duration_days + t.withholding_days END)
             OR (tt.category = 'lice') <> (t.lice_before IS NOT NULL)""",
          "t.id, t.treatment_date, t.duration_days, t.withholding_days, t.withholding_end_date, tt.code", 0),
    _rule("no_antibiotics_in_faroes", "no antibiotic treatment of a Faroese batch (docs/domain.md §8)",
          f"""FROM {T} t JOIN health.treatment_type tt ON tt.id = t.treatment_type_id
              JOIN batch.batch b ON b.id = t.batch_id JOIN infrastructure.geography g ON g.id = b.geography_id
              WHERE t.year = %(year)s""",
          "tt.code = 'ANTIBIOTIC' AND g.name = 'Faroe Islands'", "t.id, t.batch_id, t.treatment_date, tt.code", 0),
    no_harvest_in_withholding(),
    _rule("outbreak_dates", "an outbreak names a known disease and ends on or after its start",
          f"FROM {O} o LEFT JOIN health.disease d ON d.id = o.disease_id WHERE o.year = %(year)s",
          "d.id IS NULL OR o.end_date < o.start_date", "o.id, o.disease_id, o.start_date, o.end_date", 0),
    _rule("health_check_from_fish", "a health check samples 10-30 fish of a post-smolt tank or sea pen and its "
          "count and averages are computed from its stored fish (docs/domain.md §8, §10)", _SAMPLED,
          """o.n IS DISTINCT FROM e.fish_sampled OR e.fish_sampled NOT BETWEEN 10 AND 30
             OR a.lifecycle_stage_id NOT IN (5, 6) OR abs(e.avg_weight_g - o.w) > 0.001 * o.w
             OR abs(e.avg_length_cm - o.l) > 0.001 * o.l OR abs(e.avg_k_factor - o.k) > 0.001 * o.k""",
          "e.id, e.fish_sampled, o.n, e.avg_weight_g, o.w, e.avg_k_factor, o.k"),
    _rule("fish_condition_factor", "every sampled fish has K = 100 W / L^3 within 1.0-1.4 (docs/domain.md §4)",
          f"FROM {F} f WHERE f.year = %(year)s",
          "f.length_cm <= 0 OR 100.0 * f.weight_g / f.length_cm ^ 3 NOT BETWEEN 1.0 AND 1.4",
          "f.id, f.weight_g, f.length_cm"),
    _rule("fish_scores_in_range", "every score is within its health parameter's 0-3 range and belongs to a "
          "stored fish of the year",
          f"""FROM {P} s LEFT JOIN health.health_parameter p ON p.id = s.parameter_id
              LEFT JOIN {F} f ON f.year = s.year AND f.id = s.observation_id WHERE s.year = %(year)s""",
          "p.id IS NULL OR f.id IS NULL OR s.score < p.min_score OR s.score > p.max_score OR s.score NOT BETWEEN 0 AND 3",
          "s.observation_id, s.parameter_id, s.score"),
    _rule("lab_results_after_sample", "lab results arrive after the sample is taken, with a finding; only "
          "pending results lack a date and value", f"FROM {X} x WHERE x.year = %(year)s",
          """(x.results_date IS NOT NULL AND x.results_date <= x.sample_date) OR (x.results_date IS NULL) <> (x.value IS NULL)
             OR coalesce(x.finding, '') = ''""", "x.id, x.sample_date, x.results_date, x.finding"),
    _rule("journal_entry_categories", "journal entries use the known categories and severities",
          f"FROM {J} j WHERE j.year = %(year)s",
          """j.category NOT IN ('observation', 'issue', 'action', 'diagnosis', 'treatment', 'vaccination', 'sample')
             OR j.severity NOT IN ('low', 'medium', 'high') OR coalesce(j.description, '') = ''""",
          "j.id, j.category, j.severity"),
]
CROSS_YEAR = [orphans(V, "vaccination"), orphans(L, "lice count"), orphans(T, "treatment"),
              orphans(E, "health sampling event"), orphans(X, "lab sample"), orphans(J, "journal entry"),
              replace(no_harvest_in_withholding("true"), name="no_harvest_in_withholding_all_years")]
