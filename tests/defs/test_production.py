"""The Dagster assets end to end at tiny scale: static, then 2015 and 2016 of every yearly asset.

Checks: every run succeeds with every asset check passed; the load records match the stored
rows; every rule examines real rows; a year rebuilt alone, in another order, is byte-identical;
a rematerialization replaces (never duplicates); and every rule catches a violation of exactly
its invariant, injected in a transaction that is rolled back.
"""
from __future__ import annotations

import numpy as np
import psycopg
import pytest
from psycopg import sql

from aquamind_assets.defs import static
from aquamind_assets.definitions import YEARLY_ASSETS
from aquamind_assets.rules import (batches, environment, feeding, growth, harvest, health, infrastructure,
                                   infrastructure_changes, mortality)
from aquamind_assets.warehouse.checks import run_checks

YEARS = ("2015", "2016")
RULE_MODULES = (batches, mortality, harvest, environment, infrastructure, infrastructure_changes)
ASSET_NAMES = [a.key.to_user_string() for a in YEARLY_ASSETS]


def _tables_of(asset) -> list[str]:
    return [t.strip() for t in asset.metadata_by_key[asset.key]["tables"].split(",")]


YEARLY_TABLES = sorted({t for a in YEARLY_ASSETS for t in _tables_of(a)})


def _ident(qualified: str) -> sql.Composable:
    schema, name = qualified.split(".")
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def _count(conn, table: str, year: int | None) -> int:
    q = sql.SQL("SELECT count(*) FROM {}").format(_ident(table))
    if year is not None:
        q += sql.SQL(" WHERE year = {}").format(sql.Literal(year))
    return conn.execute(q).fetchone()[0]


def _content_checksum(conn, table: str, year: int) -> tuple[int, str]:
    """(rows, md5 over every row of the year as text, ordered by all columns)."""
    q = sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t), '')) "
                "FROM {} t WHERE year = {}").format(_ident(table), sql.Literal(year))
    n, digest = conn.execute(q).fetchone()
    return n, digest


def _loads(conn) -> dict[tuple[str, int], dict]:
    rows = conn.execute("SELECT asset, year, rows, checksum, loaded_at FROM meta.partition_load").fetchall()
    return {(a, y): {"rows": r, "checksum": c, "loaded_at": t} for a, y, r, c, t in rows}


@pytest.fixture(scope="module")
def loaded(dagster_env):
    results = {"static": dagster_env.materialize([static.static_assets])}
    for y in YEARS:
        results[y] = dagster_env.materialize(YEARLY_ASSETS, partition_key=y, raise_on_error=False)
    with psycopg.connect(dagster_env.db_url, autocommit=True) as conn:
        snapshot = {"loads": _loads(conn),
                    "content": {t: _content_checksum(conn, t, 2016) for t in YEARLY_TABLES}}
    return {"results": results, "snapshot": snapshot, "db_url": dagster_env.db_url, "env": dagster_env}


# ------------------------------------------------------------------ runs and checks
def test_every_run_succeeds_and_every_check_passes(loaded):
    for key, result in loaded["results"].items():
        failures = [e.event_specific_data.error.message[:300] for e in result.all_events if e.is_step_failure]
        assert result.success, f"{key}: {failures}"
        evals = result.get_asset_check_evaluations()
        assert len(evals) > 0, f"{key}: no asset check ran"
        bad = [(e.asset_key.to_user_string(), e.check_name, e.metadata) for e in evals if not e.passed]
        assert not bad, f"{key}: {bad}"
        for e in evals:  # a passed check examined rows (the vacuous-pass guard is in the rules)
            assert e.metadata["examined"].value >= 0 and e.metadata["violations"].value == 0
    # every declared check of every yearly asset was evaluated in each year, and they are the rule
    # catalogue's per-year rules, every one of them (health and growth included)
    catalogue = {r.name for m in (batches, mortality, harvest, environment, feeding, growth, health) for r in m.RULES}
    for y in YEARS:
        evals = loaded["results"][y].get_asset_check_evaluations()
        seen = {(e.asset_key.to_user_string(), e.check_name) for e in evals}
        assert {e.partition for e in evals} == {y}  # the UI files each result under its year
        declared = {(a.key.to_user_string(), k.name) for a in YEARLY_ASSETS for k in a.check_keys}
        assert seen == declared
        assert {name for _, name in seen} >= catalogue, catalogue - {name for _, name in seen}
    static_checks = {e.check_name for e in loaded["results"]["static"].get_asset_check_evaluations()}
    assert static_checks == {r.name for r in infrastructure.RULES}
    materialized = {m.asset_key.to_user_string() for m in loaded["results"]["2016"].get_asset_materialization_events()}
    assert materialized == set(ASSET_NAMES)


