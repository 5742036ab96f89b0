"""Materializing through Dagster's own API against the persistent instance, so every CLI run shows
(and can be re-executed) in the UI; the CLI prints its own progress and one-line errors."""
from __future__ import annotations

import contextlib
import functools
import io
import logging
import sys
import time

import dagster as dg

from .errors import CliError

# Dagster's event log (UI) keeps the detail; the console shows only what the CLI prints
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
# The CLI's runs log through the event log (context.log) and dbt's output goes to its own file
# (analytics.py), so there is no step stdout worth capturing; capture would start a `tail` and an
# orphan watcher per step and stream, about 50 MiB beside each year process.
NO_CAPTURE = {"compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                               "class": "NoOpComputeLogManager"}}


@functools.cache
def instance() -> dg.DagsterInstance:
    """The persistent instance, one per process. Its PostgreSQL storages open a new connection for
    every statement by default (a server process forked per event, several per check result);
    a CLI process writes a few hundred events a run, so it keeps a small pool open as the
    webserver does (no statement timeout: a run's own writes are never cut short). Runs launched
    from the UI keep the instance's compute-log capture; the CLI's own runs do without (NO_CAPTURE)."""
    from dagster._core.instance.ref import InstanceRef

    from ..runtime import settings

    inst = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(settings.dagster_home()), overrides=NO_CAPTURE))
    inst.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=4)
    return inst


def failure_line(result) -> str:
    """The innermost cause of a failed run's first failed step, as one line."""
    failures = [e for e in result.all_events if e.is_step_failure]
    if not failures:
        return "run failed"
    err = failures[0].event_specific_data.error
    while err.cause is not None and err.cls_name in ("DagsterExecutionStepExecutionError", "RetryRequestedFromPolicy",
                                                     "DagsterMaxRetriesExceededError"):
        err = err.cause
    lines = [ln.strip() for ln in err.message.strip().splitlines() if ln.strip()]
    return lines[0] if lines else err.cls_name


def storage_down(label: str, error: BaseException) -> CliError:
    """Dagster's storage failed under a run (its storages are this process's only SQLAlchemy users;
    the warehouse is reached with psycopg 3): one line naming it. The warehouse needs nothing from
    it inside a year's transaction, so each year there committed whole or rolled back."""
    from ..runtime.settings import DAGSTER_URL_VAR

    cause = getattr(error, "orig", None) or error.__cause__ or error
    cause = getattr(cause, "orig", None) or cause
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return CliError(f"Dagster's storage ({DAGSTER_URL_VAR}) became unavailable during the {label} run: {first}; "
                    "every year in the warehouse is whole (committed or rolled back); rerun once it is back")


def from_dagster_storage(error: BaseException) -> bool:
    """Whether an error comes from Dagster's storage: SQLAlchemy (Dagster's storages are this
    process's only SQLAlchemy users; the warehouse is reached with psycopg 3) or dagster-postgres.
    Told by the exception's module, so the CLI imports neither."""
    return type(error).__module__.split(".", 1)[0] in ("sqlalchemy", "dagster_postgres")


class _Reconnecting(logging.Filter):
    """Drops dagster-postgres's root-logger warning before each reconnection attempt."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Retrying failed database connection")


def run(assets, resources: dict, *, label: str, partition_key=None, selection=None, tags=None):
    """One Dagster run; raises CliError naming its first failure, or Dagster's storage when it fails.
    What Dagster's storage says on stderr while it reconnects is held back for the run: dropped when
    the storage is down (the one line says so), written out otherwise."""
    held, root, reconnecting, down = io.StringIO(), logging.getLogger(), _Reconnecting(), False
    root.addFilter(reconnecting)
    try:
        with contextlib.redirect_stderr(held):
            result = dg.materialize(assets, instance=instance(), partition_key=partition_key, selection=selection,
                                    resources=resources, raise_on_error=False, run_config=QUIET,
                                    tags={"aquamind/source": "cli", **(tags or {})})
    except Exception as e:
        if not from_dagster_storage(e):
            raise
        down = True
        raise storage_down(label, e) from None
    finally:
        root.removeFilter(reconnecting)
        if not down:
            sys.stderr.write(held.getvalue())
    if not result.success:
        raise CliError(f"{label} failed (run {result.run_id[:8]}): {failure_line(result)}")
    return result


def materialize(assets, resources: dict, *, label: str, partition_key=None, selection=None):
    """One run of data assets, printing its rows and rate."""
    t0 = time.perf_counter()
    result = run(assets, resources, label=label, partition_key=partition_key, selection=selection)
    dt = time.perf_counter() - t0
    rows = sum(int(m.metadata["dagster/row_count"].value) for m in
               (e.materialization for e in result.get_asset_materialization_events()) if "dagster/row_count" in m.metadata)
    print(f"  {label:<18} {rows:>12,} rows {dt:8.1f} s {rows / max(dt, 1e-9):>12,.0f} rows/s", flush=True)
    return result
