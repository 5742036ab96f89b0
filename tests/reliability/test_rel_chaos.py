"""The chaos benchmark's short version (benchmarks/chaos): a tiny two-year backfill through a
self-started daemon while one fault of each kind fires (a run worker, the daemon and the webserver
SIGKILLed, the warehouse server restarted, a stalled lock holder), recovered as a user would, then
compared with an undisturbed run of the same scenario.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

from rel_helpers import REPO

pytestmark = pytest.mark.skipif(not Path("/usr/lib/postgresql/15/bin/pg_ctl").exists(),
                                reason="no PostgreSQL 15 binaries for the chaos run's own warehouse cluster")


def _chaos_cli():
    """benchmarks/chaos/cli.py by path (benchmarks/ is not a package; test_conformance does the same)."""
    if "chaos" not in sys.modules:
        spec = importlib.util.spec_from_file_location("chaos", REPO / "benchmarks" / "chaos" / "__init__.py",
                                                      submodule_search_locations=[str(REPO / "benchmarks" / "chaos")])
        sys.modules["chaos"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["chaos"])
    return importlib.import_module("chaos.cli")


@pytest.fixture(scope="module")
def chaos_result(admin_url):
    cli = _chaos_cli()
    args = argparse.Namespace(seed=None, faults=5, scale="tiny", years="2015-2016", time_limit=600.0, lock_timeout=3.0)
    assert cli.check_args(args) is None
    return cli.run(args, admin=admin_url)


def test_one_fault_of_each_kind_lands_and_is_recovered(chaos_result):
    """A run worker, the daemon and the webserver SIGKILLed, the warehouse server restarted, a client holding a lock the loads need, during a backfill through the daemon -> each fault fires once, at least the worker kill and the restart during a load's COPY or commit, and each is recovered (its service back, every year it caught running materialized after it)"""
    # guard: the user's recovery in benchmarks/chaos/driver.py and what it relies on: RetryPolicy of
    # the yearly assets, run_retries and run monitoring (dagster_home/dagster.yaml), YearLoad's one transaction.
    f = chaos_result["faults"]
    assert f["by_kind"] == {k: 1 for k in ("daemon", "run_worker", "stalled_lock", "warehouse_restart", "webserver")}, f
    assert f["during_copy_or_commit"] >= 2, chaos_result["fault_log"]
    assert f["recovered"] == f["injected"], [{k: x.get(k) for k in ("index", "kind", "phase", "runs_hit", "hold_s")}
                                             for x in chaos_result["fault_log"] if not x["recovered"]]
    assert chaos_result["settled"], chaos_result["recovery_actions"]


def test_nothing_lost_or_doubled_and_every_stored_row_as_undisturbed(chaos_result):
    """After the faults and the recovery -> every table and year holds exactly the undisturbed run's row count, the stored rows read back in key order hash the same, the load records equal the reference's, and Dagster's newest materialization of each year matches its load record"""
    s = chaos_result["stored"]
    assert (s["rows_lost"], s["rows_duplicated"]) == (0, 0), s
    assert s["hashes_equal"] and s["rows"] == s["reference_rows"] > 0, s["hash_differs"]
    equal, total = chaos_result["load_records_equal_to_reference"].split("/")
    assert equal == total, chaos_result["load_records_equal_to_reference"]
    assert chaos_result["dagster_vs_load_records"]["agree"], chaos_result["dagster_vs_load_records"]


def test_validate_passes_on_the_chaos_warehouse(chaos_result):
    """`aquamind validate` over the warehouse the chaos run wrote -> exit 0"""
    assert chaos_result["validate"]["exit"] == 0, chaos_result["validate"]["tail"]
