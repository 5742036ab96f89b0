"""The feeding asset on a real PostgreSQL: static + batches + feeding for 2015-2016, every check
passing, the cross-year rules too, and an injected violation caught by the rule that owns it."""
from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from aquamind_assets.defs import static
from aquamind_assets.defs.feeding import feeding
from aquamind_assets.defs.production import batches
from aquamind_assets.defs.resources import Warehouse
from aquamind_assets.rules import feeding as rules
from aquamind_assets.warehouse.checks import run_checks

YEARS = ("2015", "2016")


@pytest.fixture(scope="module")
def loaded(db_url, tmp_path_factory):
    """Materialize the assets once for the module; yields {year: run result}."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AQUAMIND_DATABASE_URL", db_url)
        mp.setenv("AQUAMIND_SCALE", "tiny")
        mp.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster_home")))
        with dg.instance_for_test() as instance:
            res = {"warehouse": Warehouse()}
            assert dg.materialize([static.static_assets], instance=instance, resources=res).success
            out = {}
            for year in YEARS:
                out[year] = dg.materialize([batches, feeding], partition_key=year, instance=instance,
                                           resources=res, raise_on_error=False)
            yield out


@pytest.mark.parametrize("year", YEARS)
def test_materializes_with_every_check_passing(loaded, year):
    r = loaded[year]
    assert r.success
    evals = [e for e in r.get_asset_check_evaluations() if e.asset_key == feeding.key]
    assert {e.check_name for e in evals} == {c.name for c in rules.RULES}
    failed = [(e.check_name, e.metadata) for e in evals if not e.passed]
    assert not failed
    md = {m.asset_key: m.materialization.metadata for m in r.get_asset_materialization_events()}
    rows = md[feeding.key]["rows_per_table"].value
    assert rows["inventory.feeding_event"] > 10_000 and rows["inventory.feed_stock"] > 1_000
    assert rows["inventory.feed_purchase"] > 100 and rows["inventory.feed_lot"] > 0


def test_cross_year_rules_pass(loaded, db_url):
    with psycopg.connect(db_url) as conn, conn.cursor() as cur:
        results = run_checks(cur, rules.CROSS_YEAR, {"year": 0})
    assert all(r.passed for r in results), [r.message() for r in results if not r.passed]
    assert all(r.examined > 0 for r in results)


def test_stored_stock_matches_meals_and_opening_lots(loaded, db_url):
    with psycopg.connect(db_url) as conn:
        lots, opening = conn.execute(
            """SELECT (SELECT sum(remaining_kg) FROM inventory.feed_lot WHERE year = 2015),
                      (SELECT sum(opening_kg) FROM inventory.feed_stock WHERE stock_date = '2015-01-01')""").fetchone()
        meals, consumed = conn.execute(
            """SELECT (SELECT sum(amount_kg::float8) FROM inventory.feeding_event WHERE year = 2016),
                      (SELECT sum(consumed_kg) FROM inventory.feed_stock WHERE year = 2016)""").fetchone()
    assert lots > 0 and lots == opening  # warm-up stock on 2015-01-01, exactly
    assert meals == consumed  # binary-fraction quantities: exact, not just close


@pytest.mark.parametrize("sql, rule", [
    ("UPDATE inventory.feeding_event SET amount_kg = amount_kg + 0.5 "
     "WHERE id = (SELECT min(id) FROM inventory.feeding_event WHERE year = 2016)", "meals_sum_to_daily_feed"),
    ("UPDATE inventory.feed_stock SET closing_kg = closing_kg + 1 WHERE (feed_container_id, feed_id, stock_date) = "
     "(SELECT feed_container_id, feed_id, stock_date FROM inventory.feed_stock WHERE year = 2016 "
     "AND closing_kg > 0 ORDER BY stock_date LIMIT 1)", "feed_stock_balance"),
    ("UPDATE inventory.feed_stock SET purchased_kg = purchased_kg + 1e6, closing_kg = closing_kg + 1e6 "
     "WHERE (feed_container_id, feed_id, stock_date) = (SELECT feed_container_id, feed_id, stock_date "
     "FROM inventory.feed_stock WHERE year = 2016 AND purchased_kg > 0 ORDER BY stock_date DESC LIMIT 1)",
     "feed_store_capacity"),
])
def test_injected_violation_is_caught(loaded, db_url, sql, rule):
    with psycopg.connect(db_url) as conn, conn.cursor() as cur:  # one transaction, rolled back
        before = {r.name: r for r in run_checks(cur, rules.RULES, {"year": 2016})}
        assert before[rule].passed
        cur.execute(sql)
        assert cur.rowcount == 1
        after = {r.name: r for r in run_checks(cur, rules.RULES, {"year": 2016})}
        conn.rollback()
    assert not after[rule].passed and after[rule].violations >= 1 and after[rule].sample
