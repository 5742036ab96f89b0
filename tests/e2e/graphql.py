"""A small client for the Dagster webserver's GraphQL API: what the UI does, as plain requests.

Used by tests/e2e/test_ui_backfill.py and benchmarks/backfill.py. Load it by path (the test's
conftest and the benchmark do), never as `import graphql`: that name belongs to graphql-core,
which dagster-graphql imports.

    gql = DagsterGraphQL("http://127.0.0.1:3000")
    gql.wait_until_up()
    bid = gql.launch_backfill(["batches", "harvest"], ["2015", "2016"])
    backfill = gql.wait_backfill(bid, timeout=600)
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import requests

TERMINAL_BACKFILL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
TERMINAL_RUN = {"SUCCESS", "FAILURE", "CANCELED"}
ASSET_JOB = "__ASSET_JOB"  # the implicit job the UI launches asset runs through
# Run config selecting the in-process executor of the asset job's default executor: one process
# per run instead of one per step (each step process re-imports Dagster and the definitions).
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


RUN_FIELDS = """id runId status startTime endTime creationTime updateTime tags { key value }"""

BACKFILL_QUERY = f"""
query Backfill($id: String!) {{
  partitionBackfillOrError(backfillId: $id) {{
    __typename
    ... on PartitionBackfill {{
      id status isAssetBackfill title numPartitions partitionNames timestamp endTimestamp
      error {{ message }}
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


class DagsterGraphQL:
    def __init__(self, base_url: str, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    # ---------------------------------------------------------------------------- transport
    def query(self, query: str, variables: dict | None = None) -> dict:
        resp = self.session.post(f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}},
                                 timeout=self.timeout)
        if resp.status_code >= 400 and "application/json" not in resp.headers.get("content-type", ""):
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

    def wait_until_up(self, timeout: float = 120.0, alive: Callable[[], bool] | None = None) -> dict:
        """Wait for /server_info and a loaded code location; `alive()` False aborts early."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if alive is not None and not alive():
                raise RuntimeError("the webserver process exited before answering")
            info = self.server_info()
            if info is not None:
                locations = self.locations()
                if locations and all(s == "LOADED" for s in locations.values()):
                    return info
            time.sleep(0.5)
        raise TimeoutError(f"webserver at {self.base_url} did not come up in {timeout:.0f} s")

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

    # ---------------------------------------------------------------------------- runs
    def launch_assets_run(self, asset_keys: Iterable[str | Sequence[str]], tags: dict | None = None) -> str:
        """Materialize unpartitioned assets (the UI's Materialize button); returns the run id."""
        location, repo = self.repository()
        data = self.query("""mutation Launch($p: ExecutionParams!) {
            launchPipelineExecution(executionParams: $p) { __typename
              ... on LaunchRunSuccess { run { runId } }
              ... on PythonError { message stack }
              ... on RunConfigValidationInvalid { errors { message } }
              ... on Error { message } } }""",
                          {"p": {"selector": {"repositoryLocationName": location, "repositoryName": repo,
                                              "pipelineName": ASSET_JOB, "assetSelection": _keys(asset_keys)},
                                 "executionMetadata": {"tags": [{"key": k, "value": v}
                                                                for k, v in (tags or {}).items()]}}})
        res = data["launchPipelineExecution"]
        if res.get("__typename") == "RunConfigValidationInvalid":
            raise GraphQLError("; ".join(e["message"] for e in res["errors"]))
        return _ok(res, "LaunchRunSuccess")["run"]["runId"]

    def run(self, run_id: str) -> dict:
        data = self.query(f"""query Run($id: ID!) {{ runOrError(runId: $id) {{ __typename
            ... on Run {{ {RUN_FIELDS} }} ... on Error {{ message }} ... on PythonError {{ message }} }} }}""",
                          {"id": run_id})
        return _ok(data["runOrError"], "Run")

    def wait_run(self, run_id: str, timeout: float = 300.0, poll: float = 1.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run["status"] in TERMINAL_RUN:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run['status']} after {timeout:.0f} s")
            time.sleep(poll)

    def step_failures(self, run_id: str) -> list[str]:
        """Messages of the run's step failures and run failure (for assertion messages)."""
        data = self.query("""query Logs($id: ID!) { logsForRun(runId: $id, limit: 5000) { __typename
            ... on EventConnection { events { __typename
              ... on ExecutionStepFailureEvent { stepKey error { message } }
              ... on RunFailureEvent { message } } } } }""", {"id": run_id})
        out = []
        for e in data["logsForRun"].get("events") or []:
            if e["__typename"] == "ExecutionStepFailureEvent":
                out.append(f"{e['stepKey']}: {(e.get('error') or {}).get('message', '').strip()}")
            elif e["__typename"] == "RunFailureEvent":
                out.append(e["message"])
        return out

    # ---------------------------------------------------------------------------- backfills
    def launch_backfill(self, asset_keys: Iterable[str | Sequence[str]], partitions: Sequence[str],
                        title: str | None = None, tags: dict | None = None,
                        run_config: dict | None = None) -> str:
        """An asset backfill over `partitions` (the UI's Materialize -> partitions); returns its id.

        `run_config` (e.g. IN_PROCESS) applies to every run of the backfill and of its re-executions.
        """
        params = {"assetSelection": _keys(asset_keys), "partitionNames": list(partitions)}
        if run_config:
            params["runConfigData"] = run_config
        if title:
            params["title"] = title
        if tags:
            params["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
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

    def backfill(self, backfill_id: str) -> dict:
        return _ok(self.query(BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"], "PartitionBackfill")

    def wait_backfill(self, backfill_id: str, timeout: float = 600.0, poll: float = 2.0,
                      alive: Callable[[], str | None] | None = None,
                      progress: Callable[[dict], None] | None = None) -> dict:
        """Poll until the backfill is terminal and none of its runs is still going.

        `alive()` returns a reason string when a process we depend on died (aborts the wait).
        """
        deadline = time.monotonic() + timeout
        last = None
        while True:
            bf = self.backfill(backfill_id)
            runs_done = all(r["status"] in TERMINAL_RUN for r in bf["runs"])
            if bf["status"] in TERMINAL_BACKFILL and runs_done:
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
    def latest_materializations(self, asset_key: str, partitions: Sequence[str]) -> dict[str, dict]:
        """{partition: latest materialization {runId, timestamp}} of one asset."""
        data = self.query("""query M($k: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $k) {
            __typename ... on Asset { assetMaterializations(partitions: $p) { runId partition timestamp } }
            ... on AssetNotFoundError { message } } }""", {"k": {"path": [asset_key]}, "p": list(partitions)})
        out: dict[str, dict] = {}
        for m in _ok(data["assetOrError"], "Asset")["assetMaterializations"]:
            cur = out.get(m["partition"])
            if cur is None or float(m["timestamp"]) > float(cur["timestamp"]):
                out[m["partition"]] = m
        return out

    def materialization_count(self, asset_key: str, partitions: Sequence[str]) -> dict[str, int]:
        data = self.query("""query M($k: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $k) {
            __typename ... on Asset { assetMaterializations(partitions: $p) { partition } }
            ... on AssetNotFoundError { message } } }""", {"k": {"path": [asset_key]}, "p": list(partitions)})
        out = {p: 0 for p in partitions}
        for m in _ok(data["assetOrError"], "Asset")["assetMaterializations"]:
            out[m["partition"]] = out.get(m["partition"], 0) + 1
        return out

    def asset_check_names(self, asset_key: str) -> list[str]:
        data = self.query("""query C($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { __typename
            ... on AssetNode { assetChecksOrError { __typename ... on AssetChecks { checks { name } }
              ... on AssetCheckNeedsMigrationError { message } } }
            ... on AssetNotFoundError { message } } }""", {"k": {"path": [asset_key]}})
        node = _ok(data["assetNodeOrError"], "AssetNode")
        return [c["name"] for c in _ok(node["assetChecksOrError"], "AssetChecks")["checks"]]

    def check_executions(self, asset_key: str, check_name: str, partition: str, limit: int = 10) -> list[dict]:
        """Executions of one asset check for one partition, newest first."""
        data = self.query("""query E($k: AssetKeyInput!, $c: String!, $p: String, $n: Int!) {
            assetCheckExecutions(assetKey: $k, checkName: $c, partition: $p, limit: $n) {
              runId status partition timestamp
              evaluation { success targetMaterialization { runId } } } }""",
                          {"k": {"path": [asset_key]}, "c": check_name, "p": partition, "n": limit})
        return data["assetCheckExecutions"]