def test_materialization_metadata_per_partition(loaded, conn):
    """What the UI shows per year: rows per table, timings, rates, peak memory, checksum, scenario."""
    keys = {"dagster/row_count", "rows_per_table", "duration_s", "write_s", "plan_s", "rows_per_s",
            "peak_rss_mib", "checksum", "scenario_hash", "scale", "phases_s"}
    records = {(r[0], r[1]): r[2] for r in conn.execute("SELECT asset, year, checksum FROM meta.partition_load")}
    for m in loaded["results"]["2016"].get_asset_materialization_events():
        md = m.materialization.metadata
        assert keys <= set(md), f"{m.asset_key.to_user_string()} lacks {keys - set(md)}"
        assert md["dagster/row_count"].value == sum(md["rows_per_table"].value.values()) > 0
        assert md["year"].value == 2016  # the row count is the year's, and says so
        assert md["rows_per_s"].value > 0 and md["peak_rss_mib"].value > 0 and md["scale"].value == "tiny"
        assert md["checksum"].value == records[(m.asset_key.to_user_string(), 2016)]
        phases = md["phases_s"].value  # where the load's time went
        assert {"prepare", "write", "index", "analyze", "checks", "commit"} <= set(phases)
        assert 0 < sum(phases.values()) <= md["write_s"].value + 0.01  # each rounded to the ms


def test_load_records_match_the_stored_rows(loaded, conn):
    loads = _loads(conn)
    expected = {(a, int(y)) for a in ASSET_NAMES for y in YEARS} | {("static", 0)}
    assert set(loads) == expected, "one load record per (asset, year), nothing else"
    for asset in YEARLY_ASSETS:
        name = asset.key.to_user_string()
        for y in YEARS:
            rec = loads[(name, int(y))]
            assert set(rec["rows"]) == set(_tables_of(asset))
            for table, n in rec["rows"].items():
                assert _count(conn, table, int(y)) == n, (name, y, table)
            assert len(rec["checksum"]) == 64
            mat = [m.materialization for m in loaded["results"][y].get_asset_materialization_events()
                   if m.asset_key == asset.key]
            assert len(mat) == 1
            assert mat[0].metadata["dagster/row_count"].value == sum(rec["rows"].values())
    # the main tables hold real data
    assert loads[("batches", 2016)]["rows"]["batch.assignment_daily_state"] > 1000
    assert loads[("environmental_readings", 2016)]["rows"]["environmental.environmental_reading"] > 10_000
    static_rows = loads[("static", 0)]["rows"]
    for table, n in static_rows.items():
        assert _count(conn, table, None) == n, table
    assert static_rows["infrastructure.container"] > 50


@pytest.mark.usefixtures("loaded")
def test_each_rule_examines_rows_in_2016(conn):
    """Run every yearly rule directly: all pass, and each one looked at real rows."""
    with conn.cursor() as cur:
        for mod in (batches, mortality, harvest, environment, infrastructure_changes):
            for r in run_checks(cur, [*mod.RULES, *getattr(mod, "AUDIT", [])], {"year": 2016}):
                assert r.passed, r.message()
                assert r.examined > 0, f"{r.name} examined nothing in 2016"
            for r in run_checks(cur, getattr(mod, "CROSS_YEAR", []), {"year": 0}):
                assert r.passed and r.examined > 0, r.message()
        for r in run_checks(cur, infrastructure.RULES, {"year": 0}):
            assert r.passed and r.examined > 0, r.message()


