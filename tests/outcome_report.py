"""A pytest plugin that writes every test's outcome as JSON, for scripts/guarantees_table.py.

tests/conftest.py registers it when AQUAMIND_GUARANTEES_REPORT names a file; elsewhere
`python -m pytest -p outcome_report` with tests/ on sys.path does the same. The file is written
when the session ends (replacing any older one):

    {"exitstatus": 0,
     "tests": {"<node id>": {"outcome": "passed" | "failed" | "skipped" | "xfailed" | "xpassed",
                             "phase": "setup" | "call" | "teardown", "reason": "<one line>" | null}},
     "collect_errors": {"<file or node id>": "<one line>"}}

A test's outcome is the worst of its phases (a teardown error fails a test whose call passed);
`phase` is the phase that decided it, `reason` the skip or xfail reason or the failure's message.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

REPORT_VAR = "AQUAMIND_GUARANTEES_REPORT"
# worse outcomes win: a test that passed its call and failed its teardown failed
_RANK = {"passed": 0, "skipped": 1, "xpassed": 2, "xfailed": 3, "failed": 4}
_REASON_CHARS = 300


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= _REASON_CHARS else line[:_REASON_CHARS - 3] + "..."


def _message(longrepr) -> str:
    """The one line that says what went wrong: the crash message, else the last `E` line of the text."""
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return _one_line(crash.message)
    lines = [line for line in str(longrepr).splitlines() if line.strip()]
    errors = [line[1:] for line in lines if line.startswith("E ")]
    return _one_line((errors or lines or [""])[-1])


def _outcome(report) -> tuple[str, str | None]:
    if hasattr(report, "wasxfail"):
        return ("xfailed" if report.skipped else "xpassed"), _one_line(report.wasxfail) or None
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else longrepr
        return "skipped", _one_line(str(reason).removeprefix("Skipped: "))
    if report.failed:
        return "failed", _message(report.longrepr)
    return "passed", None


class OutcomeRecorder:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).resolve()  # tests may change the working directory
        self.tests: dict[str, dict] = {}
        self.collect_errors: dict[str, str] = {}

    def pytest_collectreport(self, report) -> None:
        if report.failed:  # a module that does not import runs none of its tests
            self.collect_errors[report.nodeid] = _message(report.longrepr)

    def pytest_runtest_logreport(self, report) -> None:
        outcome, reason = _outcome(report)
        seen = self.tests.get(report.nodeid)
        if seen is None or _RANK[outcome] > _RANK[seen["outcome"]] or (outcome == "passed" and report.when == "call"):
            self.tests[report.nodeid] = {"outcome": outcome, "phase": report.when, "reason": reason}

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"exitstatus": int(exitstatus), "tests": self.tests,
                                   "collect_errors": self.collect_errors}, indent=1, sort_keys=True),
                       encoding="utf-8")
        tmp.replace(self.path)


def register(config) -> None:
    """Register the recorder on `config` if REPORT_VAR is set (once)."""
    path = os.environ.get(REPORT_VAR)
    if path and not config.pluginmanager.has_plugin("aquamind-outcome-report"):
        config.pluginmanager.register(OutcomeRecorder(path), "aquamind-outcome-report")


def pytest_configure(config) -> None:  # when loaded with -p outcome_report
    register(config)
