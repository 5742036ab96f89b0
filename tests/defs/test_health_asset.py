"""The health and growth_samples assets end to end at tiny scale on a real PostgreSQL: static, then
2015 and 2016 of batches, harvest, health and growth_samples.

Checks: every rule examines real rows; ids are unique;
every rule (per year and cross-year) catches a violation of its invariant injected in a transaction
that is rolled back; and a harvest inside a withholding period makes the health load fail.
"""
from __future__ import annotations

import psycopg
import pytest

from aquamind_assets.defs import health as health_defs, production, static
from aquamind_assets.rules import growth, health
from aquamind_assets.warehouse.checks import run_checks

YEARS = ("2015", "2016")
ASSETS = [production.batches, production.harvest, health_defs.health, health_defs.growth_samples]


@pytest.fixture(scope="module")
def loaded(dagster_env):
    """static, then 2015 and 2016 of ASSETS (a failed run raises here). That every run succeeds with every
    check passing is tests/defs/test_production.py's test, over every yearly asset."""
    dagster_env.materialize([static.static_assets])
    for y in YEARS:
        dagster_env.materialize(ASSETS, partition_key=y)
    return {"db_url": dagster_env.db_url, "env": dagster_env}


@pytest.mark.usefixtures("loaded")
def test_every_rule_examines_rows_in_2016(conn):
    with conn.cursor() as cur:
        for r in run_checks(cur, health.RULES + growth.RULES + [health.HARVEST_OUTSIDE_WITHHOLDING], {"year": 2016}):
            assert r.passed and r.examined > 0, r.message()
        for r in run_checks(cur, health.CROSS_YEAR + growth.CROSS_YEAR, {"year": 0}):
            assert r.passed and r.examined > 0, r.message()


@pytest.mark.usefixtures("loaded")
def test_ids_unique_and_rows_in_both_years(conn):
    for table, key in (("batch.growth_sample", "id"), ("health.vaccination", "id"), ("health.lice_count", "id"),
                       ("health.treatment", "id"), ("health.journal_entry", "id"),
                       ("health.health_sampling_event", "id"), ("health.individual_fish_observation", "id"),
                       ("health.fish_parameter_score", "observation_id, parameter_id"),
                       ("health.health_lab_sample", "id")):
        total, distinct, years = conn.execute(
            f"SELECT count(*), count(DISTINCT ({key})), count(DISTINCT year) FROM {table}").fetchone()
        assert total == distinct > 0 and years == 2, table


# ------------------------------------------------------------------ injected violations
A, HE = "batch.batch_container_assignment", "harvest.harvest_event"
G, V, L, T, O = ("batch.growth_sample", "health.vaccination", "health.lice_count", "health.treatment",
                 "health.disease_outbreak")
J, EV, F, P, X = ("health.journal_entry", "health.health_sampling_event", "health.individual_fish_observation",
                  "health.fish_parameter_score", "health.health_lab_sample")
DATE_OF = {G: "sample_date", V: "vaccination_date", L: "count_date", T: "treatment_date", O: "start_date",
           J: "entry_date", EV: "sampling_date", X: "sample_date"}


def _first(table: str, where: str = "") -> str:
    return f"(SELECT min(id) FROM {table} WHERE year = 2016 {where})"


def _set(table: str, assignment: str, where: str = "") -> str:
    return f"UPDATE {table} SET {assignment} WHERE year = 2016 AND id = {_first(table, where)}"


def _before_window(table: str) -> str:
    d = DATE_OF[table]
    return (f"UPDATE {table} t SET {d} = a.assignment_date - 1 FROM {A} a WHERE a.id = t.assignment_id "
            f"AND t.year = 2016 AND t.id = {_first(table)}")


# a harvest of a treated pen after the treatment but before its withholding ends
HARVEST_IN_WITHHOLDING = f"""INSERT INTO {HE} (year, id, batch_id, assignment_id, event_date, geography_id,
        document_ref, is_early)
    SELECT 2016, 999999, t.batch_id, t.assignment_id, t.treatment_date + t.duration_days, 1, 'HRV-TEST', false
    FROM {T} t WHERE t.year = 2016 AND t.withholding_days > 0 ORDER BY t.id LIMIT 1"""
FAROESE_TREATMENT = f"""(SELECT min(t.id) FROM {T} t JOIN batch.batch b ON b.id = t.batch_id
    JOIN infrastructure.geography g ON g.id = b.geography_id WHERE t.year = 2016 AND g.name = 'Faroe Islands')"""

