"""The dbt layer end to end at tiny scale, on a real PostgreSQL and through Dagster.

The dataset is built once for the module: static assets, every yearly asset for 2015-2017 (one
Dagster run per year), then dbt and the report exactly as `cli/analytics.build_and_report` runs them
(staging; the year-incremental models over 2015-2017 in one ranged run; the cross-year marts; the
report), with raise_on_error=True.

Checks: the marts agree with the same quantities computed here straight from the warehouse tables
(harvest, monthly mortality, biological FCR, sea-area utilization, active batches at year end);
economic FCR >= biological FCR; a year-incremental run for 2016 alone rewrites exactly 2016's
rows of every year-incremental model and the cross-year marts then follow; the Definitions load,
the dbt sources hang under the Python assets and the dbt tests are asset checks.

The last test edits 2016's source rows, so it stays last in the module.
"""
from __future__ import annotations

import math
from pathlib import Path

import dagster as dg
import pytest
from fixture_helpers import dbt_target

from aquamind_assets.runtime import database, settings
from aquamind_assets.definitions import DBT_ASSETS, LOAD_RECORDS, YEARLY_ASSETS, defs
from aquamind_assets.defs import report, static
from aquamind_assets.defs.dbt.assets import dbt_cross_year, dbt_staging, dbt_year_incremental
from aquamind_assets.defs.dbt.docs import dbt_docs
from aquamind_assets.cli.runs import QUIET
from aquamind_assets.rules.catalogue import CATALOGUE

YEARS = (2015, 2016, 2017)
YEAR_MODELS = ("assignment_year_summary", "harvest_yearly_by_geography", "mortality_monthly_by_geography",
               "utilization_monthly")
CROSS_MODELS = ("batch_lifecycle", "cycle_lengths", "data_quality", "disease_outbreaks_by_year",
                "env_daily_by_container_parameter", "fault_detection_scores", "fcr_by_assignment", "fcr_by_batch", "health_summary",
                "lice_by_pen_week", "records_by_table_year", "rule_results", "stat_validation", "summary_by_year",
                "survival_by_batch")
REL = 1e-9  # same float8 inputs, only the summation order differs
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def _close(a, b, rel: float = REL) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)


