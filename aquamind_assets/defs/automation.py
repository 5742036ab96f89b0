"""Declarative automation: after a year is (re)written, its dbt year models, the cross-year marts and
the report refresh by themselves, evaluated by the daemon that `aquamind ui` starts.

* A year model's partition runs when that year's yearly assets update (they are its direct
  upstream, see dbt/translator.py), a cross-year mart when any year model or any table it reads
  through its staging views updates, the report when a mart does. Requested together on one tick,
  the year models of every changed year run in one dbt run (their backfill policy); the cross-year
  marts and the report wait until what they read has refreshed (after_upstream).
* Nothing is launched while the warehouse is being written (WarehouseQuiet): while a run of the
  yearly or static assets is queued or running (a backfill of several years therefore ends in one
  refresh, not one per year), or while `aquamind generate` runs, which builds dbt itself.
"""
from __future__ import annotations

import warnings

import dagster as dg

from ..runtime import generate_lease

UNFINISHED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
              dg.DagsterRunStatus.STARTED]
WRITER_TAG = "aquamind/writes"  # the yearly and static assets carry it (tag value "warehouse")


class WarehouseQuiet(dg.AutomationCondition):
    """True for every candidate unless the warehouse is being written; put it last in an AND, so
    the conditions before it keep tracking updates on the ticks it holds back."""

    @property
    def name(self) -> str:
        return "warehouse_quiet"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        reason = writing(context.asset_graph_view.instance, context.asset_graph)
        if reason:
            context.log.info(f"automation waits: {reason}")
        return dg.AutomationResult(context=context, true_subset=context.get_empty_subset() if reason
                                   else context.candidate_subset)


def writing(instance: dg.DagsterInstance, asset_graph) -> str | None:
    """Why the warehouse counts as being written, or None."""
    if generate_lease.running():
        return "`aquamind generate` is running and builds dbt itself"
    writers = {k for k in asset_graph.get_all_asset_keys()
               if asset_graph.get(k).tags.get(WRITER_TAG) == "warehouse"}
    for record in instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED), limit=50):
        if set(record.dagster_run.asset_selection or ()) & writers:
            return f"run {record.dagster_run.run_id[:8]} writes the warehouse"
    return None


def _through_staging() -> dg.AutomationCondition:
    """A dependency updated, or a table behind one of its staging views did (the views never run)."""
    return (dg.AutomationCondition.any_deps_updated()
            | dg.AutomationCondition.any_deps_match(dg.AutomationCondition.any_deps_updated())
            ).with_label("any_deps_updated_or_behind_staging")


def _no_deps_missing() -> dg.AutomationCondition:
    """eager()'s "no dependency missing", except the year models' years (a warehouse holding only
    some years has the other years' partitions missing for good, and the marts over it still
    refresh: they read the years stored) and the load records (written by every load, never
    materialized on their own, so always "missing")."""
    return dg.AutomationCondition.any_deps_missing().ignore(
        dg.AssetSelection.tag("year_incremental", "") | dg.AssetSelection.assets("load_records"))


def _eager() -> dg.AutomationCondition:
    return dg.AutomationCondition.eager().replace("any_deps_missing", _no_deps_missing())


def _after_upstream() -> dg.AutomationCondition:
    """Not while a dependency is being requested or a dependency's own dependency is in progress:
    the cross-year marts and the report wait for the year models a rewrite refreshes (requested on
    a tick of their own, once the year's backfill has ended) instead of running before them and again
    after them."""
    return (~dg.AutomationCondition.any_deps_match(dg.AutomationCondition.will_be_requested())
            & ~dg.AutomationCondition.any_deps_match(dg.AutomationCondition.any_deps_in_progress())
            ).with_label("after_upstream")


# every year, not only the latest: rewriting 2017 refreshes 2017's models
YEAR_MODELS = dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window()) & WarehouseQuiet()
CROSS_YEAR_MODELS = _eager().replace("any_deps_updated", _through_staging()) & _after_upstream() & WarehouseQuiet()
REPORT = _eager() & _after_upstream() & WarehouseQuiet()

with warnings.catch_warnings():  # evaluating Python conditions in the code server is a beta feature
    warnings.simplefilter("ignore", dg.BetaWarning)
    SENSOR = dg.AutomationConditionSensorDefinition(
        "refresh_marts_and_report", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=15, emit_backfills=True, use_user_code_server=True,  # WarehouseQuiet is Python
        description="Refreshes a year's dbt models after that year is rewritten, then the cross-year marts and "
                    "the report; waits while the warehouse is being written.")
