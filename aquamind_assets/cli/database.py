"""`aquamind db`: the embedded server (up, down, status, url, reset) and the warehouse's storage path."""
from __future__ import annotations

from ..runtime import database, embedded_db, settings


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