INJECTIONS: dict[str, tuple[int, str]] = {
    **{f"{t.split('.')[1]}_owning_year": (2016, _set(t, f"{DATE_OF[t]} = DATE '2025-01-01'"))
       for t in (G, V, L, T, J, EV, X)},
    "disease_outbreak_owning_year": (2016, _set(O, "start_date = start_date + 400")),
    **{f"{t.split('.')[1]}_in_assignment_window": (2016, _before_window(t)) for t in (G, V, L, T, J, EV, X)},
    **{f"{t.split('.')[1]}_has_assignment": (0, _set(t, "assignment_id = 999999")) for t in (G, V, L, T, J, EV, X)},
    "growth_sample_condition_factor": (2016, _set(G, "condition_factor = 1.5")),
    "growth_sample_not_on_trays": (2016, _set(G, "sample_size = 100000000")),
    "growth_sample_matches_daily_state": (2016, _set(G, "avg_weight_g = avg_weight_g * 1.3, "
                                                        "std_weight_g = std_weight_g * 1.3")),
    "vaccination_before_sea": (2016, _set(V, "avg_weight_g = 20")),
    "lice_count_at_sea": (2016, _set(L, f"assignment_id = (SELECT min(id) FROM {A} WHERE lifecycle_stage_id < 6)")),
    "lice_treatment_follows_count": (2016, _set(T, "lice_before = lice_before + 0.3",
                                                "AND lice_before IS NOT NULL AND treatment_date > DATE '2016-01-01'")),
    "treatment_withholding_recorded": (2016, _set(T, "withholding_days = withholding_days + 5")),
    "no_antibiotics_in_faroes": (2016, f"""UPDATE {T} SET treatment_type_id =
        (SELECT id FROM health.treatment_type WHERE code = 'ANTIBIOTIC') WHERE year = 2016 AND id = {FAROESE_TREATMENT}"""),
    "no_harvest_in_withholding": (2016, HARVEST_IN_WITHHOLDING),
    "no_harvest_in_withholding_all_years": (0, HARVEST_IN_WITHHOLDING),
    "harvest_outside_withholding": (2016, HARVEST_IN_WITHHOLDING),
    "outbreak_dates": (2016, _set(O, "end_date = start_date - 1")),
    "health_check_from_fish": (2016, _set(EV, "avg_weight_g = avg_weight_g * 1.1")),
    "fish_condition_factor": (2016, _set(F, "length_cm = length_cm * 1.2")),
    "fish_scores_in_range": (2016, f"""UPDATE {P} SET score = 4 WHERE year = 2016
        AND (observation_id, parameter_id) = (SELECT observation_id, parameter_id FROM {P} WHERE year = 2016
        ORDER BY 1, 2 LIMIT 1)"""),
    "lab_results_after_sample": (2016, _set(X, "results_date = sample_date", "AND results_date IS NOT NULL")),
    "journal_entry_categories": (2016, _set(J, "severity = 'critical'")),
}
ALL_RULES = {r.name: r for r in [*health.RULES, *health.CROSS_YEAR, *growth.RULES, *growth.CROSS_YEAR,
                                 health.HARVEST_OUTSIDE_WITHHOLDING]}


def test_every_rule_has_an_injection_case():
    assert len(ALL_RULES) == len(health.RULES) + len(health.CROSS_YEAR) + len(growth.RULES) \
        + len(growth.CROSS_YEAR) + 1, "rule names are unique"
    assert set(ALL_RULES) == set(INJECTIONS)


@pytest.mark.parametrize("rule_name", sorted(ALL_RULES))
def test_rule_catches_its_injected_violation(loaded, rule_name, injected):
    year, injection = INJECTIONS[rule_name]
    injected(loaded["db_url"], ALL_RULES[rule_name], year, injection)


def test_harvest_inside_withholding_fails_the_health_load(loaded):
    """The blocking check stops the year: the load rolls back and the run fails naming the rule."""
    env = loaded["env"]
    with psycopg.connect(loaded["db_url"], autocommit=True) as c:
        c.execute(HARVEST_IN_WITHHOLDING)
        try:
            result = env.materialize([health_defs.health], partition_key="2016", raise_on_error=False)
            stored = c.execute(f"SELECT count(*) FROM {T} WHERE year = 2016").fetchone()[0]
        finally:
            c.execute(f"DELETE FROM {HE} WHERE id = 999999")
    assert not result.success
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == ["no_harvest_in_withholding"]
    assert stored > 0  # the previous load of 2016 is kept