# ------------------------------------------------------------------ determinism and idempotency
def test_rebuilding_years_alone_and_in_another_order_is_identical(loaded, conn):
    before = loaded["snapshot"]
    for y in ("2016", "2015"):
        result = loaded["env"].materialize(YEARLY_ASSETS, partition_key=y, raise_on_error=False)
        assert result.success
    after = _loads(conn)
    assert set(after) == set(before["loads"])
    for key, rec in before["loads"].items():
        assert after[key]["checksum"] == rec["checksum"], key
        assert after[key]["rows"] == rec["rows"], key
        if key[1] != 0:
            assert after[key]["loaded_at"] > rec["loaded_at"], f"{key} was not reloaded"
    for table in YEARLY_TABLES:
        n, digest = _content_checksum(conn, table, 2016)
        assert (n, digest) == before["content"][table], table
        (rec,) = [r for (_, y), r in after.items() if y == 2016 and table in r["rows"]]
        assert rec["rows"][table] == n
    assert sum(n for n, _ in before["content"].values()) > 10_000


def test_rematerializing_replaces_rows_never_duplicates(loaded, conn):
    counts = {(t, y): _count(conn, t, int(y)) for t in YEARLY_TABLES for y in YEARS}
    assert loaded["env"].materialize(YEARLY_ASSETS, partition_key="2016", raise_on_error=False).success
    for (t, y), n in counts.items():
        assert _count(conn, t, int(y)) == n, (t, y)
    # one copy: the keys of the spine tables are unique within the year
    for table, key in (("batch.batch_container_assignment", "id"), ("batch.batch", "id"),
                       ("batch.assignment_daily_state", "assignment_id, state_date"),
                       ("batch.mortality_event", "id"), ("harvest.harvest_lot", "id"),
                       ("environmental.sensor_fault", "id"),
                       ("environmental.sensor_fault_flag", "sensor_id, kind, flag_date")):
        total, distinct = conn.execute(sql.SQL("SELECT count(*), count(DISTINCT ({})) FROM {} WHERE year = 2016")
                                       .format(sql.SQL(key), _ident(table))).fetchone()
        assert total == distinct > 0, table
    assert _count(conn, "meta.partition_load", None) == len(ASSET_NAMES) * len(YEARS) + 1


# ------------------------------------------------------------------ injected violations
A, S = "batch.batch_container_assignment", "batch.assignment_daily_state"
M, E, L = "batch.mortality_event", "harvest.harvest_event", "harvest.harvest_lot"
R = "environmental.environmental_reading"
ONE_STATE = f"(SELECT assignment_id, state_date FROM {S} WHERE year = 2016 ORDER BY 1, 2 LIMIT 1)"
ONE_READING = f"(SELECT sensor_id, reading_time FROM {R} WHERE year = 2016 ORDER BY 1, 2 LIMIT 1)"
A_COLS = ("year, id, batch_id, container_id, lifecycle_stage_id, population_count, avg_weight_g, "
          "biomass_kg, assignment_date, departure_date, is_active")
S_COLS = ("year, assignment_id, batch_id, container_id, lifecycle_stage_id, state_date, population, "
          "avg_weight_g, biomass_kg, temperature_c, feed_kg, deaths")

