"""Whether `aquamind generate` is running against this Dagster home: each generate holds a shared
flock on $DAGSTER_HOME/generate.lock for its whole run (several may run at once, on different
warehouses), so automation (defs/automation.py) leaves dbt to them. A lock dies with its process:
a killed generate never leaves a stale lease behind.
"""
from __future__ import annotations

import contextlib
import fcntl

from . import settings

LEASE = "generate.lock"


def _path():
    return settings.dagster_home() / LEASE


@contextlib.contextmanager
def hold():
    """Hold the lease for the duration of the block."""
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def running() -> bool:
    """True while some generate holds the lease."""
    path = _path()
    if not path.exists():
        return False
    with open(path) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False
