"""The infrastructure through the decade on a real PostgreSQL: the static units carry their commissioning
and retirement dates, the yearly `infrastructure_changes` asset writes a year's events with every check
passing, a rematerialized year replaces its rows with the same ones, and the batches' rule holds every
assignment inside its container's service."""
from __future__ import annotations

import psycopg
import pytest

from aquamind_assets.defs import static
from aquamind_assets.defs.infrastructure import infrastructure_changes
from aquamind_assets.defs.production import batches
from aquamind_assets.rules import infrastructure_changes as rules

YEARS = ("2018", "2019")
E = "infrastructure.infrastructure_event"


def _year(conn, year: int) -> tuple[int, str]:
    return conn.execute(f"SELECT count(*), md5(coalesce(string_agg(e::text, E'\\n' ORDER BY e), '')) FROM {E} e "
                        "WHERE year = %s", (year,)).fetchone()


@pytest.fixture(scope="module")
def loaded(dagster_env):
    """static once, then infrastructure_changes and batches for each year; the runs and a materialize()."""
    def materialize(assets, year=None):
        return dagster_env.materialize(assets, year, raise_on_error=False)

    assert materialize([static.static_assets]).success
    return {"runs": {y: materialize([infrastructure_changes, batches], y) for y in YEARS}, "materialize": materialize}


@pytest.mark.parametrize("year", YEARS)
def test_a_years_changes_load_with_every_check_passing(loaded, year):
    r = loaded["runs"][year]
    assert r.success
    evals = [e for e in r.get_asset_check_evaluations() if e.asset_key == infrastructure_changes.key]
    assert {e.check_name for e in evals} == {c.name for c in rules.RULES}
    assert all(e.passed for e in evals)
    batch_checks = {e.check_name: e.passed for e in r.get_asset_check_evaluations() if e.asset_key == batches.key}
    assert batch_checks["assignment_in_container_service"]


def test_the_stored_units_show_their_commissioning_and_retirement(loaded, db_url):
    with psycopg.connect(db_url) as conn:
        undated, new, retired = conn.execute(
            """SELECT count(*) FILTER (WHERE commissioned_on IS NULL),
                      count(*) FILTER (WHERE commissioned_on >= DATE '2016-01-01'),
                      count(*) FILTER (WHERE decommissioned_on IS NOT NULL) FROM infrastructure.container""").fetchone()
        kinds = {k for (k,) in conn.execute(f"SELECT DISTINCT event_kind FROM {E}")}
        per_year = dict(conn.execute(f"SELECT year, count(*) FROM {E} GROUP BY 1").fetchall())
    assert undated == 0 and new > 0 and retired > 0
    assert {"sensor_calibrated"} < kinds
    assert set(per_year) == {int(y) for y in YEARS} and all(n > 0 for n in per_year.values())


def test_rematerializing_a_year_replaces_it_with_the_same_rows(loaded, db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        before = {y: _year(conn, int(y)) for y in YEARS}
        assert loaded["materialize"]([infrastructure_changes], YEARS[0]).success
        after = {y: _year(conn, int(y)) for y in YEARS}
    assert after == before and before[YEARS[0]][0] > 0
