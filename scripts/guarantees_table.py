#!/usr/bin/env python3
"""The reliability and security guarantees as a Markdown table, each row's status taken from a test run.

Rows come from tests/reliability/test_*.py, read without importing them (ast): every test function's
docstring is one line, "<fault or bad input> -> <what is guaranteed>". Rows listed in a module's
COVERED_ELSEWHERE constant point at tests outside tests/reliability/. The Status column is what the
run recorded for that test (every parametrized case of it): a report written by the test suite with
AQUAMIND_GUARANTEES_REPORT=<file> set (tests/outcome_report.py). A guarantee whose test failed, was
skipped or did not run says so; nothing is inferred from markers.

    AQUAMIND_GUARANTEES_REPORT=/tmp/g.json ./scripts/test tests/reliability tests/test_embedded_db.py
    python scripts/guarantees_table.py --report /tmp/g.json [--out docs/guarantees.md]
    python scripts/guarantees_table.py --run [--out docs/guarantees.md]   # runs those tests first
    python scripts/guarantees_table.py --check                            # only validate the docstrings

Without --out the table goes to stdout. With --out an existing file keeps everything around its table
(the lines from the table's header row to the last row are replaced); a new file gets a heading.
Exit 1 (listing them) if a test has no docstring, a multi-line one, or one without " -> "; with
--report or --run, also exit 1 if any guarantee did not pass (after writing the table).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests" / "reliability"
SEP = " -> "
ORDER = ["test_rel_faults.py", "test_rel_locks.py", "test_rel_outages.py", "test_rel_chaos.py",
         "test_rel_corruption.py", "test_rel_bad_input.py", "test_rel_security.py"]
HEADER = "| Fault or bad input | Guaranteed | Test | Status |"
REPORT_VAR = "AQUAMIND_GUARANTEES_REPORT"  # read by tests/outcome_report.py


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def collect(tests_dir: Path = TESTS) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Rows (fault, guarantee, test id as file::function) and problems with the docstrings."""
    rows, problems = [], []
    paths = sorted(tests_dir.glob("test_*.py"),
                   key=lambda p: (ORDER.index(p.name) if p.name in ORDER else len(ORDER), p.name))
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.resolve().relative_to(ROOT).as_posix()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                doc = ast.get_docstring(node) or ""
                where = f"{rel}::{node.name}"
                if not doc or "\n" in doc.strip() or SEP not in doc:
                    problems.append(f"{where}: docstring must be one line '<fault or input> -> <guarantee>'")
                    continue
                fault, guarantee = (part.strip() for part in doc.strip().split(SEP, 1))
                rows.append((fault, guarantee, where))
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "COVERED_ELSEWHERE"
                                                      for t in node.targets):
                for where, doc in ast.literal_eval(node.value):
                    fault, guarantee = (part.strip() for part in doc.split(SEP, 1))
                    rows.append((fault, guarantee, where))
    return rows, problems


def status(test_id: str, report: dict) -> tuple[str, bool]:
    """(the Status cell, whether the guarantee held) of `file::function` in a run report: every node of
    that function (each parametrized case) counts; a module that failed to import ran none of them."""
    cases = {nid: r for nid, r in report.get("tests", {}).items()
             if nid == test_id or nid.startswith(test_id + "[")}
    if not cases:
        path = test_id.split("::", 1)[0]
        broken = report.get("collect_errors", {}).get(path)
        return (f"**not run**: {path} failed to import: {broken}" if broken else "**not run**"), False
    by_outcome: dict[str, list[dict]] = {}
    for r in cases.values():
        by_outcome.setdefault(r["outcome"], []).append(r)
    n = len(cases)
    for outcome, label in (("failed", "**fails**"), ("xfailed", "**known bug** (xfail)"),
                           ("xpassed", "**passes although marked xfail**"), ("skipped", "**skipped**")):
        if outcome in by_outcome:
            count = f" ({len(by_outcome[outcome])} of {n} cases)" if n > 1 else ""
            reason = next((r["reason"] for r in by_outcome[outcome] if r.get("reason")), "")
            return f"{label}{count}" + (f": {reason}" if reason else ""), False
    return ("passes" if n == 1 else f"passes ({n} cases)"), True


def table(rows, report: dict) -> tuple[str, list[str]]:
    """The Markdown table and the ids of the guarantees that did not hold in the run."""
    lines = [HEADER, "|---|---|---|---|"]
    failing = []
    for fault, guarantee, where in rows:
        cell, held = status(where, report)
        if not held:
            failing.append(where)
        lines.append(f"| {_cell(fault)} | {_cell(guarantee)} | `{_cell(where)}` | {_cell(cell)} |")
    return "\n".join(lines), failing


def write(out: Path, text: str) -> None:
    """Replace the table in `out` (from its header row through its last row), keeping the rest."""
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"# Reliability and security guarantees\n\n{text}\n", encoding="utf-8")
        return
    lines = out.read_text(encoding="utf-8").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == HEADER)
    except StopIteration:
        lines += ["", text]
    else:
        end = start
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        lines[start:end] = text.splitlines()
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_tests(rows, report_path: Path) -> int:
    """Run the test files the rows name with the project's test command, recording the report."""
    files = sorted({where.split("::", 1)[0] for _, _, where in rows})
    env = {**os.environ, REPORT_VAR: str(report_path)}
    # a module that fails to import must not stop the others: its rows say "not run" and why
    cmd = [str(ROOT / "scripts" / "test"), "--continue-on-collection-errors", *files]
    return subprocess.run(cmd, env=env, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--report", type=Path, help="JSON written by a test run with AQUAMIND_GUARANTEES_REPORT set")
    source.add_argument("--run", action="store_true", help="run the guarantees' test files first, then report")
    source.add_argument("--check", action="store_true", help="only validate the docstrings")
    ap.add_argument("--out", type=Path, help="write the table into this Markdown file instead of stdout")
    args = ap.parse_args(argv)

    rows, problems = collect()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if args.check:
        return 0
    if args.run:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "guarantees.json"
            rc = run_tests(rows, path)
            if not path.exists():
                print(f"guarantees_table: the test run (exit {rc}) wrote no report", file=sys.stderr)
                return 1
            report = json.loads(path.read_text(encoding="utf-8"))
    else:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    text, failing = table(rows, report)
    if args.out:
        write(args.out, text)
    else:
        print(text)
    if failing:
        print(f"guarantees_table: {len(failing)} of {len(rows)} guarantees did not pass in the run: "
              + ", ".join(failing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
