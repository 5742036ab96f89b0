"""The Dagster webserver and daemon the chaos run starts, kills and starts again, and what it asks
them over GraphQL beyond benchmarks/backfill.py's client: each yearly asset's partition statuses,
the unfinished runs, a materialization's metadata, the Terminate button.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from aquamind_assets.runtime.processes import marked_pids

BENCHMARKS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCHMARKS))
import backfill  # noqa: E402  (its ui_client: DagsterStack, DagsterGraphQL)

gqlh = backfill.gqlh
ROOT = BENCHMARKS.parent
UNFINISHED = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]

STATUS_QUERY = """query S($k: [AssetKeyInput!]) { assetNodes(assetKeys: $k) { assetKey { path }
  assetPartitionStatuses { __typename ... on TimePartitionStatuses { ranges { startKey endKey status } } } } }"""

MATERIALIZATIONS_QUERY = """query M($k: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $k) {
  __typename ... on Asset { assetMaterializations(partitions: $p) { runId partition timestamp
    metadataEntries { label ... on TextMetadataEntry { text } ... on IntMetadataEntry { intValue } } } }
  ... on AssetNotFoundError { message } } }"""


class Stack:
    """dagster-webserver + dagster-daemon (benchmarks/backfill.py's DagsterStack) that survive SIGKILL:
    `kill(name)` kills one process, `restart(name)` starts it again on the same port and log."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.inner = gqlh.DagsterStack.start(env=env, log_dir=log_dir, repo=ROOT)
        self.gql = self.inner.wait_until_up(timeout=300)
        self.killed: list = []  # the Popen objects of killed processes, reaped later

    def _cmd(self, name: str) -> list[str]:
        bindir = Path(sys.executable).parent
        workspace = str(ROOT / "workspace.yaml")
        port = self.inner.url.rsplit(":", 1)[1]
        return {"webserver": [str(bindir / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", port],
                "daemon": [str(bindir / "dagster-daemon"), "run", "-w", workspace]}[name]

    def pid(self, name: str) -> int:
        return self.inner.group.procs[name].pid

    def kill(self, name: str) -> int:
        """SIGKILL the process itself (not its group: its code server and runs live on, as they would)."""
        proc = self.inner.group.procs[name]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        self.killed.append(proc)
        return proc.pid

    def restart(self, name: str) -> float:
        """Start `name` again and wait until it serves (the webserver) or beats (the daemon); seconds taken."""
        t0, since = time.monotonic(), time.time()
        fh = open(self.inner.logs[name], "ab")
        self.inner._files.append(fh)
        self.inner.group.start(name, self._cmd(name), env={**self.env, "PYTHONUNBUFFERED": "1"}, cwd=ROOT, stdout=fh)
        if name == "webserver":
            self.gql.wait_until_up(timeout=300, alive=self.inner.dead)
        else:
            self.wait_daemon_healthy(since)
        return time.monotonic() - t0

    def wait_daemon_healthy(self, since: float, timeout: float = 300) -> None:
        """Until every required daemon has beaten since `since` (time.time()), as Deployment -> Daemons shows."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (reason := self.inner.dead()):
                raise RuntimeError(reason)
            try:
                data = self.gql.query("""{ instance { daemonHealth { allDaemonStatuses {
                    required healthy lastHeartbeatTime } } } }""")
                beats = [d for d in data["instance"]["daemonHealth"]["allDaemonStatuses"] if d["required"]]
                if beats and all(d["healthy"] and (d["lastHeartbeatTime"] or 0) > since for d in beats):
                    return
            except Exception:  # noqa: BLE001 - the webserver may itself be restarting
                pass
            time.sleep(1.0)
        raise TimeoutError(f"the daemon did not beat within {timeout:.0f} s of its restart")

    def run_workers(self) -> dict[int, str]:
        """{pid: command line} of this stack's run workers: the code server starts each run in a
        multiprocessing child (spawn_main), a CLI launch in `dagster api execute_run`."""
        out = {}
        for pid in marked_pids(self.inner.group.marker):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "spawn_main" in cmd or "execute_run" in cmd:
                out[pid] = cmd
        return out

    def stop(self) -> list[str]:
        for proc in self.killed:
            proc.poll()
        return self.inner.stop(timeout=30)

    # ------------------------------------------------------------------------- GraphQL
    def partition_statuses(self, keys: list[str]) -> dict[str, dict[str, set[str]]]:
        """{asset: {materialized|failed|materializing: years}} as the asset pages show them."""
        data = self.gql.query(STATUS_QUERY, {"k": [{"path": [k]} for k in keys]})
        out = {}
        for node in data["assetNodes"]:
            st = out["/".join(node["assetKey"]["path"])] = {"materialized": set(), "failed": set(), "materializing": set()}
            for r in node["assetPartitionStatuses"]["ranges"]:  # the yearly keys are years, endKey included
                st[r["status"].lower()].update(str(y) for y in range(int(r["startKey"]), int(r["endKey"]) + 1))
        return out

    def unfinished_runs(self) -> list[dict]:
        data = self.gql.query(f"""query R($f: RunsFilter) {{ runsOrError(filter: $f, limit: 100) {{ __typename
            ... on Runs {{ results {{ {gqlh.RUN_FIELDS} assetSelection {{ path }} }} }}
            ... on PythonError {{ message }} }} }}""",
                              {"f": {"statuses": UNFINISHED}})
        return gqlh._ok(data["runsOrError"], "Runs")["results"]

    def terminate(self, run_id: str) -> None:
        """The run page's Terminate, marking it canceled at once (its worker is already gone)."""
        self.gql.query("""mutation T($id: String!) { terminateRun(runId: $id,
            terminatePolicy: MARK_AS_CANCELED_IMMEDIATELY) { __typename } }""", {"id": run_id})

    def latest_materializations(self, key: str, years: list[str]) -> dict[str, dict]:
        """{year: {run_id, timestamp, checksum, rows}} of the newest materialization of each year."""
        data = self.gql.query(MATERIALIZATIONS_QUERY, {"k": {"path": [key]}, "p": years})
        out: dict[str, dict] = {}
        for m in gqlh._ok(data["assetOrError"], "Asset")["assetMaterializations"]:
            ts = float(m["timestamp"]) / 1000.0
            if m["partition"] in out and out[m["partition"]]["timestamp"] >= ts:
                continue
            md = {e["label"]: e.get("text", e.get("intValue")) for e in m["metadataEntries"]}
            out[m["partition"]] = {"run_id": m["runId"], "timestamp": ts, "checksum": md.get("checksum"),
                                   "rows": md.get("dagster/row_count")}
        return out
