"""`aquamind db` and `aquamind ui`: the embedded server and the Dagster UI."""
from __future__ import annotations

import os
import shutil
import sys

from ..config.scenario import load_scenario
from ..runtime import database, embedded_db, settings
from .connection import connect


def cmd_db(args) -> int:
    if args.action == "url":
        print(settings.redact(database.resolve(start_embedded=False).warehouse_url))
    elif args.action == "up":
        host, port = embedded_db.up()
        print(f"embedded PostgreSQL running on {host}:{port} (data in {embedded_db.status()['data_dir']})")
    elif args.action == "down":
        print("stopped" if embedded_db.down() else "not running")
    elif args.action == "reset":
        embedded_db.reset()
        print("embedded PostgreSQL stopped and its data deleted")
    else:
        for k, v in embedded_db.status().items():
            print(f"{k:12} {v}")
        print(f"{'storage':12} {_storage_line()}")
    return 0


def _storage_line() -> str:
    """The warehouse's recorded storage path beside the one the environment asks for."""
    import psycopg

    from ..warehouse import storage

    asked = settings.storage()
    try:
        with psycopg.connect(database.resolve(start_embedded=False).warehouse_url, connect_timeout=5) as conn:
            own = storage.recorded(conn)
    except (psycopg.Error, RuntimeError) as e:
        return f"{asked} asked ({storage.STORAGE_VAR}); the warehouse is not reachable: {str(e).strip().splitlines()[0]}"
    if own is None:
        return f"{asked} asked ({storage.STORAGE_VAR}); no warehouse created yet"
    return f"{own} (the warehouse's own)" + ("" if own == asked else f"; {storage.STORAGE_VAR} asks for {asked}: loads will be refused")


def cmd_ui(args) -> int:
    connect()
    choice = settings.run_choice()
    if choice.scale is None:  # UI-launched runs generate the scenario's own scale unless told otherwise
        settings.export_to_environ(settings.choice_env(settings.RunChoice(scale=load_scenario().scale)))
    exe = shutil.which("dagster", path=os.path.dirname(sys.executable)) or "dagster"
    cmd = [exe, "dev", "-w", str(settings.repo_root() / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    print(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it; the database keeps running)")
    os.chdir(settings.repo_root())
    os.execv(exe, cmd)
