"""The operations rules' frame forms against their SQL forms, on a tiny warehouse of 2015-2016.

For each frame rule (`FRAME_RULES` of batches, mortality, feeding, growth, health, harvest, the
readings): the 2016 frames
rendered from the plan, as the load writes them, pass it having examined exactly the rows its SQL
form examines over the stored rows (run here); then one row broken in a copy of the frames fails
it by name. The daily state the rules hold rows against is the same whether rendered from the plan
or read back from the warehouse.
"""
from __future__ import annotations

import numpy as np
import pytest

from aquamind_assets.defs.loading import SPECS, frames
from aquamind_assets.defs.resources import Warehouse
from aquamind_assets.rules import batches, environment, feeding, growth, harvest, health, mortality
from aquamind_assets.rules.daily_state_frames import year_state
from aquamind_assets.runtime.plan_cache import code_version
from aquamind_assets.warehouse.checks import run_checks
from aquamind_assets.warehouse.frame_checks import FrameTally

YEARS = ("2015", "2016")
ASSET = {batches: "batches", mortality: "mortality_events", feeding: "feeding", growth: "growth_samples",
         health: "health", harvest: "harvest", environment: "environmental_readings"}
DAY_2025 = int((np.datetime64("2025-01-01") - np.datetime64("1970-01-01")).astype(np.int64))
US_2025 = DAY_2025 * 86_400_000_000


def _set(column: str, value):
    def breaks(cols):
        cols[column][0] = value(cols) if callable(value) else value
    return breaks


def _scale(column: str, factor: float):
    return _set(column, lambda c: c[column][0] * factor)


def _same_container_and_window(cols):
    for column in ("container_id", "assignment_date", "departure_date"):
        cols[column][0] = cols[column][1]


HEALTH_DATES = {"health.vaccination": "vaccination_date", "health.treatment": "treatment_date",
                "health.disease_outbreak": "start_date", "health.journal_entry": "entry_date",
                "health.health_sampling_event": "sampling_date", "health.health_lab_sample": "sample_date"}
BREAKS = {  # rule -> (table whose first frame is broken, how)
    "assignment_daily_state_owning_year": ("batch.assignment_daily_state", _set("state_date", DAY_2025)),
    "assignment_daily_state_in_assignment_window": ("batch.assignment_daily_state", _set("state_date", 0)),
    "daily_state_covers_window": ("batch.assignment_daily_state", _set("state_date", lambda c: c["state_date"][1])),
    "population_continuity": ("batch.assignment_daily_state", _set("population", lambda c: c["population"][0] + 7)),
    "container_capacity": ("batch.assignment_daily_state", _set("population", 10 ** 9)),
    "fish_non_negative": ("batch.assignment_daily_state", _set("deaths", lambda c: c["population"][0] + 1)),
    "mortality_event_owning_year": ("batch.mortality_event", _set("event_date", DAY_2025)),
    "mortality_event_in_assignment_window": ("batch.mortality_event", _set("event_date", 0)),
    "mortality_positive": ("batch.mortality_event", _set("count", -3)),
    "deaths_sum_to_daily_state": ("batch.mortality_event", _set("count", lambda c: c["count"][0] + 1)),
    "feeding_event_owning_year": ("inventory.feeding_event", _set("feeding_time", US_2025)),
    "feeding_event_in_assignment_window": ("inventory.feeding_event", _set("feeding_time", 3_600_000_000)),
    "meals_sum_to_daily_feed": ("inventory.feeding_event", _set("amount_kg", lambda c: c["amount_kg"][0] + 1)),
    "daily_ration_percentage": ("inventory.feeding_event", _set("feeding_percentage", 50.0)),
    "feeding_matches_daily_state": ("inventory.feeding_event", _scale("batch_biomass_kg", 2.0)),
    "feed_consumed_is_meals": ("inventory.feeding_event", _set("feed_cost", lambda c: c["feed_cost"][0] + 10)),
    "growth_sample_owning_year": ("batch.growth_sample", _set("sample_date", DAY_2025)),
    "growth_sample_in_assignment_window": ("batch.growth_sample", _set("sample_date", 0)),
    "growth_sample_not_on_trays": ("batch.growth_sample", _set("sample_size", 10 ** 9)),
    "growth_sample_matches_daily_state": ("batch.growth_sample", _scale("avg_weight_g", 1.5)),
    "lice_count_owning_year": ("health.lice_count", _set("count_date", DAY_2025)),
    "lice_count_in_assignment_window": ("health.lice_count", _set("count_date", 0)),
    "lice_count_at_sea": ("health.lice_count", _set("fish_sampled", 0)),
    "fish_scores_in_range": ("health.fish_parameter_score", _set("score", 7)),
    "no_double_booking": ("batch.batch_container_assignment", _same_container_and_window),
    "harvest_lots_sum_to_pen": ("harvest.harvest_lot", _set("unit_count", lambda c: c["unit_count"][0] + 1)),
    "health_check_from_fish": ("health.health_sampling_event", _set("fish_sampled", 99)),
    "fish_condition_factor": ("health.individual_fish_observation", _scale("weight_g", 3.0)),
    "environmental_reading_owning_year": ("environmental.environmental_reading", _set("reading_time", US_2025)),
    "environmental_reading_in_assignment_window": ("environmental.environmental_reading",
                                                   _set("reading_time", 3_600_000_000)),
    "reading_sensor_matches": ("environmental.environmental_reading", _set("sensor_id", lambda c: c["sensor_id"][0] + 1)),
    "reading_in_range": ("environmental.environmental_reading", _set("value", 1e6)),
    "environmental_reading_daily_matches_readings": ("environmental.environmental_reading_daily",
                                                     _set("reading_count", lambda c: c["reading_count"][0] + 1)),
    **{f"{t.split('.')[1]}_owning_year": (t, _set(c, DAY_2025)) for t, c in HEALTH_DATES.items()},
    **{f"{t.split('.')[1]}_in_assignment_window": (t, _set(c, 0)) for t, c in HEALTH_DATES.items()
       if t != "health.disease_outbreak"},
}
RULES = {r.name: (module, r) for module in ASSET for r in module.FRAME_RULES}


