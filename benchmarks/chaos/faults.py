"""The faults of a chaos run: a seeded plan (kinds, waits, whether to wait for a COPY, how long a
stalled client holds its lock), the probe that tells when a load is in its COPY or its commit, and
the injectors. Every injector hits only what the run started: its own run workers, daemon,
webserver and warehouse cluster.
"""
from __future__ import annotations

import random
import signal
import os
import threading
import time
from dataclasses import dataclass, field

import psutil
import psycopg

KINDS = ("run_worker", "daemon", "webserver", "warehouse_restart", "stalled_lock")
# the chance that a fault of this kind waits for a load's COPY or commit before it fires: a killed
# worker or a restarted server then breaks a transaction half-way; the others sometimes hit a quiet moment
AT_COPY = {"run_worker": 1.0, "warehouse_restart": 1.0, "daemon": 0.5, "webserver": 0.5, "stalled_lock": 0.5}
HOLDER_APP = "chaos-stalled-holder"


@dataclass
class Fault:
    index: int
    kind: str
    wait_s: float          # quiet time before it is armed
    at_copy: bool          # armed: fire at the next COPY or commit of a load
    hold_s: float = 0.0    # stalled_lock: how long the client keeps its lock once it has it
    table: str = ""        # stalled_lock: the yearly table (every year of it) the client reads
    log: dict = field(default_factory=dict)


def plan(seed: int, count: int, stall_tables: list[str], lock_timeout_s: float) -> list[Fault]:
    """`count` faults, the kinds dealt in turn (so each kind gets count/5 of them) and shuffled."""
    rng = random.Random(seed)
    kinds = [KINDS[i % len(KINDS)] for i in range(count)]
    rng.shuffle(kinds)
    out = []
    for i, kind in enumerate(kinds):
        f = Fault(i + 1, kind, round(rng.uniform(1.0, 8.0), 2), rng.random() < AT_COPY[kind])
        if kind == "stalled_lock":
            f.hold_s = round(lock_timeout_s + rng.uniform(1.0, 6.0), 2)
            f.table = rng.choice(stall_tables)
        out.append(f)
    return out


class Probe:
    """What the warehouse's clients are doing now, from pg_stat_activity (one connection, reopened
    after a restart)."""

    def __init__(self, url: str):
        self.url = url
        self.conn = None

    def activity(self) -> dict:
        """{'phase': copy|commit|transaction|idle, 'table', 'client_port'} of the busiest client."""
        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2,
                                            application_name="chaos-probe")
            rows = self.conn.execute(
                """SELECT client_port, state, query, xact_start IS NOT NULL FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND backend_type = 'client backend' AND application_name <> %s""", (HOLDER_APP,)).fetchall()
        except psycopg.Error:
            self.close()
            return {"phase": "unreachable"}
        for port, state, query, _ in rows:
            q = (query or "").lstrip().upper()
            if state == "active" and q.startswith("COPY") and "FROM STDIN" in q:
                return {"phase": "copy", "table": query.split()[1], "client_port": port}
        for port, state, query, _ in rows:
            if state == "active" and (query or "").lstrip().upper().startswith("COMMIT"):
                return {"phase": "commit", "client_port": port}
        if any(in_xact for *_, in_xact in rows):
            return {"phase": "transaction"}
        return {"phase": "idle"}

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg.Error:
                pass
        self.conn = None


def warehouse_clients(pids: list[int], port: int) -> dict[int, set[int]]:
    """{pid: its local ports} of the processes holding a connection to the warehouse server."""
    out = {}
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        ports = {c.laddr.port for c in conns if c.raddr and c.raddr.port == port}
        if ports:
            out[pid] = ports
    return out


def kill_run_worker(stack, warehouse_port: int, activity: dict, rng: random.Random) -> dict | None:
    """SIGKILL the run worker whose connection runs the COPY (else a seeded one of the loading
    workers); None when no run is loading."""
    clients = warehouse_clients(list(stack.run_workers()), warehouse_port)
    if not clients:
        return None
    port = activity.get("client_port")
    pid = next((p for p, ports in clients.items() if port in ports), None)
    chosen = "the COPY's" if pid else "a loading"
    pid = pid or rng.choice(sorted(clients))
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return None
    return {"pid": pid, "target": f"{chosen} run worker"}


class StalledHolder(threading.Thread):
    """A client that reads a whole yearly table in a transaction (ACCESS SHARE on every year's
    partition), then sits idle in it for hold_s before it rolls back: a load needing that table
    waits for it, hits its lock timeout and fails in one line, and its retry succeeds later."""

    def __init__(self, url: str, table: str, hold_s: float):
        super().__init__(name=f"stalled-{table}", daemon=True)
        self.url, self.table, self.hold_s = url, table, hold_s
        self.acquired_at = self.released_at = None
        self.error = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.url, application_name=HOLDER_APP, connect_timeout=5) as conn:
                conn.execute("SET statement_timeout = '180s'")
                conn.execute(f"SELECT count(*) FROM {self.table}")  # noqa: S608 - a name from the DDL
                self.acquired_at = time.time()
                time.sleep(self.hold_s)
                conn.rollback()
        except psycopg.Error as e:  # e.g. a warehouse restart meanwhile ended the session
            self.error = str(e).strip().splitlines()[0]
        finally:
            self.released_at = time.time()
