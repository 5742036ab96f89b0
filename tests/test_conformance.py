"""benchmarks/conformance.py: the conformance table can never leave a statement of docs/domain.md out.

The parser finds every numbered statement of sections 1-9 (counted here independently of it), every one
has a check, and no check names a statement the document no longer has. A statement added to the
document without a check becomes a `no check` row (the script exits 1); a check whose query fails
becomes an `error` row and the others still run. `assert_conformance_table` runs the script over a
stored warehouse; tests/report/test_report.py calls it over the report's tiny 2015-2017 warehouse (that
module's fixture, so no second warehouse is generated).
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ROOT / "docs" / "domain.md"


def _load():
    spec = importlib.util.spec_from_file_location("conformance", ROOT / "benchmarks" / "conformance.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("conformance", mod)
    spec.loader.exec_module(mod)
    return mod


conformance = _load()


def _ids_in_document(text: str) -> list[str]:
    """Every statement id of sections 1-9, found without the script's parser: the `**N.M**` marks and the
    `| N.M |` table cells."""
    ids = re.findall(r"\*\*(\d+\.\d+)\*\*", text) + re.findall(r"^\|\s*(\d+\.\d+)\s*\|", text, flags=re.M)
    return [i for i in ids if 1 <= int(i.split(".")[0]) <= 9]


def test_every_numbered_statement_of_sections_1_to_9_is_parsed():
    text = DOMAIN.read_text()
    parsed = conformance.parse_statements(text)
    assert sorted(s.id for s in parsed) == sorted(_ids_in_document(text))
    # numbered 1..n within each section, none skipped
    for sec in range(1, 10):
        nums = [int(s.id.split(".")[1]) for s in parsed if s.section == sec]
        assert nums == list(range(1, len(nums) + 1)), (sec, nums)
    assert all(s.text.strip() for s in parsed)
    assert not [s for s in parsed if s.section == 10]


def test_every_statement_has_a_check_and_every_check_a_statement():
    ids = {s.id for s in conformance.parse_statements(DOMAIN.read_text())}
    checks = set(conformance.CHECKS)
    assert ids - checks == set(), f"statements without a check in benchmarks/conformance.py: {sorted(ids - checks)}"
    assert checks - ids == set(), f"checks of statements docs/domain.md does not have: {sorted(checks - ids)}"


def test_parser_reads_bullets_continuations_and_table_rows():
    doc = """# t

## 1. One

- **1.1** First, on
  two lines.
- **1.2** Second.

## 3. Table

| § | a | b |
|---|---|---|
| 3.1 | egg | ~0.1 |

- **3.2** After the table.

## 10. Never

- **10.1** Not parsed.
"""
    got = conformance.parse_statements(doc)
    assert [(s.id, s.text) for s in got] == [("1.1", "First, on two lines."), ("1.2", "Second."),
                                             ("3.1", "egg: b ~0.1"), ("3.2", "After the table.")]
    with pytest.raises(ValueError, match="under section"):
        conformance.parse_statements("## 2. Two\n\n- **3.1** misplaced\n")


class _NoConn:
    def rollback(self):
        pass


class _Ctx:
    scale = "full"
    conn = _NoConn()


def test_a_statement_without_a_check_is_reported_and_a_failing_check_is_an_error_row(monkeypatch):
    def broken(ctx):
        raise RuntimeError("relation \"x\" does not exist")

    monkeypatch.setitem(conformance.CHECKS, "9.98", conformance.Check("9.98", "band", broken))
    stmts = [conformance.Statement("9.98", 9, "a checked statement"), conformance.Statement("9.99", 9, "a new statement")]
    rows = conformance.run_checks(_Ctx(), stmts)
    assert [r["verdict"] for r in rows] == [conformance.ERROR, conformance.NOCHECK]
    assert "does not exist" in rows[0]["value"]
    assert conformance.counts(rows)[conformance.NOCHECK] == 1


class _NoWarehouse(_Ctx):
    """A warehouse whose every query fails."""
    log: list = []
    shared_sql: dict = {}

    def q(self, sql, params=None, **kw):
        raise RuntimeError("no warehouse")

    one = cached = q


def test_every_row_reads_the_warehouse():
    """No row is written down: with every query failing, every statement is an `error` row."""
    stmts = conformance.parse_statements(DOMAIN.read_text())
    rows = conformance.run_checks(_NoWarehouse(), stmts)
    assert {r["verdict"] for r in rows} == {conformance.ERROR}
    assert all("no warehouse" in r["value"] for r in rows)


def test_band_judgement():
    assert conformance.band_judge([1, 2, 3], 1, 3)[2]
    assert not conformance.band_judge([1, 2, 3, 9], 1, 3)[2]  # 75 % inside
    assert not conformance.band_judge([], 1, 3)[2]


# --------------------------------------------------------------------------------------------------
# against a stored warehouse: called by tests/report/test_report.py over the report's tiny 2015-2017
# warehouse with its dbt marts (that module's fixture, already built: no second warehouse)


def assert_conformance_table(db_url: str, out: Path, years: list[int]) -> dict:
    """Runs the script over a generated warehouse with its marts: every statement gets a verdict computed
    from the stored data (no error, no missing check), the JSON names the stored run, the markdown has a
    row per statement, and a value follows the stored rows."""
    import psycopg

    code = conformance.main([db_url, "--out-json", str(out / "c.json"), "--out-md", str(out / "c.md")])
    result, md = json.loads((out / "c.json").read_text()), (out / "c.md").read_text()
    assert code == 0
    rows = result["rows"]
    ids = [s.id for s in conformance.parse_statements(DOMAIN.read_text())]
    assert [r["id"] for r in rows] == ids
    assert [(r["id"], r["value"]) for r in rows if r["verdict"] == conformance.ERROR] == []
    assert result["counts"][conformance.NOCHECK] == 0
    assert all(r["verdict"] in conformance.VERDICTS and r["value"] for r in rows)
    assert all(r["note"] for r in rows if r["verdict"] == conformance.CHOICE)
    w = result["warehouse"]
    assert w["years"] == years and w["stored_rows"] > 0 and w["server_version"] and w["scale"]
    assert md.count("\n| ") == len(rows) + 1
    assert "benchmarks/conformance.py" in md.splitlines()[2] and w["scenario_hash"] in md
    # values are computed, not written down: they follow the stored rows
    with psycopg.connect(db_url) as c:
        (n,) = c.execute("select count(*) from infrastructure.sensor where decommissioned_on is null").fetchone()
        (loaded,) = c.execute("select count(distinct year) from meta.partition_load where year > 0").fetchone()
    row = {r["id"]: r for r in rows}
    assert row["1.8"]["value"] == f"{n:,} sensors"
    assert f"({loaded} loaded)" in row["1.2"]["value"]
    assert row["1.2"]["verdict"] == (conformance.PASS if years == [2015, 2024] else conformance.FAIL)
    if w["scale"] != "full":
        assert row["1.8"]["verdict"] in (conformance.PASS, conformance.CHOICE)
    return result