@pytest.fixture(scope="module")
def loaded(dagster_env):
    from aquamind_assets.definitions import YEARLY_ASSETS
    from aquamind_assets.defs import static

    dagster_env.materialize([static.static_assets])
    for year in YEARS:
        dagster_env.materialize(YEARLY_ASSETS, partition_key=year)
    warehouse = Warehouse()
    return {"plan": warehouse.plan(), "scenario_hash": warehouse.scenario().data_hash()}


def _params(loaded, source) -> dict:
    return {"year": 2016, "asset": "test", "scenario_hash": loaded["scenario_hash"], "code_version": code_version(),
            "source": source}


def _frames(loaded, asset: str) -> list[tuple[str, dict]]:
    """The asset's 2016 frames as the load writes them, each column a copy (the plan stays intact)."""
    return [(f.table.qualified, {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v
                                 for k, v in f.columns.items()})
            for f in frames(loaded["plan"], 2016, SPECS[asset].render)]


def _tally(cur, rule, params, items):
    tally = FrameTally([rule], cur, params)
    for table, cols in items:
        tally.add(table, cols)
    (result,) = tally.results()
    return result


def test_every_frame_rule_has_a_break_and_a_sql_form():
    assert set(RULES) == set(BREAKS)
    for module, rule in RULES.values():
        sql_forms = {c.name for c in [*module.RULES, *getattr(module, "AUDIT", [])]}
        assert rule.name in sql_forms, f"{rule.name}: no SQL form of the same name"


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_frame_form_examines_what_the_sql_form_does_and_catches_one_broken_row(loaded, conn, name):
    module, rule = RULES[name]
    (sql_form,) = [c for c in [*module.RULES, *getattr(module, "AUDIT", [])] if c.name == name]
    items = _frames(loaded, ASSET[module])
    with conn.cursor() as cur:
        (stored,) = run_checks(cur, [sql_form], {"year": 2016})
        clean = _tally(cur, rule, _params(loaded, loaded["plan"]), items)
        assert clean.passed and clean.violations == 0, clean.message()
        assert clean.examined == stored.examined, (clean.examined, stored.examined)
        table, breaks = BREAKS[name]
        first = next((cols for t, cols in items if t == table and len(next(iter(cols.values()))) > 1), None)
        if first is None:
            pytest.skip(f"the tiny 2016 frames hold no {table} rows to break")
        breaks(first)
        broken = _tally(cur, rule, _params(loaded, loaded["plan"]), items)
    assert not broken.passed and broken.violations >= 1 and name in broken.message()


def test_the_daily_state_rendered_from_the_plan_is_the_one_stored(loaded, conn):
    with conn.cursor() as cur:
        rendered = year_state(cur, _params(loaded, loaded["plan"]))
        read_back = year_state(cur, _params(loaded, None))
        other_code = year_state(cur, {**_params(loaded, loaded["plan"]), "code_version": "other"})
    order = np.lexsort((read_back["state_date"], read_back["assignment_id"]))
    mine = np.lexsort((rendered["state_date"], rendered["assignment_id"]))
    assert len(read_back["assignment_id"]) > 1000
    for column in rendered:
        assert np.array_equal(rendered[column][mine], read_back[column][order]), column
        assert np.array_equal(other_code[column], read_back[column]), column  # read back, not rendered


def test_the_ration_limits_per_stage_are_the_sql_forms(conn):
    """The frame form's table of daily ration limits against the SQL form's CASE, stage by stage
    (NULL: a meal day without a daily state row)."""
    from aquamind_assets.rules.feeding_frames import DAY_PCT_MAX

    rows = conn.execute(f"""SELECT coalesce(s.lifecycle_stage_id, 0), {feeding.DAY_PCT_MAX}
                            FROM (VALUES (NULL::int), (1), (2), (3), (4), (5), (6), (7)) s (lifecycle_stage_id)""").fetchall()
    for stage, limit in rows:
        assert DAY_PCT_MAX[min(stage, len(DAY_PCT_MAX) - 1)] == limit, stage
