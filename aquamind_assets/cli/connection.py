"""The database a command works on, resolved once and handed on."""
from __future__ import annotations

from ..runtime import database, settings


def connect(start_embedded: bool = True) -> settings.DatabaseSettings:
    """Resolve the database, make sure it answers and its databases exist, and export the settings
    to this process's children (Dagster run workers, dbt, psql started from the UI). A bad setting
    a run would read later (the lock timeout) is refused here, before anything is written."""
    settings.lock_timeout_s()
    s = database.resolve(start_embedded=start_embedded)
    database.check_reachable(s)
    database.ensure_databases(s)
    settings.export_to_environ(settings.export_env(s))
    return s