def _same(a, b) -> bool:
    """Equal, floats to 1e-12 (a rebuilt float sum may differ in the last bit)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return _close(a, b, 1e-12)
    return a == b


@pytest.fixture(scope="module")
def built(dagster_env, tmp_path_factory):
    """static + yearly assets for 2015-2017, then dbt staging, years 2015-2017, cross-year marts, report and docs."""
    report_dir = tmp_path_factory.mktemp("report")
    resolved = database.resolve(start_embedded=False, env={"AQUAMIND_DATABASE_URL": dagster_env.db_url})
    dbt_env = settings.export_env(resolved, env={"DAGSTER_HOME": str(dagster_env.home)})
    with pytest.MonkeyPatch.context() as mp:
        # set here (and undone after the module) so the dbt assets' own _env() never writes os.environ
        for k, v in dbt_env.items():
            if k.startswith("AQUAMIND_DBT_"):
                mp.setenv(k, v)
        mp.setenv("AQUAMIND_REPORT_DIR", str(report_dir))
        # each dbt invocation writes a target dir of its own: keep them out of dbt_project/target
        mp.setenv("DBT_TARGET_PATH", str(dbt_target(tmp_path_factory)))
        resources = {"warehouse": defs.resources["warehouse"], "dbt": defs.resources["dbt"]}

        def run(assets, partition_key=None, tags=None, selection=None, raise_on_error=True):
            return dg.materialize(assets, instance=dagster_env.instance, resources=resources,
                                  partition_key=partition_key, tags={"aquamind/source": "test", **(tags or {})},
                                  raise_on_error=raise_on_error, run_config=QUIET, selection=selection)

        run([static.static_assets])
        for y in YEARS:
            run(YEARLY_ASSETS, partition_key=str(y))
        results = {
            "staging": run([dbt_staging]),
            "years": run([dbt_year_incremental], tags={"dagster/asset_partition_range_start": str(YEARS[0]),
                                                       "dagster/asset_partition_range_end": str(YEARS[-1])}),
            "marts": run([dbt_cross_year]),
            "report": run([report.report, dbt_docs]),
        }
        yield {"db_url": dagster_env.db_url, "results": results, "run": run, "report_dir": report_dir}


def _analytics(key: dg.AssetKey) -> bool:
    return key.path[0] == "analytics"


# ------------------------------------------------------------------ definitions
def _job_keys(name: str) -> set[str]:
    return {k.to_user_string() for k in defs.resolve_job_def(name).asset_layer.selected_asset_keys}


def test_definitions_load_and_the_jobs_select_the_project():
    """`analytics` is every dbt model and seed in dbt_project/ (by file) plus the report; `yearly_assets`
    the eight yearly assets."""
    dg.Definitions.validate_loadable(defs)
    dbt_files = [*(DBT_PROJECT / "models").rglob("*.sql"), *(DBT_PROJECT / "seeds").glob("*.csv")]
    assert len(dbt_files) > len(YEAR_MODELS) + len(CROSS_MODELS)
    assert _job_keys("analytics") == {f"analytics/{f.stem}" for f in dbt_files} | {"report", "dbt_docs"}
    assert _job_keys("yearly_assets") == {"batches", "mortality_events", "harvest", "environmental_readings",
                                          "feeding", "growth_samples", "health", "infrastructure_changes"}


def test_every_asset_is_in_a_named_group_and_the_marts_by_what_they_answer():
    """The catalog opens on the project's groups: none in `default`, the marts grouped by question
    (dbt_project.yml's meta.dagster.group), the staging views with the seeds."""
    graph = defs.resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        groups.setdefault(graph.get(key).group_name, set()).add(key.to_user_string())
    assert "default" not in groups, sorted(groups.get("default", ()))[:10]
    assert {"static", "infrastructure", "operations", "environment", "staging", "production_kpis", "fish_health_kpis",
            "facilities_kpis", "data_quality", "reports"} == set(groups)
    assert groups["environment"] == {"environmental_readings"}
    assert groups["infrastructure"] == {"infrastructure_changes"}
    assert {"analytics/fcr_by_batch", "analytics/summary_by_year"} <= groups["production_kpis"]
    assert {"analytics/mortality_monthly_by_geography", "analytics/lice_by_pen_week"} <= groups["fish_health_kpis"]
    assert {"analytics/data_quality", "analytics/rule_results", "load_records"} <= groups["data_quality"]
    assert all(k.startswith("analytics/stg_") or k in ("analytics/int_container_location", "analytics/validation_bands")
               for k in groups["staging"])


def test_each_yearly_asset_shows_its_main_tables_columns():
    """The catalog's column schema of a yearly asset is its main table's (the readings', not their events')."""
    from aquamind_assets.defs.loading import SPECS, TABLES

    graph = defs.resolve_asset_graph()
    for name, spec in SPECS.items():
        shown = [c.name for c in graph.get(dg.AssetKey(name)).metadata["dagster/column_schema"].columns]
        assert shown == [c.name for c in TABLES[spec.tables[0]].columns], name
    readings = [c.name for c in graph.get(dg.AssetKey("environmental_readings")).metadata["dagster/column_schema"].columns]
    assert {"reading_time", "sensor_id", "parameter_id", "value"} <= set(readings) and "event_type" not in readings


def test_dbt_asset_keys_include_the_marts():
    year_keys = {k.path[-1] for k in dbt_year_incremental.keys}
    cross_keys = {k.path[-1] for k in dbt_cross_year.keys}
    assert year_keys == set(YEAR_MODELS)
    assert cross_keys == set(CROSS_MODELS)
    assert all(_analytics(k) for a in DBT_ASSETS for k in a.keys)
    staging = {k.path[-1] for k in dbt_staging.keys}
    assert {"stg_batch", "stg_assignment_daily_state", "stg_environmental_reading", "int_container_location",
            "validation_bands"} <= staging
    assert dbt_year_incremental.partitions_def is not None
    assert dbt_year_incremental.partitions_def.get_partition_keys()[:3] == [str(y) for y in YEARS]
    assert dbt_year_incremental.backfill_policy == dg.BackfillPolicy.single_run()
    assert dbt_staging.partitions_def is None and dbt_cross_year.partitions_def is None


def test_dbt_sources_map_to_the_python_assets():
    """Every warehouse table dbt reads hangs under the Dagster asset that writes it, none is a phantom key."""
    upstream = set()
    for a in DBT_ASSETS:
        for k in a.keys:
            upstream |= {d for d in a.asset_deps[k] if not _analytics(d)}
    python_keys = {a.key for a in YEARLY_ASSETS} | set(static.static_assets.keys) | {LOAD_RECORDS.key}
    assert upstream == python_keys, upstream ^ python_keys
    for name in ("batches", "environmental_readings", "harvest", "mortality_events", "feeding", "health",
                 "growth_samples", "infrastructure", "infrastructure_changes", "reference_data"):
        assert dg.AssetKey(name) in upstream
    # the marts depend on staging, staging on the Python assets
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["analytics", "stg_assignment_daily_state"])).parent_keys
    assert dg.AssetKey("batches") in parents
    parents = graph.get(dg.AssetKey(["analytics", "mortality_monthly_by_geography"])).parent_keys
    assert dg.AssetKey(["analytics", "stg_stock_day"]) in parents
    parents = graph.get(dg.AssetKey(["analytics", "fcr_by_batch"])).parent_keys
    assert dg.AssetKey(["analytics", "fcr_by_assignment"]) in parents