# rule name -> (year the rule is run for, SQL that breaks exactly that invariant)
INJECTIONS: dict[str, tuple[int, str]] = {
    # batches
    "batch_container_assignment_owning_year": (2016, f"""UPDATE {A} SET assignment_date = DATE '2017-02-01'
        WHERE year = 2016 AND id = (SELECT min(id) FROM {A} WHERE year = 2016)"""),
    "assignment_daily_state_owning_year": (2016, f"""UPDATE {S} SET state_date = DATE '2017-01-02'
        WHERE year = 2016 AND (assignment_id, state_date) = {ONE_STATE}"""),
    "batch_owning_year": (2016, """UPDATE batch.batch SET start_date = DATE '2025-01-01'
        WHERE year = 2016 AND id = (SELECT min(id) FROM batch.batch WHERE year = 2016)"""),
    "assignment_window_valid": (2016, f"""UPDATE {A} SET departure_date = assignment_date
        WHERE year = 2016 AND id = (SELECT min(id) FROM {A} WHERE year = 2016 AND departure_date IS NOT NULL)"""),
    "assignment_daily_state_in_assignment_window": (2016, f"""UPDATE {S} s SET state_date = a.assignment_date - 1
        FROM {A} a WHERE a.id = s.assignment_id AND s.year = 2016
        AND (s.assignment_id, s.state_date) = {ONE_STATE}"""),
    "no_double_booking": (2016, f"""INSERT INTO {A} ({A_COLS})
        SELECT year, id + 1000000, batch_id, container_id, lifecycle_stage_id, population_count, avg_weight_g,
               biomass_kg, assignment_date + 1, NULL, true
        FROM {A} WHERE year = 2016 AND id = (SELECT min(id) FROM {A} WHERE year = 2016)"""),
    "container_capacity": (2016, f"""UPDATE {S} s SET population = c.max_count + 1
        FROM infrastructure.container c WHERE c.id = s.container_id AND s.year = 2016
        AND (s.assignment_id, s.state_date) = {ONE_STATE}"""),
    "fish_non_negative": (2016, f"""UPDATE {S} SET deaths = population + 1
        WHERE year = 2016 AND (assignment_id, state_date) = {ONE_STATE}"""),
    "population_continuity": (2016, f"""UPDATE {S} SET population = population - 1
        WHERE year = 2016 AND (assignment_id, state_date) = (SELECT s.assignment_id, s.state_date FROM {S} s
            WHERE s.year = 2016 AND EXISTS (SELECT 1 FROM {S} p WHERE p.year = 2016
                AND p.assignment_id = s.assignment_id AND p.state_date = s.state_date - 1)
            ORDER BY 1, 2 LIMIT 1)"""),
    "daily_state_covers_window": (2016, f"""DELETE FROM {S}
        WHERE year = 2016 AND (assignment_id, state_date) = {ONE_STATE}"""),
    "population_continuity_across_years": (0, f"""UPDATE {S} SET population = population + 1
        WHERE year = 2016 AND (assignment_id, state_date) = (SELECT n.assignment_id, n.state_date FROM {S} n
            WHERE n.year = 2016 AND n.state_date = DATE '2016-01-01' AND EXISTS (SELECT 1 FROM {S} p
                WHERE p.year = 2015 AND p.assignment_id = n.assignment_id AND p.state_date = DATE '2015-12-31')
            ORDER BY 1 LIMIT 1)"""),
    "population_leaves_at_exit": (0, f"""UPDATE {S} SET deaths = deaths + 1
        WHERE year = 2016 AND (assignment_id, state_date) = (SELECT a.id, a.departure_date - 1 FROM {A} a
            WHERE a.year = 2016 AND extract(year FROM a.departure_date - 1) = 2016 ORDER BY a.id LIMIT 1)"""),
    "transfer_conservation": (2016, """UPDATE batch.transfer_action SET transferred_count = transferred_count + 1
        WHERE year = 2016 AND id = (SELECT min(id) FROM batch.transfer_action WHERE year = 2016)"""),
    "transfer_stocks_destination": (2016, f"""UPDATE {A} SET population_count = population_count + 1
        WHERE id = (SELECT min(dest_assignment_id) FROM batch.transfer_action WHERE year = 2016)"""),
    "assignment_daily_state_has_assignment": (0, f"""INSERT INTO {S} ({S_COLS})
        SELECT year, 999999, batch_id, container_id, lifecycle_stage_id, state_date, population,
               avg_weight_g, biomass_kg, temperature_c, feed_kg, deaths
        FROM {S} WHERE year = 2016 AND (assignment_id, state_date) = {ONE_STATE}"""),
    # mortality
    "mortality_event_owning_year": (2016, f"""UPDATE {M} SET event_date = DATE '2025-01-01'
        WHERE year = 2016 AND id = (SELECT min(id) FROM {M} WHERE year = 2016)"""),
    "mortality_event_in_assignment_window": (2016, f"""UPDATE {M} m SET event_date = a.assignment_date - 1
        FROM {A} a WHERE a.id = m.assignment_id AND m.year = 2016
        AND m.id = (SELECT min(id) FROM {M} WHERE year = 2016)"""),
    "mortality_positive": (2016, f"""UPDATE {M} SET count = -3
        WHERE year = 2016 AND id = (SELECT min(id) FROM {M} WHERE year = 2016)"""),
    "deaths_sum_to_daily_state": (2016, f"""UPDATE {M} SET count = count + 1
        WHERE year = 2016 AND id = (SELECT max(id) FROM {M} WHERE year = 2016)"""),
    "mortality_event_has_assignment": (0, f"""UPDATE {M} SET assignment_id = 999999
        WHERE year = 2016 AND id = (SELECT min(id) FROM {M} WHERE year = 2016)"""),
    # harvest
    "harvest_event_owning_year": (2016, f"""UPDATE {E} SET event_date = DATE '2025-01-01'
        WHERE year = 2016 AND id = (SELECT min(id) FROM {E} WHERE year = 2016)"""),
    "harvest_event_in_assignment_window": (2016, f"""UPDATE {E} e SET event_date = a.departure_date
        FROM {A} a WHERE a.id = e.assignment_id AND e.year = 2016
        AND e.id = (SELECT min(id) FROM {E} WHERE year = 2016)"""),
    "harvest_lots_sum_to_pen": (2016, f"""UPDATE {L} SET unit_count = unit_count + 1
        WHERE year = 2016 AND id = (SELECT min(id) FROM {L} WHERE year = 2016)"""),
    "harvest_lot_in_assignment_window": (2016, f"""UPDATE {L} l SET event_date = a.departure_date
        FROM {A} a WHERE a.id = l.assignment_id AND l.year = 2016
        AND l.id = (SELECT min(id) FROM {L} WHERE year = 2016)"""),
    "gutted_below_live": (2016, f"""UPDATE {L} SET gutted_weight_kg = live_weight_kg * 1.01
        WHERE year = 2016 AND id = (SELECT min(id) FROM {L} WHERE year = 2016 AND live_weight_kg > 0)"""),
    "harvest_event_has_assignment": (0, f"""UPDATE {E} SET assignment_id = 999999
        WHERE year = 2016 AND id = (SELECT min(id) FROM {E} WHERE year = 2016)"""),
    # a harvest the day a treatment ends, the first day of its withholding period
    "harvest_outside_withholding": (2016, f"""INSERT INTO {E} (year, id, batch_id, assignment_id, event_date,
        geography_id, document_ref, is_early)
        SELECT 2016, 999999, t.batch_id, t.assignment_id, t.treatment_date + t.duration_days, 1, 'HRV-TEST', false
        FROM health.treatment t WHERE t.year = 2016 AND t.withholding_days > 0 ORDER BY t.id LIMIT 1"""),
    # environment
    "environmental_reading_owning_year": (2016, f"""UPDATE {R} SET reading_time = TIMESTAMPTZ '2025-01-01 06:00+00'
        WHERE year = 2016 AND (sensor_id, reading_time) = {ONE_READING}"""),
    "environmental_event_owning_year": (2016, """UPDATE environmental.environmental_event
        SET start_date = start_date + 400 WHERE year = 2016
        AND id = (SELECT min(id) FROM environmental.environmental_event WHERE year = 2016)"""),
    "environmental_reading_in_assignment_window": (2016, f"""UPDATE {R} r
        SET reading_time = a.assignment_date - interval '1 hour'
        FROM {A} a WHERE a.id = r.assignment_id AND r.year = 2016
        AND (r.sensor_id, r.reading_time) = {ONE_READING}"""),
    "reading_sensor_matches": (2016, f"""INSERT INTO {R} (year, reading_time, sensor_id, container_id,
            assignment_id, parameter_id, value)
        SELECT r.year, r.reading_time, r.sensor_id, r.container_id, r.assignment_id,
               (SELECT id FROM environmental.environmental_parameter WHERE code = 'salinity'), 0.2
        FROM {R} r JOIN infrastructure.container c ON c.id = r.container_id
        WHERE r.year = 2016 AND NOT c.is_sea ORDER BY r.sensor_id, r.reading_time LIMIT 1"""),
    "reading_in_range": (2016, f"""UPDATE {R} SET value = 999
        WHERE year = 2016 AND (sensor_id, reading_time) = {ONE_READING}"""),
    # every temperature reading of the year out of range: whichever pages the sample holds, it sees some
    "environmental_reading_stored_sample": (2016, f"""UPDATE {R} SET value = 999 WHERE year = 2016
        AND parameter_id = (SELECT id FROM environmental.environmental_parameter WHERE code = 'temperature')"""),
    # a rollup row off by one reading on a sampled day (15 January), and a reading's value changed
    "environmental_reading_daily_stored_sample": (2016, """UPDATE environmental.environmental_reading_daily
        SET reading_count = reading_count + 1 WHERE year = 2016 AND reading_date = DATE '2016-01-15'
        AND sensor_id = (SELECT min(sensor_id) FROM environmental.environmental_reading_daily
                         WHERE year = 2016 AND reading_date = DATE '2016-01-15')"""),
    "environmental_reading_daily_matches_readings": (2016, f"""UPDATE {R} SET value = value + 0.5
        WHERE year = 2016 AND (sensor_id, reading_time) = {ONE_READING}"""),
    "environmental_reading_has_assignment": (0, f"""UPDATE {R} SET assignment_id = 999999
        WHERE year = 2016 AND (sensor_id, reading_time) = {ONE_READING}"""),
    # infrastructure (static)
    "container_one_location": (0, """UPDATE infrastructure.container SET hall_id = NULL
        WHERE id = (SELECT min(id) FROM infrastructure.container WHERE hall_id IS NOT NULL)"""),
    "no_salinity_in_freshwater": (0, """UPDATE infrastructure.sensor s
        SET parameter_id = (SELECT id FROM environmental.environmental_parameter WHERE code = 'salinity')
        WHERE s.id = (SELECT min(s2.id) FROM infrastructure.sensor s2
                      JOIN infrastructure.container c ON c.id = s2.container_id
                      JOIN environmental.environmental_parameter p ON p.id = s2.parameter_id
                      WHERE NOT c.is_sea AND p.code = 'no2')"""),
    "pen_fish_limit": (0, """UPDATE infrastructure.container SET max_count = 200001
        WHERE id = (SELECT min(id) FROM infrastructure.container WHERE is_sea)"""),
    "unit_service_window_valid": (0, """UPDATE infrastructure.sensor SET installation_date = DATE '2004-01-01'
        WHERE id = (SELECT min(id) FROM infrastructure.sensor)"""),
    # a container used in 2016 commissioned the day after its assignment began
    "assignment_in_container_service": (2016, f"""UPDATE infrastructure.container SET commissioned_on = (
            SELECT assignment_date + 1 FROM {A} WHERE id = (SELECT min(id) FROM {A} WHERE year = 2016))
        WHERE id = (SELECT container_id FROM {A} WHERE id = (SELECT min(id) FROM {A} WHERE year = 2016))"""),
    # infrastructure_changes
    "infrastructure_event_owning_year": (2016, """UPDATE infrastructure.infrastructure_event
        SET event_date = DATE '2025-01-01' WHERE year = 2016
        AND id = (SELECT min(id) FROM infrastructure.infrastructure_event WHERE year = 2016)"""),
    "infrastructure_event_matches_unit": (2016, """UPDATE infrastructure.infrastructure_event
        SET event_date = event_date - 1 WHERE year = 2016 AND id = (SELECT min(id)
            FROM infrastructure.infrastructure_event WHERE year = 2016 AND event_kind <> 'sensor_calibrated')"""),
}

