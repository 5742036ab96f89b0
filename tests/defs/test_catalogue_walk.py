"""The catalogue walked through what is stored: every load-time rule's result is in
meta.rule_evaluation under its own name, and `aquamind validate --json` evaluates every rule of the
catalogue, once per stored (asset, year) it applies to, and records them as the audit's."""
from __future__ import annotations

import json

import psycopg
import pytest

from aquamind_assets.rules.catalogue import CATALOGUE, STATIC_ASSET

YEARS = ("2015", "2016")


@pytest.fixture(scope="module")
def loaded(dagster_env):
    from aquamind_assets.definitions import YEARLY_ASSETS
    from aquamind_assets.defs import static

    dagster_env.materialize([static.static_assets])
    for year in YEARS:
        dagster_env.materialize(YEARLY_ASSETS, partition_key=year)
    return dagster_env


def evaluations(url: str, source: str) -> set[tuple[str, str, int]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT rule, asset, year FROM meta.rule_evaluation WHERE source = %s AND committed",
                            (source,)).fetchall()
    return set(rows)


def test_every_load_time_rule_is_stored_with_its_load(loaded):
    want = {(r.name, r.asset, int(y)) for r in CATALOGUE if r.scope == "year" for y in YEARS}
    want |= {(r.name, STATIC_ASSET, 0) for r in CATALOGUE if r.scope == "static"}
    assert evaluations(loaded.db_url, "load") == want


def test_validate_json_evaluates_every_rule_and_records_the_audit(loaded, capsys):
    from aquamind_assets.cli import main

    assert main(["validate", "--json"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert all(set(p) >= {"rule", "asset", "year", "examined", "violations"} for p in printed)
    seen = {(p["rule"], p["asset"], p["year"]) for p in printed}
    assert len(seen) == len(printed), "a rule evaluated twice for the same asset and year"
    assert {p["rule"] for p in printed} == {r.name for r in CATALOGUE}
    assert all(p["violations"] == 0 for p in printed)
    assert evaluations(loaded.db_url, "audit") == seen