def test_the_docs_page_documents_every_mart_with_the_warehouse_catalog(built):
    """dbt_docs -> one self-contained page (manifest and catalog inside) under the report's folder,
    linked by the http URL `aquamind ui` serves it at."""
    mat = built["results"]["report"].asset_materializations_for_node("dbt_docs")[0]
    page = Path(mat.metadata["path"].value)
    assert page == built["report_dir"] / "dbt-docs" / "index.html"
    assert mat.metadata["url"].value.endswith("/dbt-docs/index.html")
    text = page.read_text()
    assert "https://schemas.getdbt.com/dbt/catalog/v1.json" in text  # the catalog read from the warehouse
    missing = [m for m in (*YEAR_MODELS, *CROSS_MODELS) if f"model.aquamind.{m}" not in text]
    assert not missing, missing


def test_dbt_tests_are_asset_checks(built):
    declared = {(c.asset_key, c.name) for a in DBT_ASSETS for c in a.check_keys}
    dq = dg.AssetKey(["analytics", "data_quality"])
    sv = dg.AssetKey(["analytics", "stat_validation"])
    assert (dq, "expect_zero_data_quality_years_missing") in declared
    assert (sv, "within_band_stat_validation_within_band") in declared
    assert any(k == dg.AssetKey(["analytics", "fcr_by_batch"]) and n.startswith("unique_") for k, n in declared)
    assert len({c for a in DBT_ASSETS for c in a.check_keys}) > 100
    # and each dbt run evaluated exactly the checks its asset declares
    for label, asset in (("staging", dbt_staging), ("years", dbt_year_incremental), ("marts", dbt_cross_year)):
        result = built["results"][label]
        assert result.success
        evaluated = {(e.asset_key, e.check_name) for e in result.get_asset_check_evaluations()}
        assert evaluated == {(c.asset_key, c.name) for c in asset.check_keys}, label


def test_runs_materialize_every_model(built):
    res = built["results"]
    mats = res["years"].get_asset_materialization_events()
    seen = {(m.asset_key.path[-1], m.partition) for m in mats}
    # one ranged run materializes every year-incremental model for each year of 2015-2017
    assert seen == {(m, str(y)) for m in YEAR_MODELS for y in YEARS}
    assert {m.asset_key.path[-1] for m in res["marts"].get_asset_materialization_events()} == set(CROSS_MODELS)
    assert (built["report_dir"] / "report.html").stat().st_size > 10_000


# ------------------------------------------------------------------ dbt vs SQL over the warehouse tables
LOCATION = """
    SELECT c.id AS container_id, c.area_id, c.is_sea,
           CASE WHEN c.is_sea THEN 'sea' ELSE 'freshwater' END AS environment,
           coalesce(fs.geography_id, a.geography_id) AS geography_id
    FROM infrastructure.container c
    LEFT JOIN infrastructure.hall h ON h.id = c.hall_id
    LEFT JOIN infrastructure.freshwater_station fs ON fs.id = h.freshwater_station_id
    LEFT JOIN infrastructure.area a ON a.id = c.area_id"""


@pytest.mark.usefixtures("built")
def test_harvest_gutted_tonnes_per_geography_year(conn):
    mart = dict(((y, g), t) for y, g, t in conn.execute(
        """SELECT year, geography_id, sum(gutted_tonnes) FROM analytics.harvest_yearly_by_geography
           GROUP BY 1, 2""").fetchall())
    direct = dict(((y, g), t) for y, g, t in conn.execute(
        """SELECT l.year, e.geography_id, sum(l.gutted_weight_kg::float8) / 1000.0
           FROM harvest.harvest_lot l JOIN harvest.harvest_event e ON e.id = l.harvest_event_id
           GROUP BY 1, 2""").fetchall())
    assert set(mart) == set(direct)
    assert {y for y, _ in direct} == set(YEARS), "harvest in every year"
    assert len({g for _, g in direct}) == 2, "both geographies harvest"
    for k in direct:
        assert _close(mart[k], direct[k]), (k, mart[k], direct[k])
    assert sum(direct.values()) > 100  # tonnes


