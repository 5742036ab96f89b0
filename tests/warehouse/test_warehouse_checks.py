"""Checks count what they examined; a check that examined nothing fails; messages are one line."""
from __future__ import annotations

import pytest

from aquamind_assets.warehouse.checks import Check, CheckFailed, raise_on_failure, run_checks

ROWS = "(VALUES (1, 'a', NULL::int), (2, 'b', 5), (3, 'c' || chr(10) || 'd', 7)) AS v(id, name, x)"


def count_sql(where: str) -> str:
    return f"SELECT count(*), count(*) FILTER (WHERE {where}) FROM {ROWS} WHERE id <= %(limit)s"


def test_run_checks_results_and_message(conn):
    checks = [
        Check("x_present", "x is set (docs/domain.md §10)", count_sql("x IS NULL"),
              f"SELECT * FROM {ROWS} WHERE x IS NULL AND id <= %(limit)s"),
        Check("names_like", "names match '%%'", count_sql("name NOT LIKE '%%'")),
        Check("multiline", "names are one line", count_sql("name LIKE '%%' || chr(10) || '%%'"),
              f"SELECT id, name FROM {ROWS} WHERE name LIKE '%%' || chr(10) || '%%'"),
    ]
    results = run_checks(conn.cursor(), checks, {"limit": 3})
    r1, r2, r3 = results
    assert (r1.name, r1.passed, r1.examined, r1.violations) == ("x_present", False, 3, 1)
    assert r1.sample == [{"id": "1", "name": "a", "x": "NULL"}]
    assert r2.passed and r2.examined == 3 and r2.violations == 0 and r2.sample == []
    assert not r3.passed
    with pytest.raises(CheckFailed) as info:
        raise_on_failure(results)
    msg = str(info.value)
    assert msg == ("check x_present failed: 1 of 3 rows violate x is set (docs/domain.md §10); "
                   "e.g. id=1, name=a, x=NULL")
    assert info.value.results == results
    assert "\n" not in CheckFailed(r3).args[0]


def test_check_examining_nothing_fails(conn):
    check = Check("empty", "x is set", count_sql("x IS NULL"))
    (r,) = run_checks(conn.cursor(), [check], {"limit": 0})
    assert (r.passed, r.examined, r.violations) == (False, 0, 0)
    assert str(CheckFailed(r)).startswith("check empty failed: it examined 0 rows (at least 1")
    relaxed = Check("empty", "x is set", count_sql("x IS NULL"), min_examined=0)
    assert run_checks(conn.cursor(), [relaxed], {"limit": 0})[0].passed
    strict = Check("strict", "x is set", count_sql("x IS NULL"), min_examined=10)
    assert not run_checks(conn.cursor(), [strict], {"limit": 3})[0].passed


def test_count_sql_must_return_one_row(conn):
    bad = Check("bad", "d", "SELECT 1, 0 UNION ALL SELECT 2, 0")
    with pytest.raises(ValueError, match="one row"):
        run_checks(conn.cursor(), [bad], {})
