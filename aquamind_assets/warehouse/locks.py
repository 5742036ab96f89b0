"""The lock protocol of loads: every relation lock a load will hold is taken up front, in one order.

A load rewrites its own year in place (TRUNCATE: ACCESS EXCLUSIVE on its partitions) and its
rules read other assets' tables (ACCESS SHARE). Taken as the statements go, two loads can each
hold what the other's next statement needs: a rule reading every partition of a table another
load is truncating, while that load waits for a partition the rule already holds.

So before its first statement a load computes its whole lock set and takes it with LOCK TABLE
ONLY, one relation at a time, sorted by (schema, relation name):

* ACCESS EXCLUSIVE on the partitions it rewrites (the static tables, for a static load);
* ACCESS SHARE on every table its rules' SQL or its frame checks' lookups name, with every
  partition or chunk of it, except that a reference restricted to the load's own year
  (`alias.year = %(year)s`, which the planner prunes to one partition) locks only that year's
  partition;
* ROW EXCLUSIVE on the load record and rule evaluation tables, ACCESS SHARE (ROW EXCLUSIVE
  when written) on the scenario table.

Why no cycle can form: after its acquisition a load only touches relations it already holds in
the mode it needs or a stronger one (a statement re-locking a held relation never waits;
indexes are locked through their tables, and nobody locks an index without its table), so a
load waits only inside the ordered acquisition, and only for a relation ordered after every
relation it holds. Along any chain of waiting loads the awaited relations therefore strictly
increase in that order, so the chain cannot return to where it began. The advisory lock of
(asset, year) is taken before any relation lock, so a load waiting for it holds nothing another
load could need. `held_outside(cur, plan)` lists what a transaction holds beyond its plan: the
tests run every asset's load with it to show the plan covers every statement.

A client outside the protocol (an analyst's open transaction, a stalled session) can still hold
what a load needs. The load's transaction carries a lock_timeout (AQUAMIND_LOCK_TIMEOUT_S); when it
runs out on a LOCK, `blockers()` names who holds the relation, and the load waits again only for
another load that is still working; anything else fails it with one line naming the relation and
the holder (`LockConflict`), the transaction rolled back.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from psycopg import errors, sql
from psycopg.rows import tuple_row


ACCESS_SHARE, ROW_EXCLUSIVE, ACCESS_EXCLUSIVE = "ACCESS SHARE", "ROW EXCLUSIVE", "ACCESS EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"  # a hypertable while its year chunk is swapped (timescale.py)
# each conflicts with every mode the weaker ones conflict with, so holding it lets the load's own
# statements take the weaker ones without waiting
STRENGTH = {ACCESS_SHARE: 0, ROW_EXCLUSIVE: 1, SHARE_UPDATE_EXCLUSIVE: 2, ACCESS_EXCLUSIVE: 3}
_MODE_SQL = {ACCESS_SHARE: sql.SQL("ACCESS SHARE"), ROW_EXCLUSIVE: sql.SQL("ROW EXCLUSIVE"),
             SHARE_UPDATE_EXCLUSIVE: sql.SQL("SHARE UPDATE EXCLUSIVE"), ACCESS_EXCLUSIVE: sql.SQL("ACCESS EXCLUSIVE")}
PG_MODE = {ACCESS_SHARE: "AccessShareLock", ROW_EXCLUSIVE: "RowExclusiveLock",
           SHARE_UPDATE_EXCLUSIVE: "ShareUpdateExclusiveLock", ACCESS_EXCLUSIVE: "AccessExclusiveLock"}
META_TABLES = ("meta.partition_load", "meta.rule_evaluation", "meta.scenario")
_NAME = re.compile(r"\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b")
_NOT_ALIAS = {"where", "join", "left", "right", "full", "inner", "cross", "on", "group", "order", "limit",
              "tablesample", "union", "using", "window", "natural", "lateral", "as", "and", "or"}


@dataclass
class LockPlan:
    """Relations (schema, name) -> the strongest mode the load needs; `ordered()` is the acquisition order."""

    modes: dict[tuple[str, str], str] = field(default_factory=dict)

    def need(self, schema: str, name: str, mode: str) -> None:
        held = self.modes.get((schema, name))
        if held is None or STRENGTH[mode] > STRENGTH[held]:
            self.modes[(schema, name)] = mode

    def ordered(self) -> list[tuple[str, str, str]]:
        return [(s, n, self.modes[(s, n)]) for s, n in sorted(self.modes)]


def _references(statement: str, qualified: str) -> Iterable[str]:
    """For each reference to `qualified` in the statement, its alias ('' when it has none)."""
    for m in re.finditer(rf"\b{re.escape(qualified)}\b(?:\s+(?:AS\s+)?(\w+))?", statement, re.I):
        alias = (m.group(1) or "").lower()
        yield "" if alias in _NOT_ALIAS else alias


def own_year_only(statement: str, qualified: str) -> bool:
    """Whether every reference to the table in the statement is restricted to the load's year, so
    the planner reads (and locks) that year's partition alone."""
    for alias in _references(statement, qualified):
        if alias:
            if not re.search(rf"\b{alias}\.year\s*=\s*%\(year\)s", statement):
                return False
        elif not re.search(rf"\b{re.escape(qualified)}\s+WHERE\s+year\s*=\s*%\(year\)s", statement, re.I):
            return False
    return True