@pytest.mark.usefixtures("built")
def test_monthly_mortality_per_geography(conn):
    """deaths in the month / average over the month's stocked days of the population summed over assignments."""
    mart = {(m, g, e): (d, p) for m, g, e, d, p in conn.execute(
        """SELECT month_start, geography_id, environment, deaths, mortality_pct
           FROM analytics.mortality_monthly_by_geography""").fetchall()}
    direct = {(m, g, e): (d, p) for m, g, e, d, p in conn.execute(f"""
        WITH loc AS ({LOCATION}),
        per_day AS (
            SELECT date_trunc('month', s.state_date)::date AS m, loc.geography_id AS g, loc.environment AS e,
                   s.state_date, sum(s.population) AS population, sum(s.deaths) AS deaths
            FROM batch.assignment_daily_state s JOIN loc ON loc.container_id = s.container_id
            GROUP BY 1, 2, 3, 4)
        SELECT m, g, e, sum(deaths)::bigint, 100.0 * sum(deaths) / avg(population)
        FROM per_day GROUP BY 1, 2, 3""").fetchall()}
    assert set(mart) == set(direct)
    assert len(direct) == 36 * 2 * 2, "every month of 2015-2017, two geographies, sea and freshwater"
    for k, (deaths, pct) in direct.items():
        assert mart[k][0] == deaths, k
        assert _close(mart[k][1], pct), (k, mart[k][1], pct)
    sea = [p for (_, _, e), (_, p) in direct.items() if e == "sea"]
    assert 0 < sum(sea) / len(sea) < 5


FCR_DIRECT = """
WITH warm AS (  -- warm start: the opening state on 2015-01-01
    SELECT batch_id, sum(biomass_kg::float8) AS b FROM batch.opening_state GROUP BY 1),
first_day AS (
    SELECT DISTINCT ON (assignment_id) assignment_id, biomass_kg::float8 AS b
    FROM batch.assignment_daily_state ORDER BY assignment_id, state_date),
last_day AS (
    SELECT DISTINCT ON (assignment_id) assignment_id, biomass_kg::float8 AS b
    FROM batch.assignment_daily_state ORDER BY assignment_id, state_date DESC),
stocked AS (  -- eggs stocked inside the history: assignments from 2015 on that no transfer filled
    SELECT a.batch_id, sum(f.b) AS b
    FROM batch.batch_container_assignment a JOIN first_day f ON f.assignment_id = a.id
    WHERE a.assignment_date >= DATE '2015-01-01'
      AND NOT EXISTS (SELECT 1 FROM batch.transfer_action t WHERE t.dest_assignment_id = a.id)
    GROUP BY 1),
still_open AS (
    SELECT a.batch_id, sum(l.b) AS b
    FROM batch.batch_container_assignment a JOIN last_day l ON l.assignment_id = a.id
    WHERE a.departure_date IS NULL GROUP BY 1),
daily AS (
    SELECT batch_id, sum(feed_kg::float8) AS feed, sum(deaths * avg_weight_g::float8 / 1000.0) AS dead
    FROM batch.assignment_daily_state GROUP BY 1),
harvested AS (
    SELECT e.batch_id, sum(l.live_weight_kg::float8) AS b
    FROM harvest.harvest_lot l JOIN harvest.harvest_event e ON e.id = l.harvest_event_id GROUP BY 1),
moved AS (
    SELECT s.batch_id AS out_batch, d.batch_id AS in_batch, t.transferred_biomass_kg::float8 AS b
    FROM batch.transfer_action t
    JOIN batch.batch_container_assignment s ON s.id = t.source_assignment_id
    JOIN batch.batch_container_assignment d ON d.id = t.dest_assignment_id),
moved_out AS (SELECT out_batch AS batch_id, sum(b) AS b FROM moved GROUP BY 1),
moved_in AS (SELECT in_batch AS batch_id, sum(b) AS b FROM moved GROUP BY 1)
SELECT b.id, daily.feed,
       daily.feed / (coalesce(o.b, 0) - (coalesce(w.b, 0) + coalesce(st.b, 0)) + daily.dead + h.b
                     + coalesce(mo.b, 0) - coalesce(mi.b, 0)) AS biological_fcr
FROM batch.batch b
JOIN daily ON daily.batch_id = b.id
JOIN harvested h ON h.batch_id = b.id AND h.b > 0
LEFT JOIN warm w ON w.batch_id = b.id
LEFT JOIN stocked st ON st.batch_id = b.id
LEFT JOIN still_open o ON o.batch_id = b.id
LEFT JOIN moved_out mo ON mo.batch_id = b.id
LEFT JOIN moved_in mi ON mi.batch_id = b.id
WHERE b.actual_end_date IS NOT NULL
"""


