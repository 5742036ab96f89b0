"""Drive Dagster the way the UI does: a small GraphQL client, plus the two processes it talks to.

Used by tests/e2e/test_ui_backfill.py and benchmarks/backfill.py. Load this file by path (both
do), never as `import graphql`: that name belongs to graphql-core, which dagster-graphql imports.

    stack = DagsterStack.start(env=env, log_dir=tmp)       # dagster-webserver + dagster-daemon
    gql = stack.wait_until_up()                             # a DagsterGraphQL on its port
    bid = gql.launch_backfill(["batches", "harvest"], ["2015", "2016"])
    backfill = gql.wait_backfill(bid, timeout=600, alive=stack.dead)
    ...
    stack.stop()                                            # SIGTERM the groups, then SIGKILL
"""
from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

from aquamind_assets.runtime.processes import ProcessGroup

REPO = Path(__file__).resolve().parents[2]
TERMINAL_BACKFILL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
TERMINAL_RUN = {"SUCCESS", "FAILURE", "CANCELED"}
ASSET_JOB = "__ASSET_JOB"  # the implicit job the UI launches asset runs through
# Run config choosing the in-process side of the asset job's default executor: one process per
# run instead of one per step (every step process re-imports Dagster and the definitions).
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


class GraphQLError(RuntimeError):
    """The server answered with `errors`, or a mutation returned an error type."""


def _keys(asset_keys: Iterable[str | Sequence[str]]) -> list[dict]:
    return [{"path": [k] if isinstance(k, str) else list(k)} for k in asset_keys]


def _ok(result: dict, typename: str) -> dict:
    """A union result must be `typename`, else raise with the server's message."""
    if result.get("__typename") != typename:
        msg = result.get("message") or result
        stack = "".join(result.get("stack") or [])
        raise GraphQLError(f"{result.get('__typename')}: {msg}\n{stack}".strip())
    return result


def tag(run: dict, key: str) -> str | None:
    return next((t["value"] for t in run.get("tags") or [] if t["key"] == key), None)


RUN_FIELDS = "id runId status startTime endTime creationTime updateTime tags { key value }"

BACKFILL_QUERY = f"""
query Backfill($id: String!) {{
  partitionBackfillOrError(backfillId: $id) {{
    __typename
    ... on PartitionBackfill {{
      id status isAssetBackfill title numPartitions partitionNames timestamp endTimestamp
      error {{ message }}
      tags {{ key value }}
      assetBackfillData {{
        assetBackfillStatuses {{
          __typename
          ... on AssetPartitionsStatusCounts {{
            assetKey {{ path }} numPartitionsTargeted numPartitionsInProgress
            numPartitionsMaterialized numPartitionsFailed
          }}
          ... on UnpartitionedAssetStatus {{
            assetKey {{ path }} inProgress materialized failed
          }}
        }}
      }}
      runs {{ {RUN_FIELDS} }}
    }}
    ... on PythonError {{ message stack }}
    ... on BackfillNotFoundError {{ message }}
  }}
}}"""

EVENTS_QUERY = """
query Events($id: ID!, $after: String) {
  logsForRun(runId: $id, afterCursor: $after, limit: 1000) {
    __typename
    ... on EventConnection {
      cursor hasMore
      events {
        __typename
        ... on MessageEvent { timestamp message stepKey }
        ... on ExecutionStepFailureEvent { error { message } }
        ... on AssetCheckEvaluationEvent {
          evaluation { checkName assetKey { path } success partition targetMaterialization { runId } }
        }
        ... on MaterializationEvent {
          assetKey { path } partition
          metadataEntries { label
            ... on IntMetadataEntry { intValue }
            ... on FloatMetadataEntry { floatValue }
            ... on TextMetadataEntry { text } }
        }
      }
    }
    ... on PythonError { message }
    ... on RunNotFoundError { message }
  }
}"""


