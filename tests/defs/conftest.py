"""Dagster-level fixtures: a test instance whose warehouse is this module's fresh database.

`dagster_env` (module scope) points AQUAMIND_DATABASE_URL at the module's database, selects the
tiny scale, and gives Dagster a throwaway DAGSTER_HOME (which also holds the plan cache), all
undone when the module ends. `materialize` runs assets against it with the real resources.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest


@dataclass
class DagsterEnv:
    instance: dg.DagsterInstance
    db_url: str
    home: Path

    def materialize(self, assets, partition_key: str | None = None, raise_on_error: bool = True):
        from aquamind_assets.definitions import defs

        return dg.materialize(assets, instance=self.instance, partition_key=partition_key,
                              resources={"warehouse": defs.resources["warehouse"]},
                              raise_on_error=raise_on_error)


@pytest.fixture(scope="module")
def dagster_env(db_url, tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AQUAMIND_DATABASE_URL", db_url)
        mp.setenv("AQUAMIND_SCALE", "tiny")
        mp.setenv("DAGSTER_HOME", str(home))
        for var in ("AQUAMIND_SCENARIO", "AQUAMIND_SEED", "AQUAMIND_REPLACE_ALL"):
            mp.delenv(var, raising=False)
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            yield DagsterEnv(instance, db_url, home)


@pytest.fixture(scope="module")
def materialize(dagster_env):
    return dagster_env.materialize


def _run_injected(db_url: str, rule, year: int, injection: str):
    """The rule passes on clean data having examined rows; then, inside a transaction rolled back
    afterwards, `injection` breaks its invariant. Returns the rule's result on the broken data."""
    import psycopg

    from aquamind_assets.warehouse import storage
    from aquamind_assets.warehouse.checks import run_checks

    with psycopg.connect(db_url, autocommit=False) as c:
        try:
            with c.cursor() as cur:
                (clean,) = run_checks(cur, [rule], {"year": year})
                assert clean.passed and clean.examined > 0 and clean.violations == 0, clean.message()
                try:
                    cur.execute(injection)
                except psycopg.errors.CheckViolation as e:
                    # on the hypertable path a row cannot leave its year's chunk: the storage itself
                    # refuses what this rule would catch (warehouse/timescale.py)
                    c.rollback()
                    assert storage.recorded(c) == storage.TIMESCALE and "_y" in str(e), e
                    return None
                assert cur.rowcount >= 1, "the injection changed nothing"
                (broken,) = run_checks(cur, [rule], {"year": year})
        finally:
            c.rollback()
    assert not broken.passed and broken.violations > 0
    assert rule.name in broken.message() and "failed" in broken.message() and "\n" not in broken.message()
    return broken


@pytest.fixture
def injected():
    """run_injected(db_url, rule, year, injection) -> the failed CheckResult (see _run_injected)."""
    return _run_injected