@pytest.mark.usefixtures("built")
def test_biological_fcr_per_completed_batch(conn):
    """feed / (B_end - B_start + B_dead + B_harvested + B_out - B_in) over the batch's stored life."""
    # every warm-started assignment has its opening state (so B_start needs no fallback)
    missing = conn.execute(
        """SELECT count(*) FROM batch.batch_container_assignment a
           WHERE a.assignment_date < DATE '2015-01-01'
             AND NOT EXISTS (SELECT 1 FROM batch.opening_state o WHERE o.assignment_id = a.id)""").fetchone()[0]
    assert missing == 0
    direct = {b: fcr for b, _, fcr in conn.execute(FCR_DIRECT).fetchall()}
    mart = dict(conn.execute("SELECT batch_id, biological_fcr FROM analytics.fcr_by_batch WHERE is_completed").fetchall())
    assert set(mart) == set(direct), "the same completed batches"
    assert len(direct) >= 3
    for b, fcr in direct.items():
        assert fcr is not None and fcr > 0, b
        assert _close(mart[b], fcr, 1e-7), (b, mart[b], fcr)
        assert 0.9 < fcr < 1.6, (b, fcr)  # docs/domain.md §6 band 1.0-1.4 for the mean; a batch may stray a little


@pytest.mark.usefixtures("built")
def test_economic_fcr_is_at_least_biological(conn):
    rows = conn.execute(
        """SELECT batch_id, biological_fcr, economic_fcr FROM analytics.fcr_by_batch
           WHERE biological_fcr IS NOT NULL AND economic_fcr IS NOT NULL""").fetchall()
    assert len(rows) >= 3
    bad = [(b, bio, eco) for b, bio, eco in rows if eco < bio]
    assert not bad, f"economic FCR below biological: {bad}"


@pytest.mark.usefixtures("built")
def test_sea_area_utilization_per_month(conn):
    """occupied pen-days (a pen with fish that day) / pen-days in service that month, per sea area (a
    pen counts from its commissioning until its retirement; a month with no pen in service has no row)."""
    mart = {(m, u): (occ, avail, pct, n) for m, u, occ, avail, pct, n in conn.execute(
        """SELECT month_start, unit_id, occupied_container_days, available_container_days, utilization_pct,
                  containers
           FROM analytics.utilization_monthly WHERE level = 'sea_area'""").fetchall()}
    direct = {(m, u): (occ, avail, n) for m, u, occ, avail, n in conn.execute("""
        WITH pens AS (SELECT id, area_id, commissioned_on AS since, coalesce(decommissioned_on, DATE '2100-01-01') AS until
                      FROM infrastructure.container WHERE area_id IS NOT NULL),
        months AS (
            SELECT m::date AS m, ((m + interval '1 month')::date - m::date) AS days
            FROM (SELECT DISTINCT year FROM batch.assignment_daily_state) y,
                 generate_series(make_date(y.year, 1, 1), make_date(y.year, 12, 1), interval '1 month') m),
        occupied AS (
            SELECT p.area_id, date_trunc('month', s.state_date)::date AS m,
                   count(DISTINCT (s.container_id, s.state_date)) AS pen_days
            FROM batch.assignment_daily_state s JOIN pens p ON p.id = s.container_id
            WHERE s.population > 0 GROUP BY 1, 2)
        SELECT months.m, p.area_id, coalesce(max(o.pen_days), 0),
               sum(least(months.m + months.days, p.until) - greatest(months.m, p.since)), count(*)
        FROM months JOIN pens p ON p.since < months.m + months.days AND p.until > months.m
        LEFT JOIN occupied o ON o.area_id = p.area_id AND o.m = months.m
        GROUP BY 1, 2""").fetchall()}
    assert set(mart) == set(direct)
    assert len({u for _, u in direct}) >= 2 and len({m for m, _ in direct}) == 36
    for k, (occ, avail, n) in direct.items():
        m_occ, m_avail, m_pct, m_n = mart[k]
        assert (m_occ, m_avail, m_n) == (occ, avail, n), k
        assert _close(m_pct, 100.0 * occ / avail), k
    assert sum(o for o, _, _ in direct.values()) > 0


@pytest.mark.usefixtures("built")
def test_active_batches_at_year_end(conn):
    mart = dict(conn.execute("SELECT year, active_batches_at_year_end FROM analytics.summary_by_year").fetchall())
    assert set(mart) == set(YEARS)
    for y in YEARS:
        by_assignment = conn.execute(
            """SELECT count(DISTINCT batch_id) FROM batch.batch_container_assignment
               WHERE assignment_date <= make_date(%(y)s, 12, 31)
                 AND (departure_date IS NULL OR departure_date > make_date(%(y)s, 12, 31))""", {"y": y}).fetchone()[0]
        by_state = conn.execute(
            """SELECT count(DISTINCT batch_id) FROM batch.assignment_daily_state
               WHERE state_date = make_date(%(y)s, 12, 31) AND population > 0""", {"y": y}).fetchone()[0]
        assert by_assignment == by_state > 0, y
        assert mart[y] == by_assignment, (y, mart[y], by_assignment)


