"""The guarantees table comes from a test run: tests/outcome_report.py records each test's outcome in a
real pytest run (a subprocess over a throwaway test folder with every kind of outcome), and
scripts/guarantees_table.py turns that record into the table's Status column and into docs' table."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent

SAMPLE = '''
import pytest

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")

def test_passes():
    pass

def test_fails():
    assert 1 == 2, "one is not two"

def test_skips():
    pytest.skip("no chromium here")

@pytest.mark.xfail(reason="known: year 2099")
def test_known_bug():
    assert False

@pytest.mark.xfail(reason="was a bug")
def test_fixed_bug():
    pass

def test_teardown_error(broken_teardown):
    pass

@pytest.mark.parametrize("n", [1, 2, 3])
def test_cases(n):
    assert n != 2
'''


def _script():
    spec = importlib.util.spec_from_file_location("guarantees_table", REPO / "scripts" / "guarantees_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    """The JSON a real pytest run with the plugin writes over SAMPLE and a module that does not import."""
    root = tmp_path_factory.mktemp("sample_run")
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "test_sample.py").write_text(SAMPLE)
    (root / "test_broken.py").write_text("import no_such_module_anywhere\n\ndef test_never():\n    pass\n")
    out = root / "out" / "report.json"
    env = {**os.environ, "AQUAMIND_GUARANTEES_REPORT": str(out),
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "pytest", "-p", "outcome_report", "-p", "no:cacheprovider", "-q",
           "--continue-on-collection-errors", str(root)]
    p = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stdout[-3000:] + p.stderr[-3000:]  # tests failed
    assert out.is_file(), p.stdout[-3000:]
    return json.loads(out.read_text())


def test_the_run_records_every_outcome(report):
    tests = {nid.split("::", 1)[1]: r for nid, r in report["tests"].items()}
    outcome = {name: r["outcome"] for name, r in tests.items()}
    assert outcome == {"test_passes": "passed", "test_fails": "failed", "test_skips": "skipped",
                       "test_known_bug": "xfailed", "test_fixed_bug": "xpassed", "test_teardown_error": "failed",
                       "test_cases[1]": "passed", "test_cases[2]": "failed", "test_cases[3]": "passed"}
    assert "one is not two" in tests["test_fails"]["reason"] and tests["test_fails"]["phase"] == "call"
    assert tests["test_skips"]["reason"] == "no chromium here"
    assert tests["test_known_bug"]["reason"] == "known: year 2099"
    broken_teardown = tests["test_teardown_error"]
    assert broken_teardown["phase"] == "teardown" and "teardown broke" in broken_teardown["reason"]
    assert tests["test_passes"] == {"outcome": "passed", "phase": "call", "reason": None}
    assert report["exitstatus"] == 1
    (broken,) = report["collect_errors"]
    assert broken.endswith("test_broken.py") and "no_such_module_anywhere" in report["collect_errors"][broken]


def test_status_is_what_the_run_recorded(report):
    g = _script()
    file = next(iter(report["tests"])).split("::", 1)[0]
    broken = next(iter(report["collect_errors"]))

    def st(name, path=file):
        return g.status(f"{path}::{name}", report)

    assert st("test_passes") == ("passes", True)
    assert st("test_fails")[1] is False and st("test_fails")[0].startswith("**fails**: ")
    assert st("test_skips") == ("**skipped**: no chromium here", False)
    assert st("test_known_bug") == ("**known bug** (xfail): known: year 2099", False)
    assert st("test_fixed_bug")[0].startswith("**passes although marked xfail**")
    assert st("test_teardown_error")[0].startswith("**fails**")
    assert st("test_cases")[0].startswith("**fails** (1 of 3 cases): ")
    assert st("test_not_in_the_run") == ("**not run**", False)
    cell, held = st("test_never", broken)
    assert not held and cell.startswith("**not run**") and "failed to import" in cell


def test_the_table_of_the_real_guarantees_follows_the_report(tmp_path):
    """Every guarantee row of tests/reliability, with a report where one passed, one failed, one is absent."""
    g = _script()
    rows, problems = g.collect()
    assert not problems and len(rows) >= 20
    (_, _, passed), (_, _, failed), (_, _, absent) = rows[:3]
    report = {"tests": {passed: {"outcome": "passed", "phase": "call", "reason": None},
                        failed: {"outcome": "failed", "phase": "call", "reason": "assert 0 == 1"}}}
    text, failing = g.table(rows, report)
    lines = text.splitlines()
    assert lines[0] == g.HEADER and len(lines) == 2 + len(rows)
    assert lines[2].endswith("| passes |") and f"`{passed}`" in lines[2]
    assert lines[3].endswith("| **fails**: assert 0 == 1 |")
    assert lines[4].endswith("| **not run** |")
    assert set(failing) == {r[2] for r in rows} - {passed}

    # --out replaces the table of an existing document and keeps the prose around it
    doc = tmp_path / "guarantees.md"
    doc.write_text(textwrap.dedent(f"""\
        # Guarantees

        Intro prose.

        {g.HEADER}
        |---|---|---|---|
        | old | row | `x` | holds |

        Closing prose.
        """))
    g.write(doc, text)
    written = doc.read_text()
    assert written.startswith("# Guarantees\n\nIntro prose.\n\n" + text + "\n\nClosing prose.\n")
    assert "| old | row |" not in written
    fresh = tmp_path / "new" / "guarantees.md"
    g.write(fresh, text)
    assert fresh.read_text().startswith("# ") and text in fresh.read_text()


def test_the_command_writes_the_table_and_fails_on_a_guarantee_that_did_not_pass(tmp_path):
    g = _script()
    rows, _ = g.collect()
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"tests": {w: {"outcome": "passed", "phase": "call", "reason": None}
                                            for _, _, w in rows}}))
    ok = subprocess.run([sys.executable, str(REPO / "scripts" / "guarantees_table.py"), "--report", str(report)],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count("| passes") == len(rows)
    first = rows[0][2]
    report.write_text(json.dumps({"tests": {w: {"outcome": "passed", "phase": "call", "reason": None}
                                            for _, _, w in rows[1:]}}))
    out = tmp_path / "doc.md"
    bad = subprocess.run([sys.executable, str(REPO / "scripts" / "guarantees_table.py"), "--report", str(report),
                          "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and first in bad.stderr
    assert f"| `{first}` | **not run** |" in out.read_text()
