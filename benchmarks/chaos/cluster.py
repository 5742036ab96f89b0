"""The warehouse's own PostgreSQL: a throwaway cluster on loopback that the chaos run may restart.

initdb as the postgres account, a free port, 127.0.0.1 only, no unix socket (as the reliability
tests' own cluster); removed on stop(). Only this cluster is ever restarted: the system server
keeps Dagster's storage, so a warehouse restart hits the loads and nothing else.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def as_postgres(*cmd: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A PostgreSQL tool as the postgres account; output via a file, never a pipe (the server that
    pg_ctl starts inherits it and would keep it open)."""
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.run(["runuser", "-u", "postgres", "--", *cmd], stdout=out, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout, cwd="/")
        out.seek(0)
        proc.stdout = out.read()
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "log"

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    @classmethod
    def start(cls) -> Cluster:
        if not (PG_BIN / "pg_ctl").exists():
            raise SystemExit(f"chaos: error: no PostgreSQL 15 binaries in {PG_BIN}; install postgresql-15")
        root = Path(tempfile.mkdtemp(prefix="aquamind-chaos-pg-", dir="/tmp"))  # the postgres account reaches /tmp
        shutil.chown(root, "postgres", "postgres")
        cluster = cls(root, free_port())
        init = as_postgres(str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust",
                           "--encoding=UTF8", "--locale=C", "--no-sync")
        if init.returncode:
            cluster.remove()
            raise SystemExit(f"chaos: error: initdb failed: {init.stdout[-500:]}")
        with open(cluster.data / "postgresql.conf", "a") as fh:
            fh.write(f"\nport = {cluster.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                     "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n")
        cluster._ctl("start")
        return cluster

    def _ctl(self, *args: str) -> subprocess.CompletedProcess:
        res = as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", *args)
        if res.returncode:
            tail = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {res.stdout[-500:]}\n{tail}")
        return res

    def restart_fast(self) -> None:
        """`pg_ctl restart -m fast`: every session is terminated, open transactions roll back."""
        self._ctl("-m", "fast", "restart")

    def create(self, db: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as c:
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
        return self.url(db)

    def version(self) -> str:
        with psycopg.connect(self.url(), autocommit=True) as c:
            return c.execute("SHOW server_version").fetchone()[0]

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