# ------------------------------------------------------------------ data quality: what the loads stored
DQ = [dg.AssetKey(["analytics", "rule_results"]), dg.AssetKey(["analytics", "data_quality"])]


def _dq_checks(built) -> dict[str, bool]:
    """Run the two data-quality marts alone; {check name: passed} of their dbt tests."""
    result = built["run"]([dbt_cross_year], selection=DQ, raise_on_error=False)
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_data_quality_mart_has_every_rule_once_with_its_stored_results(built, conn):
    """One row per catalogue rule under its own name; its load-time counts are the sums of what the
    loads stored in meta.rule_evaluation (read here straight from the table), none missing."""
    rows = conn.execute("SELECT rule, scope, years_missing, load_examined, load_violations FROM analytics.data_quality").fetchall()
    assert sorted(r[0] for r in rows) == sorted(r.name for r in CATALOGUE)
    stored = dict(conn.execute("""SELECT rule, sum(examined) FROM meta.rule_evaluation
                                  WHERE source = 'load' AND committed GROUP BY rule""").fetchall())
    for rule, scope, missing, examined, violations in rows:
        assert missing == 0, rule
        if scope == "all":
            assert examined is None and rule not in stored, rule
        else:
            assert examined == stored[rule] and violations == 0, rule
    assert sum(stored.values()) > 100_000


def test_data_quality_tests_fail_on_a_missing_evaluation_an_empty_one_and_an_audit_violation(built, conn):
    assert all(_dq_checks(built).values())
    conn.execute("CREATE TEMP TABLE saved_evaluations AS SELECT * FROM meta.rule_evaluation")
    try:
        conn.execute("""DELETE FROM meta.rule_evaluation WHERE rule = 'mortality_positive' AND year = 2016""")
        conn.execute("""UPDATE meta.rule_evaluation SET examined = 0
                        WHERE rule = 'feed_stock_balance' AND year = 2015 AND source = 'load'""")
        conn.execute("""INSERT INTO meta.rule_evaluation (rule, asset, year, source, examined, violations, passed, committed)
                        VALUES ('gutted_below_live', 'harvest', 2017, 'audit', 10, 2, false, true)""")
        checks = _dq_checks(built)
        failed = {name for name, passed in checks.items() if not passed}
        assert failed == {"not_null_rule_results_load_examined", "examined_where_stored_rule_results_load_examined",
                          "expect_zero_rule_results_audit_violations"}, failed
        # dbt build skips the mart summing a failed model, so its own test does not pass either
        assert checks.get("expect_zero_data_quality_years_missing") is not True
    finally:
        with conn.transaction():
            conn.execute("DELETE FROM meta.rule_evaluation")
            conn.execute("INSERT INTO meta.rule_evaluation SELECT * FROM saved_evaluations")
        conn.execute("DROP TABLE saved_evaluations")
        assert all(_dq_checks(built).values())


def test_records_by_table_year_are_the_stored_counts(built, conn):
    """The mart reads the load records; they hold what every yearly table stores, counted here."""
    from aquamind_assets.warehouse.ddl import all_tables

    marts = {(t, y): n for t, y, n in conn.execute(
        "SELECT table_name, year, row_count FROM analytics.records_by_table_year").fetchall()}
    counted = {}
    for table in (t for t in all_tables() if t.yearly):
        for y, n in conn.execute(f"SELECT year, count(*) FROM {table.qualified} GROUP BY year").fetchall():
            counted[(table.qualified, y)] = n
    assert {k: v for k, v in marts.items() if v} == {k: v for k, v in counted.items() if v}
    assert len({t for t, _ in marts}) == sum(1 for t in all_tables() if t.yearly)


def test_daily_readings_view_is_the_readings_aggregated(built, conn):
    """env_daily_by_container_parameter (over the rollup written at load) against the readings."""
    got = conn.execute("""SELECT e.reading_date, e.container_id, e.parameter_id, e.reading_count, e.mean_value,
                                 e.min_value, e.max_value
                          FROM analytics.env_daily_by_container_parameter e WHERE year = 2017
                          ORDER BY 1, 2, 3""").fetchall()
    want = conn.execute("""SELECT (reading_time AT TIME ZONE 'UTC')::date, container_id, parameter_id, count(*),
                                  avg(value), min(value)::float8, max(value)::float8
                           FROM environmental.environmental_reading WHERE year = 2017
                           GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""").fetchall()
    assert len(got) == len(want) > 10_000
    for g, w in zip(got, want):
        assert g[:4] == w[:4] and g[5:] == w[5:] and _close(g[4], w[4], 1e-6), (g, w)