ALL_RULES = {r.name: r for mod in RULE_MODULES
             for r in [*mod.RULES, *getattr(mod, "AUDIT", []), *getattr(mod, "CROSS_YEAR", [])]}


def test_every_rule_has_an_injection_case():
    assert len(ALL_RULES) == sum(len(m.RULES) + len(getattr(m, "AUDIT", [])) + len(getattr(m, "CROSS_YEAR", []))
                                 for m in RULE_MODULES), \
        "rule names are unique"
    missing = sorted(set(ALL_RULES) - set(INJECTIONS))
    assert not missing, f"rules without an injected violation: {missing}"
    assert not set(INJECTIONS) - set(ALL_RULES), "injections for rules that no longer exist"


@pytest.mark.parametrize("rule_name", sorted(ALL_RULES))
def test_rule_catches_its_injected_violation(loaded, rule_name, injected):
    assert rule_name in INJECTIONS, f"no injection case for rule {rule_name}"
    rule = ALL_RULES[rule_name]
    year, injection = INJECTIONS[rule_name]
    injected(loaded["db_url"], rule, year, injection)
    # and the rollback left the data clean
    with psycopg.connect(loaded["db_url"], autocommit=True) as c, c.cursor() as cur:
        (again,) = run_checks(cur, [rule], {"year": year})
        assert again.passed and again.examined > 0