def named_tables(statements: Iterable[str]) -> dict[str, bool]:
    """Every `schema.name` the statements spell (tables among them, and alias.column pairs, which
    the catalog then drops) -> whether every statement naming it reads only the load's year of it."""
    out: dict[str, bool] = {}
    for statement in statements:
        for m in _NAME.finditer(statement):
            name = f"{m[1]}.{m[2]}"
            out[name] = out.get(name, True) and own_year_only(statement, name)
    return out


def partitions(cur, names: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """For each existing table among `names` (qualified), itself and every partition (or
    TimescaleDB chunk) under it, from the catalog (reading the catalog locks none of them)."""
    pairs = [n.split(".", 1) for n in dict.fromkeys(names)]
    rows = cur.execute("""WITH RECURSIVE tree(root, oid) AS (
                              SELECT n.nspname || '.' || c.relname, c.oid FROM pg_class c
                              JOIN pg_namespace n ON n.oid = c.relnamespace
                              JOIN unnest(%s::text[], %s::text[]) AS w(s, r) ON w.s = n.nspname AND w.r = c.relname
                              WHERE c.relkind IN ('r', 'p')
                              UNION SELECT tree.root, i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.oid)
                          SELECT tree.root, n.nspname, c.relname FROM tree JOIN pg_class c ON c.oid = tree.oid
                          JOIN pg_namespace n ON n.oid = c.relnamespace""",
                       ([s for s, _ in pairs], [r for _, r in pairs])).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for root, schema, rel in rows:
        out.setdefault(str(root), []).append((str(schema), str(rel)))
    return out


def _partitioned(cur, qualified: str) -> bool:
    schema, name = qualified.split(".", 1)
    row = cur.execute("""SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = %s AND c.relname = %s""", (schema, name)).fetchone()
    return row is not None and row[0] == "p"


def plan_locks(cur, *, writes: Iterable[tuple[str, str, str]], statements: Iterable[str],
               extra_reads: Iterable[str], year: int | None,
               meta_writes: Iterable[str] = ("meta.partition_load", "meta.rule_evaluation")) -> LockPlan:
    """The lock set of a load: `writes` as given ((schema, relation, mode)), every table the
    statements name or `extra_reads` lists in ACCESS SHARE (only its `<name>_y<year>` partition
    where every reference is restricted to the year), the meta tables as the load uses them."""
    plan = LockPlan()
    for schema, name, mode in writes:
        plan.need(schema, name, mode)
    reads = named_tables(statements)
    for name in [*extra_reads, *META_TABLES]:
        reads[name] = False
    for name, tree in partitions(cur, reads).items():
        rel = name.split(".", 1)[1]
        if reads[name] and year is not None and _partitioned(cur, name):
            # a year-restricted reference prunes the other partitions before locking them; a
            # hypertable's chunks (inheritance children) are all locked while planning: all of them
            own = [(s, n) for s, n in tree if n in (rel, f"{rel}_y{year}")]
            tree = own if len(own) == 2 else tree
        for child_schema, child in tree:
            plan.need(child_schema, child, ACCESS_SHARE)
    for name in meta_writes:
        plan.need(*name.split("."), ROW_EXCLUSIVE)
    return plan


class LockConflict(Exception):
    """A load could not take a lock: a deadlock with another client, or the lock timeout ran out.
    str() is one line naming the relation, the mode and the kind of failure."""

    def __init__(self, kind: str, relation: str, mode: str, detail: str = ""):
        super().__init__(f"{kind} while taking {mode} on {relation}" + (f" ({detail})" if detail else ""))
        self.kind, self.relation, self.mode = kind, relation, mode


# which held modes keep a LOCK of each mode waiting (the server's conflict table)
CONFLICTS = {ACCESS_SHARE: ["AccessExclusiveLock"],
             ROW_EXCLUSIVE: ["ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"],
             SHARE_UPDATE_EXCLUSIVE: ["ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
                                      "ExclusiveLock", "AccessExclusiveLock"],
             ACCESS_EXCLUSIVE: ["AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
                                "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"]}


@dataclass(frozen=True)
class Holder:
    """A client holding (or queued ahead for) a lock a load waits for, from pg_locks and pg_stat_activity."""

    pid: int
    application: str
    client: str
    state: str
    idle_s: float  # since its last statement began or ended (pg_stat_activity.state_change)
    query: str
    running_load: bool  # another load (holds an (asset, year) advisory lock) that is not stalled

    def __str__(self) -> str:
        query = re.sub(r"(?i)(password\s*)'[^']*'", r"\1'***'", self.query)
        query = query if len(query) <= 120 else query[:117] + "..."
        app = f"application {self.application!r}" if self.application else "no application_name"
        return (f"pid {self.pid}, {app}, client {self.client}, {self.state or 'state unknown'} for {self.idle_s:.0f} s, "
                f"{'running' if self.state == 'active' else 'last statement'} {query!r}")


def blockers(cur, schema: str, name: str, mode: str) -> list[Holder]:
    """Who keeps a LOCK of `mode` on schema.name waiting: the clients holding a conflicting mode
    (or, when none holds one, those queued ahead with one). A holder counts as a running load while
    it holds a load's (asset, year) advisory lock and has not sat idle in its transaction longer
    than this transaction's lock_timeout."""
    rows = cur.execute(
        """SELECT a.pid, coalesce(a.application_name, ''),
                  coalesce(host(a.client_addr), CASE WHEN a.client_port = -1 THEN 'local socket' ELSE 'unknown' END),
                  coalesce(a.state, ''), extract(epoch FROM clock_timestamp() - a.state_change)::float8,
                  regexp_replace(coalesce(a.query, ''), '[[:space:]]+', ' ', 'g'),
                  EXISTS (SELECT 1 FROM pg_locks v WHERE v.pid = a.pid AND v.locktype = 'advisory' AND v.granted
                            AND v.objsubid = 2 AND v.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
                    AND (a.state = 'active' OR clock_timestamp() - a.state_change
                         < greatest(current_setting('lock_timeout')::interval, interval '1 second')),
                  l.granted
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'relation' AND l.relation = (quote_ident(%s) || '.' || quote_ident(%s))::regclass
             AND l.pid <> pg_backend_pid() AND l.mode = ANY(%s)
           ORDER BY l.granted DESC, a.xact_start, a.pid""", (schema, name, CONFLICTS[mode])).fetchall()
    granted = [r for r in rows if r[-1]]
    seen, out = set(), []
    for r in granted or rows:
        if r[0] not in seen:
            seen.add(r[0])
            out.append(Holder(*r[:-1]))
    return out


def _held_by(holders: list[Holder]) -> str:
    if not holders:
        return "no holder found any more"
    shown = "; ".join(str(h) for h in holders[:3])
    return "held by " + shown + (f"; and {len(holders) - 3} more" if len(holders) > 3 else "")


def acquire(cur, plan: LockPlan) -> None:
    """LOCK TABLE ONLY each relation of the plan, in the plan's order, one statement each, so a
    failure names the relation it was waiting for. Each LOCK runs in a savepoint: when the
    transaction's lock_timeout runs out, the load looks up who holds the relation. Another running
    load is waited for again (loads always finish, and cannot wait for each other in a cycle, see
    above); any other client, or a load idle in its transaction longer than the timeout, makes the
    load fail with a LockConflict naming the relation and the holder (pid, application, client,
    state, statement)."""
    for schema, name, mode in plan.ordered():
        lock = sql.SQL("LOCK TABLE ONLY {}.{} IN {} MODE").format(
            sql.Identifier(schema), sql.Identifier(name), _MODE_SQL[mode])
        t0 = time.monotonic()
        while True:
            try:
                cur.execute(sql.SQL("SAVEPOINT aquamind_lock; {}; RELEASE SAVEPOINT aquamind_lock").format(lock))
                break
            except errors.DeadlockDetected as e:
                raise LockConflict("deadlock", f"{schema}.{name}", mode) from e
            except errors.LockNotAvailable as e:
                cur.execute("ROLLBACK TO SAVEPOINT aquamind_lock; RELEASE SAVEPOINT aquamind_lock")
                holders = blockers(cur, schema, name, mode)
                if holders and all(h.running_load for h in holders):
                    continue
                raise LockConflict("lock timeout", f"{schema}.{name}", mode,
                                   f"after {time.monotonic() - t0:.1f} s; {_held_by(holders)}") from e


_RELATION = re.compile(r"on relation (\d+) of database")


def conflict_line(error: BaseException, connect) -> str:
    """One line for a deadlock or lock timeout, naming the tables: from a LockConflict, or from the
    relation ids in the server's deadlock detail (resolved to names on a fresh connection)."""
    if isinstance(error, LockConflict):
        return str(error)
    kind = "deadlock" if isinstance(error, errors.DeadlockDetected) else "lock timeout"
    oids = sorted({int(m) for m in _RELATION.findall(getattr(error.diag, "message_detail", "") or "")})
    names = [str(o) for o in oids]
    if oids:
        try:
            with connect() as conn:
                names = [conn.execute("SELECT %s::oid::regclass::text", (o,)).fetchone()[0] for o in oids]
        except Exception:  # the names are a courtesy: the ids still say which relations
            pass
    return f"{kind} on {', '.join(names) or 'a relation'}: {str(error).splitlines()[0]}"


def held_outside(conn, plan: LockPlan) -> list[tuple[str, str, str]]:
    """(schema, relation, mode) of every lock this transaction holds on a table (not an index,
    sequence, catalog or temporary table) that its plan does not cover in the mode held or a
    stronger one."""
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute("""SELECT n.nspname, c.relname, l.mode FROM pg_locks l
                              JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
                                AND c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_timescaledb_catalog', '_timescaledb_config')
                                AND n.nspname NOT LIKE 'pg_temp%%'""").fetchall()
    by_pg = {v: k for k, v in PG_MODE.items()}
    out = []
    for schema, name, mode in rows:
        planned, want = plan.modes.get((schema, name)), by_pg.get(mode)
        if planned == ACCESS_EXCLUSIVE or (planned is not None and want is not None
                                           and STRENGTH[want] <= STRENGTH[planned]):
            continue
        out.append((schema, name, mode))
    return sorted(out)