class DagsterGraphQL:
    def __init__(self, base_url: str, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    # ---------------------------------------------------------------------------- transport
    def query(self, query: str, variables: dict | None = None) -> dict:
        resp = self.session.post(f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}},
                                 timeout=self.timeout)
        if "application/json" not in resp.headers.get("content-type", ""):
            raise GraphQLError(f"HTTP {resp.status_code}: {resp.text[:500]}")
        body = resp.json()
        if body.get("errors"):
            raise GraphQLError("; ".join(e.get("message", str(e)) for e in body["errors"]))
        return body["data"]

    def server_info(self) -> dict | None:
        try:
            resp = self.session.get(f"{self.base_url}/server_info", timeout=5)
            return resp.json() if resp.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return None

    def wait_until_up(self, timeout: float = 180.0, alive: Callable[[], str | None] | None = None) -> dict:
        """Wait for /server_info and every code location LOADED; `alive()` -> reason aborts early."""
        deadline = time.monotonic() + timeout
        while True:
            if alive is not None and (reason := alive()):
                raise RuntimeError(reason)
            info = self.server_info()
            if info is not None:
                locations = self.locations()
                if locations and all(s == "LOADED" for s in locations.values()):
                    return info
            if time.monotonic() > deadline:
                raise TimeoutError(f"webserver at {self.base_url} not up after {timeout:.0f} s")
            time.sleep(0.5)

    # ---------------------------------------------------------------------------- workspace
    def locations(self) -> dict[str, str]:
        """{code location name: load status}; a location that failed to load raises its error."""
        data = self.query("""{ workspaceOrError { __typename ... on Workspace {
            locationEntries { name loadStatus locationOrLoadError { __typename
              ... on PythonError { message } } } } ... on PythonError { message } } }""")
        ws = _ok(data["workspaceOrError"], "Workspace")
        out = {}
        for e in ws["locationEntries"]:
            err = e.get("locationOrLoadError") or {}
            if err.get("__typename") == "PythonError":
                raise GraphQLError(f"code location {e['name']} failed to load: {err['message']}")
            out[e["name"]] = e["loadStatus"]
        return out

    def repository(self) -> tuple[str, str]:
        """(location name, repository name) of the single repository in the workspace."""
        data = self.query("""{ repositoriesOrError { __typename ... on RepositoryConnection {
            nodes { name location { name } } } ... on PythonError { message } } }""")
        nodes = _ok(data["repositoriesOrError"], "RepositoryConnection")["nodes"]
        if len(nodes) != 1:
            raise GraphQLError(f"expected one repository, found {[n['name'] for n in nodes]}")
        return nodes[0]["location"]["name"], nodes[0]["name"]

    def daemon_health(self) -> dict[str, bool]:
        """{daemon type: healthy} as the UI's Deployment -> Daemons page shows it."""
        data = self.query("""{ instance { daemonHealth { allDaemonStatuses {
            daemonType required healthy } } } }""")
        return {d["daemonType"]: bool(d["healthy"]) for d in data["instance"]["daemonHealth"]["allDaemonStatuses"]
                if d["required"]}

    # ---------------------------------------------------------------------------- runs
    def launch_assets_run(self, asset_keys: Iterable[str | Sequence[str]], tags: dict | None = None,
                          run_config: dict | None = None) -> str:
        """Materialize unpartitioned assets (the UI's Materialize button); returns the run id."""
        location, repo = self.repository()
        params = {"selector": {"repositoryLocationName": location, "repositoryName": repo,
                               "pipelineName": ASSET_JOB, "assetSelection": _keys(asset_keys)},
                  "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}}
        if run_config:
            params["runConfigData"] = run_config
        data = self.query("""mutation Launch($p: ExecutionParams!) {
            launchPipelineExecution(executionParams: $p) { __typename
              ... on LaunchRunSuccess { run { runId } }
              ... on PythonError { message stack }
              ... on RunConfigValidationInvalid { errors { message } }
              ... on Error { message } } }""", {"p": params})
        res = data["launchPipelineExecution"]
        if res.get("__typename") == "RunConfigValidationInvalid":
            raise GraphQLError("; ".join(e["message"] for e in res["errors"]))
        return _ok(res, "LaunchRunSuccess")["run"]["runId"]

    def run(self, run_id: str) -> dict:
        data = self.query(f"""query Run($id: ID!) {{ runOrError(runId: $id) {{ __typename
            ... on Run {{ {RUN_FIELDS} }} ... on Error {{ message }} ... on PythonError {{ message }} }} }}""",
                          {"id": run_id})
        return _ok(data["runOrError"], "Run")

    def runs(self, tags: dict[str, str] | None = None, limit: int = 20) -> list[dict]:
        """Runs (newest first) carrying every one of `tags`, with the assets each one selects."""
        data = self.query(f"""query Runs($f: RunsFilter, $n: Int) {{ runsOrError(filter: $f, limit: $n) {{ __typename
            ... on Runs {{ results {{ {RUN_FIELDS} assetSelection {{ path }} }} }}
            ... on Error {{ message }} ... on PythonError {{ message }} }} }}""",
                          {"f": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}, "n": limit})
        return _ok(data["runsOrError"], "Runs")["results"]

    def wait_run(self, run_id: str, timeout: float = 300.0, poll: float = 1.0,
                 alive: Callable[[], str | None] | None = None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run["status"] in TERMINAL_RUN:
                return run
            if alive is not None and (reason := alive()):
                raise RuntimeError(f"run {run_id} abandoned: {reason}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run['status']} after {timeout:.0f} s")
            time.sleep(poll)

    def run_events(self, run_id: str) -> list[dict]:
        """Every event of a run, oldest first (paged)."""
        out, cursor = [], None
        while True:
            conn = _ok(self.query(EVENTS_QUERY, {"id": run_id, "after": cursor})["logsForRun"], "EventConnection")
            out.extend(conn["events"])
            if not conn["hasMore"] or not conn["events"]:
                return out
            cursor = conn["cursor"]

    def step_failures(self, run_id: str, events: list[dict] | None = None) -> list[str]:
        """'step: message' of each step failure and the run failure message (for assertions)."""
        out = []
        for e in self.run_events(run_id) if events is None else events:
            if e["__typename"] == "ExecutionStepFailureEvent":
                out.append(f"{e['stepKey']}: {(e.get('error') or {}).get('message', '').strip()}")
            elif e["__typename"] == "RunFailureEvent":
                out.append(e["message"])
        return out

    @staticmethod
    def check_evaluations(events: list[dict]) -> list[dict]:
        """[{asset, check, success, partition, target_run}] of a run's AssetCheckEvaluation events."""
        return [{"asset": "/".join(e["evaluation"]["assetKey"]["path"]), "check": e["evaluation"]["checkName"],
                 "success": e["evaluation"]["success"], "partition": e["evaluation"]["partition"],
                 "target_run": (e["evaluation"].get("targetMaterialization") or {}).get("runId")}
                for e in events if e["__typename"] == "AssetCheckEvaluationEvent"]

    @staticmethod
    def materializations(events: list[dict]) -> list[dict]:
        """[{asset, partition, step, timestamp, metadata: {label: value}}] of a run's materialization events."""
        out = []
        for e in events:
            if e["__typename"] != "MaterializationEvent":
                continue
            md = {m["label"]: next((m[k] for k in ("intValue", "floatValue", "text") if m.get(k) is not None), None)
                  for m in e.get("metadataEntries") or []}
            out.append({"asset": "/".join(e["assetKey"]["path"]), "partition": e["partition"], "metadata": md,
                        "step": e.get("stepKey"), "timestamp": float(e["timestamp"]) / 1000.0})
        return out

    # ---------------------------------------------------------------------------- backfills
    def launch_backfill(self, asset_keys: Iterable[str | Sequence[str]], partitions: Sequence[str],
                        title: str | None = None, tags: dict | None = None,
                        run_config: dict | None = None) -> str:
        """An asset backfill over `partitions` (the UI's Materialize -> partitions); returns its id.

        `run_config` (e.g. IN_PROCESS) applies to every run of the backfill and of its re-executions.
        """
        params: dict = {"assetSelection": _keys(asset_keys), "partitionNames": list(partitions)}
        if title:
            params["title"] = title
        if tags:
            params["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        if run_config:
            params["runConfigData"] = run_config
        data = self.query("""mutation Backfill($p: LaunchBackfillParams!) {
            launchPartitionBackfill(backfillParams: $p) { __typename
              ... on LaunchBackfillSuccess { backfillId }
              ... on PythonError { message stack }
              ... on Error { message } } }""", {"p": params})
        return _ok(data["launchPartitionBackfill"], "LaunchBackfillSuccess")["backfillId"]

    def reexecute_backfill(self, backfill_id: str, strategy: str = "FROM_FAILURE") -> str:
        """The backfill page's "Re-execute from failure" (or ALL_STEPS); returns the new backfill's id."""
        data = self.query("""mutation Reexec($p: ReexecutionParams!) {
            reexecutePartitionBackfill(reexecutionParams: $p) { __typename
              ... on LaunchBackfillSuccess { backfillId }
              ... on PythonError { message stack }
              ... on Error { message } } }""", {"p": {"parentRunId": backfill_id, "strategy": strategy}})
        return _ok(data["reexecutePartitionBackfill"], "LaunchBackfillSuccess")["backfillId"]

    def cancel_backfill(self, backfill_id: str) -> None:
        data = self.query("""mutation Cancel($id: String!) { cancelPartitionBackfill(backfillId: $id) {
            __typename ... on PythonError { message stack } ... on Error { message } } }""", {"id": backfill_id})
        _ok(data["cancelPartitionBackfill"], "CancelBackfillSuccess")

    def backfill(self, backfill_id: str) -> dict:
        return _ok(self.query(BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"], "PartitionBackfill")

    def wait_backfill(self, backfill_id: str, timeout: float = 600.0, poll: float = 2.0,
                      alive: Callable[[], str | None] | None = None,
                      progress: Callable[[dict], None] | None = None) -> dict:
        """Poll until the backfill is terminal and none of its runs is still going.

        The daemon only updates a backfill on its ~30 s loop, so the terminal status can trail the
        last run's end by up to that long. `alive()` returns a reason when a process we depend on
        died (aborts the wait); `progress(backfill)` is called whenever the status or a run changes.
        """
        deadline = time.monotonic() + timeout
        last = None
        while True:
            bf = self.backfill(backfill_id)
            if bf["status"] in TERMINAL_BACKFILL and all(r["status"] in TERMINAL_RUN for r in bf["runs"]):
                return bf
            state = (bf["status"], tuple(sorted((r["runId"], r["status"]) for r in bf["runs"])))
            if progress is not None and state != last:
                progress(bf)
            last = state
            if alive is not None and (reason := alive()):
                raise RuntimeError(f"backfill {backfill_id} abandoned: {reason}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"backfill {backfill_id} still {bf['status']} after {timeout:.0f} s; "
                                   f"runs: {[(r['runId'][:8], r['status']) for r in bf['runs']]}")
            time.sleep(poll)

    # ---------------------------------------------------------------------------- assets
    def materializations_by_partition(self, asset_key: str, partitions: Sequence[str]) -> dict[str, list[dict]]:
        """{partition: [materialization {runId, timestamp}, newest first]} of one asset."""
        data = self.query("""query M($k: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $k) {
            __typename ... on Asset { assetMaterializations(partitions: $p) { runId partition timestamp } }
            ... on AssetNotFoundError { message } } }""", {"k": {"path": [asset_key]}, "p": list(partitions)})
        out: dict[str, list[dict]] = {p: [] for p in partitions}
        for m in _ok(data["assetOrError"], "Asset")["assetMaterializations"]:
            out.setdefault(m["partition"], []).append(m)
        for ms in out.values():
            ms.sort(key=lambda m: -float(m["timestamp"]))
        return out

    def latest_materializations(self, asset_key: Sequence[str], partitions: Sequence[str] | None = None) -> list[dict]:
        """Materializations {runId, partition, timestamp} of an asset given by its path, newest first."""
        data = self.query("""query M($k: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $k) {
            __typename ... on Asset { assetMaterializations(partitions: $p) { runId partition timestamp } }
            ... on AssetNotFoundError { message } } }""", {"k": {"path": list(asset_key)}, "p": partitions})
        return sorted(_ok(data["assetOrError"], "Asset")["assetMaterializations"], key=lambda m: -float(m["timestamp"]))

    def sensor_ticks(self, name: str, limit: int = 10) -> list[dict]:
        """The sensor's latest ticks {status, timestamp, skipReason, error, runIds}, newest first."""
        location, repo = self.repository()
        data = self.query("""query T($s: SensorSelector!, $n: Int) { sensorOrError(sensorSelector: $s) {
            __typename ... on Sensor { sensorState { status ticks(limit: $n) {
              status timestamp skipReason runIds error { message } } } }
            ... on SensorNotFoundError { message } ... on PythonError { message } } }""",
                          {"s": {"repositoryLocationName": location, "repositoryName": repo, "sensorName": name},
                           "n": limit})
        return _ok(data["sensorOrError"], "Sensor")["sensorState"]["ticks"]

    def stale_status(self, asset_key: Sequence[str], partition: str | None = None) -> str:
        """FRESH, STALE or MISSING, as the asset's page shows it."""
        data = self.query("""query S($k: AssetKeyInput!, $p: String) { assetNodeOrError(assetKey: $k) {
            __typename ... on AssetNode { staleStatus(partition: $p) } ... on AssetNotFoundError { message } } }""",
                          {"k": {"path": list(asset_key)}, "p": partition})
        return _ok(data["assetNodeOrError"], "AssetNode")["staleStatus"]

    def check_executions(self, asset_key: str, check_name: str, partition: str | None = None,
                         limit: int = 25) -> list[dict]:
        """Executions of one asset check (optionally of one partition), newest first."""
        data = self.query("""query E($k: AssetKeyInput!, $c: String!, $p: String, $n: Int!) {
            assetCheckExecutions(assetKey: $k, checkName: $c, partition: $p, limit: $n) {
              runId status partition timestamp
              evaluation { success partition targetMaterialization { runId } } } }""",
                          {"k": {"path": [asset_key]}, "c": check_name, "p": partition, "n": limit})
        return data["assetCheckExecutions"]


# -------------------------------------------------------------------------------- processes
def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class DagsterStack:
    """dagster-webserver and dagster-daemon on one workspace, as a ProcessGroup (the package's own:
    each in its own session, every descendant marked), so stop() ends code servers and run
    workers too."""
    url: str
    group: ProcessGroup
    logs: dict[str, Path]
    _files: list = field(default_factory=list)

    @classmethod
    def start(cls, *, env: dict[str, str], log_dir: Path, host: str = "127.0.0.1", port: int | None = None,
              repo: Path = REPO, python_bin: Path | None = None) -> DagsterStack:
        bindir = python_bin or Path(sys.executable).parent
        if not (bindir / "dagster-webserver").exists():
            bindir = repo / ".venv" / "bin"
        port = port or free_port(host)
        workspace = str(repo / "workspace.yaml")
        env = {**env, "PYTHONUNBUFFERED": "1"}
        log_dir.mkdir(parents=True, exist_ok=True)
        cmds = {"webserver": [str(bindir / "dagster-webserver"), "-w", workspace, "-h", host, "-p", str(port)],
                "daemon": [str(bindir / "dagster-daemon"), "run", "-w", workspace]}
        stack = cls(url=f"http://{host}:{port}", group=ProcessGroup(), logs={})
        try:
            for name, cmd in cmds.items():
                log = log_dir / f"{name}.log"
                fh = open(log, "ab")
                stack._files.append(fh)
                stack.logs[name] = log
                stack.group.start(name, cmd, env=env, cwd=repo, stdout=fh)
        except BaseException:
            stack.stop()
            raise
        return stack

    @property
    def client(self) -> DagsterGraphQL:
        return DagsterGraphQL(self.url)

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            text = self.logs[name].read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def dead(self) -> str | None:
        """Why the stack is unusable (a process exited, with its log tail), or None."""
        exited = self.group.exited()
        name = next(iter(exited), None)
        return None if name is None else f"dagster {name} exited with code {exited[name]}; log tail:\n{self.log_tail(name)}"

    def wait_until_up(self, timeout: float = 180.0) -> DagsterGraphQL:
        gql = self.client
        gql.wait_until_up(timeout=timeout, alive=self.dead)
        return gql

    def stop(self, timeout: float = 20.0) -> list[str]:
        """SIGTERM, then SIGKILL what is left after `timeout`; returns what needed SIGKILL."""
        killed = [f"pid {pid}" for pid in self.group.stop(timeout)]
        for fh in self._files:
            fh.close()
        self._files.clear()
        return killed