# ------------------------------------------------------------------ readings: the frame rules of the load
def _stored_readings(conn, n: int = 20_000) -> dict:
    cols = ["year", "reading_time", "sensor_id", "container_id", "assignment_id", "parameter_id", "value"]
    rows = conn.execute(f"""SELECT year, (extract(epoch FROM reading_time) * 1e6)::int8, sensor_id, container_id,
                                   assignment_id, parameter_id, value
                            FROM {R} WHERE year = 2016 ORDER BY reading_time, sensor_id LIMIT {n}""").fetchall()
    dtypes = [np.int16, np.int64, np.int32, np.int32, np.int32, np.int32, np.float32]
    return {c: np.array(v, dt) for c, v, dt in zip(cols, zip(*rows), dtypes)}


def _break(rule: str, cols: dict, conn) -> None:
    """Break exactly one row of `cols` against `rule`'s invariant."""
    if rule == "environmental_reading_owning_year":
        cols["reading_time"][0] = int(np.datetime64("2025-01-01T06:00", "us").astype(np.int64))
    elif rule == "environmental_reading_in_assignment_window":
        (ended,) = conn.execute(f"SELECT min(id) FROM {A} WHERE departure_date < DATE '2016-01-01'").fetchone()
        cols["assignment_id"][0] = ended
    elif rule == "reading_sensor_matches":
        cols["container_id"][0] += 1
    else:
        cols["value"][0] = 999.0


@pytest.mark.parametrize("rule", [r.name for r in environment.FRAME_RULES if getattr(r, "table", None) == R])
def test_reading_frame_rule_catches_its_injected_violation(loaded, conn, rule):
    """Each row-wise frame rule of the readings (the rollup's totals: test_frame_rules.py) passes the stored 2016 rows as they were written, having examined them all,
    and counts exactly the one row broken against its invariant."""
    from aquamind_assets.warehouse.frame_checks import FrameTally

    (check,) = [r for r in environment.FRAME_RULES if r.name == rule]
    cols = _stored_readings(conn)
    with conn.cursor() as cur:
        clean = FrameTally([check], cur, {"year": 2016})
        clean.add(R, cols)
        (res,) = clean.results()
        assert res.passed and res.examined == len(cols["value"]) and res.violations == 0, res.message()
        _break(rule, cols, conn)
        broken = FrameTally([check], cur, {"year": 2016})
        broken.add(R, cols)
        (res,) = broken.results()
    assert not res.passed and res.violations == 1 and rule in res.message()
    assert res.sample and res.sample[0]["sensor_id"] == str(cols["sensor_id"][0])
