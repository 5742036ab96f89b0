"""Concurrent year loads cannot deadlock: the kinds of cycle seen in multi-year runs, forced.

Each case holds two real YearLoads of the tiny template (2015 and 2016 stored) at chosen points
inside their transactions and releases them in the order that closed a cycle before the lock
protocol (warehouse/locks.py). With the protocol off (`YearLoad.lock_up_front = False`) the same
script deadlocks, so the interleaving is really forced; with it on, both loads complete, the
second having waited for the first before taking anything, and the server counts no deadlock.
A last test runs every asset's load and shows its lock plan covers every lock it holds.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psycopg
import pytest

from rel_helpers import wait_for

PARK_TIMEOUT = 120.0


@dataclass(frozen=True)
class Cycle:
    first: tuple[str, int, str]  # (asset, year, phase it parks at)
    second: tuple[str, int, str]
    second_runs_first: bool  # the control's order of release: the second's rules run before the first resumes


CYCLES = {
    # the batches rewrite takes its partitions one by one; health's rules read every assignment and batch
    "rewrite_vs_health_rule": Cycle(("batches", 2015, "truncate batch.batch_container_assignment"),
                                    ("health", 2016, "checks"), True),
    # two years of batches, each reading every stored assignment for its frame rules (the lookup after
    # the truncates) while the other holds its own year's assignments
    "batches_frame_lookups": Cycle(("batches", 2015, "truncate batch.assignment_daily_state"),
                                   ("batches", 2016, "truncate batch.assignment_daily_state"), False),
    # harvest reads every treatment, health every harvest event
    "harvest_vs_health": Cycle(("harvest", 2015, "checks"), ("health", 2016, "checks"), False),
}


class Parked:
    """One load in a thread of its own, on its own connection, that stops at `phase` until released."""

    def __init__(self, url: str, plan, scenario_hash: str, name: str, spec: tuple[str, int, str]):
        self.asset, self.year, self.phase = spec
        self.name, self.url = name, url
        self.plan, self.scenario_hash = plan, scenario_hash
        self.parked, self.go = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.result = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _hook(self, load, phase: str) -> None:
        if phase == self.phase:
            self.parked.set()
            assert self.go.wait(PARK_TIMEOUT), f"{self.name} was never released"

    def _run(self) -> None:
        from aquamind_assets.defs.loading import write_year

        try:
            with psycopg.connect(self.url, autocommit=True, application_name=self.name) as conn:
                self.result = write_year(conn, self.plan, self.asset, self.year,
                                         scenario_hash=self.scenario_hash, on_phase=self._hook)
        except BaseException as e:  # reported by the test
            self.error = e

    def waiting_for_lock(self, conn) -> bool:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                           "AND wait_event_type = 'Lock'", (self.name,)).fetchone()
        return row[0] > 0

    def join(self) -> None:
        self.thread.join(PARK_TIMEOUT)
        assert not self.thread.is_alive(), f"{self.name} did not finish"


def deadlocks(url: str) -> int:
    time.sleep(1.2)  # backends flush their statistics at most once a second (and when they exit)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


@pytest.fixture
def tiny(plan_cache, monkeypatch):
    """(plan, scenario hash) of the template's scenario, from the session's plan cache."""
    monkeypatch.setenv("DAGSTER_HOME", str(plan_cache.parent))
    from aquamind_assets.runtime.plan_cache import get_plan
    from aquamind_assets.config.scenario import load_scenario

    scenario = load_scenario(scale="tiny")
    return get_plan(scenario), scenario.data_hash()


def run_case(url: str, tiny, cycle: Cycle) -> tuple[Parked, Parked, bool]:
    """Drive the two loads through the cycle's interleaving; returns them and whether the second
    was seen waiting for a lock before it reached its own parking point."""
    plan, scenario_hash = tiny
    first = Parked(url, plan, scenario_hash, "lock-test-first", cycle.first)
    second = Parked(url, plan, scenario_hash, "lock-test-second", cycle.second)
    with psycopg.connect(url, autocommit=True) as watch:
        first.thread.start()
        wait_for("the first load to park", first.parked.is_set, timeout=PARK_TIMEOUT)
        second.thread.start()
        blocked = wait_for("the second load to park or wait for a lock",
                           lambda: "parked" if second.parked.is_set() else second.waiting_for_lock(watch) and "waiting",
                           timeout=PARK_TIMEOUT) == "waiting"
        if cycle.second_runs_first and second.parked.is_set():
            second.go.set()  # its rules now take what they read, up to the first load's partition
            wait_for("the second load's rules to wait for the first load",
                     lambda: second.waiting_for_lock(watch) or not second.thread.is_alive(), timeout=PARK_TIMEOUT)
        first.go.set()
        second.go.set()
        first.join()
        second.join()
    return first, second, blocked


@pytest.mark.parametrize("case", sorted(CYCLES))
def test_interleaving_completes_without_deadlock(fresh_db, tiny, case):
    """Two year loads (2015 and 2016) paused and released in each order that closed a lock cycle before the lock protocol -> both complete, the second waiting for the first before taking any lock, and the server counts no deadlock"""
    _, url = fresh_db("locks")
    before = deadlocks(url)
    first, second, blocked = run_case(url, tiny, CYCLES[case])
    assert first.error is None, first.error
    assert second.error is None, second.error
    assert blocked, "the second load should wait for the first before taking any lock of its own"
    assert first.result.total_rows > 0 and second.result.total_rows > 0
    assert deadlocks(url) == before


@pytest.mark.parametrize("case", sorted(CYCLES))
def test_same_interleaving_deadlocks_without_the_protocol(fresh_db, tiny, case, monkeypatch):
    """The same interleavings with the lock protocol off (locks taken as the statements go), the control -> exactly one load fails with a deadlock, so each order really closes a cycle"""
    from aquamind_assets.warehouse.load import YearLoad

    monkeypatch.setattr(YearLoad, "lock_up_front", False)
    _, url = fresh_db("nolocks")
    before = deadlocks(url)
    first, second, _ = run_case(url, tiny, CYCLES[case])
    failed = [p for p in (first, second) if p.error is not None]
    assert len(failed) == 1 and isinstance(failed[0].error, psycopg.errors.DeadlockDetected), \
        [repr(p.error) for p in (first, second)]
    assert deadlocks(url) == before + 1


def test_every_assets_lock_plan_covers_what_its_load_holds(fresh_db, tiny):
    """Every yearly asset's 2016 load, inspected just before its commit -> every lock it holds (each statement's, not only the rules') is in the lock plan it took up front"""
    from aquamind_assets.defs.loading import SPECS, write_year
    from aquamind_assets.warehouse.locks import held_outside

    plan, scenario_hash = tiny
    _, url = fresh_db("lockplan")
    outside: dict[str, list] = {}

    def inspect(load, phase):
        if phase == "record":
            outside[load.asset] = held_outside(load.conn, load.lock_plan)

    from aquamind_assets.definitions import YEARLY_ASSETS

    order = [a.key.to_user_string() for a in YEARLY_ASSETS]
    with psycopg.connect(url, autocommit=True) as conn:
        for asset in ("feeding", "growth_samples"):  # not in the template: their 2016 rules read 2015's
            write_year(conn, plan, asset, 2015, scenario_hash=scenario_hash)
        for asset in order:
            write_year(conn, plan, asset, 2016, scenario_hash=scenario_hash, on_phase=inspect)
    assert sorted(outside) == sorted(SPECS)
    assert all(not held for held in outside.values()), outside