def test_peak_density_per_sea_area_month_is_the_daily_states(built, conn):
    """utilization_monthly's peak density and share of the biomass limit (from the per container-month
    peaks the batches load writes) against the stored daily state."""
    mart = {(m, u): (d, p) for m, u, d, p in conn.execute(
        """SELECT month_start, unit_id, max_density_kg_m3, max_pct_of_biomass_limit FROM analytics.utilization_monthly
           WHERE level = 'sea_area' AND occupied_container_days > 0""").fetchall()}
    direct = {(m, u): (d, p) for m, u, d, p in conn.execute(
        """SELECT date_trunc('month', s.state_date)::date, c.area_id,
                  max(s.biomass_kg::float8 / nullif(c.volume_m3, 0)), max(100.0 * s.biomass_kg::float8 / nullif(c.max_biomass_kg, 0))
           FROM batch.assignment_daily_state s JOIN infrastructure.container c ON c.id = s.container_id
           WHERE c.area_id IS NOT NULL GROUP BY 1, 2""").fetchall()}
    assert set(mart) == set(direct) and len(direct) > 20
    for k, (d, p) in direct.items():
        assert _close(mart[k][0], d) and _close(mart[k][1], p), (k, mart[k], d, p)


ASSIGNMENT_YEAR_FROM_DAYS = """
    WITH d AS (SELECT year, assignment_id, batch_id, container_id, lifecycle_stage_id, state_date, population,
                      avg_weight_g::float8 AS w, biomass_kg::float8 AS b, temperature_c::float8 AS t,
                      feed_kg::float8 AS feed_kg, deaths FROM batch.assignment_daily_state WHERE year = %(year)s),
         tot AS (SELECT year, assignment_id, batch_id, container_id, lifecycle_stage_id, count(*) AS n,
                        min(state_date) AS first_date, max(state_date) AS last_date, sum(feed_kg) AS feed,
                        sum(deaths) AS deaths, sum(deaths * w / 1000.0) AS dead, sum(population::float8) AS pop,
                        sum(t) AS degree_days
                 FROM d GROUP BY 1, 2, 3, 4, 5)
    SELECT tot.assignment_id, tot.batch_id, tot.container_id, tot.lifecycle_stage_id, tot.n, tot.first_date,
           tot.last_date, f.population, f.w, f.b, l.population, l.w, l.b, l.deaths, tot.feed, tot.deaths, tot.dead,
           tot.pop, tot.degree_days, tot.degree_days - l.t
    FROM tot JOIN d f ON f.assignment_id = tot.assignment_id AND f.state_date = tot.first_date
             JOIN d l ON l.assignment_id = tot.assignment_id AND l.state_date = tot.last_date
    ORDER BY 1"""


def test_assignment_year_summary_is_the_daily_state_summed(built, conn):
    """The per-assignment totals the batches load sums as it writes the days (batch.assignment_year,
    read by assignment_year_summary) against the stored daily state, aggregated in SQL."""
    got = conn.execute("""SELECT assignment_id, batch_id, container_id, lifecycle_stage_id, state_days, first_date,
                                 last_date, first_population, first_avg_weight_g, first_biomass_kg, last_population,
                                 last_avg_weight_g, last_biomass_kg, last_day_deaths, feed_kg, deaths, dead_biomass_kg,
                                 population_days, degree_days, degree_days_before_last
                          FROM analytics.assignment_year_summary WHERE year = 2017 ORDER BY 1""").fetchall()
    want = conn.execute(ASSIGNMENT_YEAR_FROM_DAYS, {"year": 2017}).fetchall()
    assert len(got) == len(want) > 20
    for g, w in zip(got, want):
        assert len(g) == len(w) and all(_close(a, b, 1e-9) if isinstance(b, float) else a == b for a, b in zip(g, w)), (g, w)


# ------------------------------------------------------------------ one year rebuilt alone (mutates 2016: last)
def _rows(conn, model: str, year: int) -> tuple[list[str], set[str]]:
    """(rows as text, sorted; the set of their xmin): equal text = same content, equal xmin = not rewritten."""
    got = conn.execute(f"SELECT t::text, t.xmin::text FROM analytics.{model} t WHERE year = %s ORDER BY 1",
                       (year,)).fetchall()
    return [r for r, _ in got], {x for _, x in got}


def _content(conn, model: str, year: int) -> list[tuple]:
    return conn.execute(f"SELECT t.* FROM analytics.{model} t WHERE year = %s ORDER BY t::text", (year,)).fetchall()


