"""The chaos loop: the yearly backfill through the daemon while the planned faults fire, and the
recovery a user would do after each one, until every year of every yearly asset is materialized.

Recovery, as from the UI: a killed daemon or webserver is started again; a finished backfill with
failed partitions is re-executed from failure (the backfill page's button), and partitions still
missing or failed after that get a new backfill of just them; a run whose worker vanished and that
Dagster still shows as running is terminated. When every year is materialized and faults remain,
a backfill rewriting a few seeded years gives them loads to hit (a year rewritten is replaced whole).
"""
from __future__ import annotations

import random
import time

from .faults import Fault, Probe, StalledHolder, kill_run_worker

TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
ORPHAN_GRACE_S = 90.0  # Dagster's run monitoring usually fails such a run itself well before this


class Chaos:
    def __init__(self, stack, cluster, url: str, keys: list[str], years: list[str], seed: int, time_limit: float):
        self.stack, self.cluster, self.url = stack, cluster, url
        self.keys, self.years = keys, years
        self.rng = random.Random(seed + 1)
        # faults until 70% of the time limit, then recovery until the limit
        self.deadline, self.settle_by = time.time() + 0.7 * time_limit, time.time() + time_limit
        self.probe = Probe(url)
        self.backfills: list[dict] = []
        self.actions: list[dict] = []
        self.holders: list[StalledHolder] = []
        self.t0 = time.time()
        self._checked = 0.0
        self._orphans: dict[str, float] = {}

    # ------------------------------------------------------------------------- recovery
    def note(self, action: str, **detail) -> None:
        self.actions.append({"t_s": round(time.time() - self.t0, 2), "action": action, **detail})
        print(f"  {time.time() - self.t0:7.1f} s  {action} {detail or ''}", flush=True)

    def launch(self, years: list[str], why: str) -> None:
        bid = self.stack.gql.launch_backfill(self.keys, years, title=f"chaos: {why}", tags={"aquamind/source": "chaos"})
        self.backfills.append({"id": bid, "why": why, "years": years})
        self.note("backfill", id=bid, why=why, years=f"{years[0]}-{years[-1]}" if len(years) > 2 else years)

    def missing(self) -> list[str]:
        """Years some yearly asset lacks or last failed, in Dagster's view."""
        st = self.stack.partition_statuses(self.keys)
        return sorted({y for k in self.keys for y in self.years
                       if y not in st[k]["materialized"] or y in st[k]["failed"]})

    def _services(self) -> None:
        for name, code in self.stack.inner.group.exited().items():
            self.note("restart", process=name, reason=f"exited with {code}")
            self.stack.restart(name)

    def _orphaned_runs(self, runs: list[dict]) -> None:
        """Terminate a run Dagster shows as running while no run worker of ours is alive for long."""
        if self.stack.run_workers():
            self._orphans.clear()
            return
        now = time.time()
        for r in runs:
            if r["status"] in ("STARTED", "STARTING", "CANCELING"):
                first = self._orphans.setdefault(r["runId"], now)
                if now - first > ORPHAN_GRACE_S:
                    self.note("terminate", run=r["runId"][:8], status=r["status"])
                    self.stack.terminate(r["runId"])
                    self._orphans.pop(r["runId"])

    def _writes_years(self, run: dict) -> bool:
        """A run of the yearly assets (automation's dbt refreshes read them, and are not waited for)."""
        selection = run.get("assetSelection")
        return selection is None or any("/".join(k["path"]) in self.keys for k in selection)

    def tend(self, force: bool = False) -> bool:
        """One round of a user's attention; True when every year is materialized and no run of the
        yearly assets is unfinished."""
        if not force and time.monotonic() - self._checked < 3.0:
            return False
        self._checked = time.monotonic()
        try:
            self._services()
            runs = self.stack.unfinished_runs()
            self._orphaned_runs(runs)
            current = self.stack.gql.backfill(self.backfills[-1]["id"])
            if current["status"] not in TERMINAL or any(self._writes_years(r) for r in runs):
                return False
            missing = self.missing()
        except Exception as e:  # noqa: BLE001 - a restarting webserver: look again next round
            self._checked = time.monotonic()
            print(f"  (not answering: {str(e).splitlines()[0][:120]})", flush=True)
            return False
        if not missing:
            return True
        if current["status"] in ("COMPLETED_FAILED", "FAILED") and not self.backfills[-1].get("reexecuted"):
            self.backfills[-1]["reexecuted"] = True
            try:
                bid = self.stack.gql.reexecute_backfill(current["id"], "FROM_FAILURE")
                self.backfills.append({"id": bid, "why": "re-execute from failure", "years": missing})
                self.note("re-execute from failure", parent=current["id"], new=bid, missing=missing)
                return False
            except Exception as e:  # noqa: BLE001 - e.g. nothing to re-execute: fall back to a new backfill
                self.note("re-execute refused", reason=str(e).splitlines()[0][:200])
        self.launch(missing, "missing partitions")
        return False

    def idle(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.tend()
            time.sleep(0.2)

    # ------------------------------------------------------------------------- faults
    def _armed(self, fault: Fault) -> dict:
        """Wait until a load is in its COPY or commit (fault.at_copy) and return what it is doing.
        While runs are loading only the probe polls (a user's round of GraphQL calls would miss
        a short COPY); when none is, the user's round, and a rewrite when every year is done."""
        waited, looked, loading = time.monotonic(), 0.0, True
        while True:
            act = self.probe.activity()
            if not fault.at_copy or act["phase"] in ("copy", "commit"):
                return act
            if time.monotonic() - waited > 180 or time.time() > self.deadline:
                return act
            if time.monotonic() - looked > 1.0:
                looked, loading = time.monotonic(), bool(self.stack.run_workers())
            if loading:
                time.sleep(0.005)
                continue
            if self.tend():
                self.launch(sorted(self.rng.sample(self.years, min(3, len(self.years)))), "rewrite")
            time.sleep(0.2)

    def _fire(self, fault: Fault, act: dict) -> dict | None:
        if fault.kind == "run_worker":
            return kill_run_worker(self.stack, self.cluster.port, act, self.rng)
        if fault.kind in ("daemon", "webserver"):
            pid = self.stack.kill(fault.kind)
            return {"pid": pid, "restart_s": round(self.stack.restart(fault.kind), 2)}
        if fault.kind == "warehouse_restart":
            t = time.monotonic()
            self.cluster.restart_fast()
            self.probe.close()
            return {"restart_s": round(time.monotonic() - t, 2)}
        holder = StalledHolder(self.url, fault.table, fault.hold_s)
        holder.start()
        self.holders.append(holder)
        return {"table": fault.table, "hold_s": fault.hold_s}

    def inject(self, fault: Fault) -> None:
        self.idle(fault.wait_s)
        while time.time() < self.deadline:
            act = self._armed(fault)
            fired_at = time.time()
            detail = self._fire(fault, act)
            if detail is None:  # nothing to hit right now (no run loading): arm again
                self.idle(1.0)
                continue
            try:
                running = [(r["runId"], backfill_tag(r)) for r in self.stack.unfinished_runs()
                           if r["status"] in ("STARTED", "STARTING")]
            except Exception:  # noqa: BLE001
                running = []
            fault.log = {"index": fault.index, "kind": fault.kind, "at": fired_at, "t_s": round(fired_at - self.t0, 2),
                         "phase": act["phase"], "table": act.get("table"), "waited_for_copy": fault.at_copy,
                         "runs_hit": [{"run": r, "partition": p} for r, p in running], **detail}
            print(f"  {fired_at - self.t0:7.1f} s  FAULT {fault.index} {fault.kind} during {act['phase']}"
                  f"{' of ' + act['table'] if act.get('table') else ''} {detail}", flush=True)
            return

    def settle(self) -> bool:
        """After the last fault: tend until every year is materialized (or the deadline)."""
        for h in self.holders:
            h.join(timeout=max(0.0, self.settle_by - time.time()))
        while time.time() < self.settle_by:
            if self.tend(force=True):
                return True
            time.sleep(2.0)
        return False


def backfill_tag(run: dict) -> str | None:
    return next((t["value"] for t in run.get("tags") or [] if t["key"] == "dagster/partition"), None)