def _by(conn, sql: str, year: int) -> dict:
    return {r[0]: r[1:] for r in conn.execute(sql, (year,)).fetchall()}


HARVEST_2016 = """SELECT (geography_id, product_grade_id)::text, fish, live_tonnes, gutted_tonnes, harvest_events
                  FROM analytics.harvest_yearly_by_geography WHERE year = %s"""
RECORDS = "SELECT table_name, row_count FROM analytics.records_by_table_year WHERE year = %s"
SUMMARY = "SELECT year, to_jsonb(s) FROM analytics.summary_by_year s WHERE year = %s"
RATIO = """SELECT geography, value FROM analytics.stat_validation
           WHERE metric = 'harvest_gutted_to_live_ratio' AND year = %s"""


def test_rematerialized_year_updates_exactly_that_year(built, conn):
    before = {(m, y): _rows(conn, m, y) for m in YEAR_MODELS for y in YEARS}
    assert all(before[(m, 2016)][0] for m in YEAR_MODELS), "every year-incremental model has 2016 rows"
    harvest0 = _by(conn, HARVEST_2016, 2016)
    records0 = _by(conn, RECORDS, 2016)
    summary0 = {y: _by(conn, SUMMARY, y)[y][0] for y in YEARS}
    content0 = {m: _content(conn, m, 2016)
                for m in ("assignment_year_summary", "mortality_monthly_by_geography", "utilization_monthly")}
    ratio0 = _by(conn, RATIO, 2016)
    n_days = conn.execute("SELECT count(*) FROM environmental.environmental_reading_daily WHERE year = 2016").fetchone()[0]
    assert n_days > 10_000

    # edit 2016's source rows without breaking an invariant: 1% less gutted weight, no daily readings
    # at all (the row counts come from the load records, which this edit outside a load leaves alone)
    conn.execute("UPDATE harvest.harvest_lot SET gutted_weight_kg = gutted_weight_kg * 0.99 WHERE year = 2016")
    conn.execute("DELETE FROM environmental.environmental_reading_daily WHERE year = 2016")

    result = built["run"]([dbt_year_incremental], partition_key="2016")
    assert result.success
    mats = result.get_asset_materialization_events()
    assert {(m.asset_key.path[-1], m.partition) for m in mats} == {(m, "2016") for m in YEAR_MODELS}

    after = {(m, y): _rows(conn, m, y) for m in YEAR_MODELS for y in YEARS}
    for m in YEAR_MODELS:
        for y in (2015, 2017):  # untouched: same rows, never rewritten
            assert after[(m, y)] == before[(m, y)], (m, y)
        rows16, xmins16 = after[(m, 2016)]
        assert not xmins16 & before[(m, 2016)][1], f"{m}: 2016 rows were not rewritten"
    for m in ("assignment_year_summary", "mortality_monthly_by_geography", "utilization_monthly"):
        assert _same(_content(conn, m, 2016), content0[m]), f"{m}: 2016 changed though its sources did not"

    harvest1 = _by(conn, HARVEST_2016, 2016)
    assert set(harvest1) == set(harvest0)
    for k, (fish, live, gutted, events) in harvest1.items():
        assert (fish, events) == (harvest0[k][0], harvest0[k][3])
        assert _close(live, harvest0[k][1])
        assert _close(gutted, 0.99 * harvest0[k][2], 1e-9), k

    # the cross-year marts follow once rebuilt
    assert built["run"]([dbt_cross_year]).success
    assert _by(conn, RECORDS, 2016) == records0
    assert conn.execute("SELECT count(*) FROM analytics.env_daily_by_container_parameter WHERE year = 2016"
                        ).fetchone() == (0,)
    summary1 = {y: _by(conn, SUMMARY, y)[y][0] for y in YEARS}
    assert _same(summary1[2015], summary0[2015]) and _same(summary1[2017], summary0[2017])
    s0, s1 = summary0[2016], summary1[2016]
    assert _close(s1["harvest_gutted_tonnes"], 0.99 * s0["harvest_gutted_tonnes"])
    changed = {k for k in s0 if not _same(s0[k], s1[k])}
    assert changed == {"harvest_gutted_tonnes"}, changed
    temps = conn.execute("""SELECT year FROM analytics.stat_validation
                            WHERE metric = 'sea_temperature_annual_mean_c'""").fetchall()
    assert sorted({y for (y,) in temps}) == [2015, 2017]
    ratio1 = _by(conn, RATIO, 2016)
    assert set(ratio1) == set(ratio0) == {"FO", "SC"}
    for g, (v,) in ratio1.items():
        assert _close(v, 0.99 * ratio0[g][0]), g
