"""A year rewritten from the UI's buttons refreshes what is downstream of it by itself
(defs/automation.py), and the pages the UI links open in a browser.

The warehouse is first what `aquamind generate` leaves (static, two years, dbt, the report), made in
this test's process; then `aquamind ui` starts (webserver and daemon, as a user runs it). In headless
Chromium (Playwright on the system's Chromium): *Catalog*, the yearly assets' groups, select all,
*Materialize selected*, a custom partition selection of 2016, *Launch 1 run*. Then, with no other
request: 2016's year models show stale (*Unsynced* on the model's Partitions tab; STALE through
GraphQL), the daemon's automation sensor refreshes 2016's dbt year models (and not 2015's) in one run,
then the cross-year marts, the report and the dbt docs. The report's and the dbt docs' asset pages
link them over http; both open from those links; the report's charts show a value on hover and round
axis ticks, years printed as years.

Without Chromium, 2016 is rewritten through the webserver's GraphQL API (what the button sends),
automation is checked all the same, and the test ends skipped, naming the steps it could not run.
"""
from __future__ import annotations

import math
import re
import time

import dagster as dg
import pytest
import ui_browser

from conftest import aquamind_ui, gqlh
from fixture_helpers import chromium

pytestmark = pytest.mark.slow
YEARS = ("2015", "2016")
REWRITTEN = "2016"
SENSOR = "refresh_marts_and_report"
AUTOMATION_TIMEOUT = 300  # s: ticks every 15 s, then the dbt year run, the marts and the report


def _generate_in_process(instance: dg.DagsterInstance) -> None:
    from aquamind_assets.definitions import YEARLY_ASSETS, defs
    from aquamind_assets.defs import report, static
    from aquamind_assets.defs.dbt.assets import dbt_cross_year, dbt_resource, dbt_staging, dbt_year_incremental

    resources = {"warehouse": defs.resources["warehouse"], "dbt": dbt_resource()}
    steps = [([static.static_assets], None, {}),
             *(([*YEARLY_ASSETS], y, {}) for y in YEARS),
             ([dbt_staging], None, {}),
             ([dbt_year_incremental], None, {"dagster/asset_partition_range_start": YEARS[0],
                                             "dagster/asset_partition_range_end": YEARS[-1]}),
             ([dbt_cross_year], None, {}), ([report.report], None, {})]
    for assets, partition, tags in steps:
        result = dg.materialize(assets, instance=instance, partition_key=partition, resources=resources,
                                raise_on_error=False, tags={"aquamind/source": "e2e", **tags},
                                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        assert result.success, [e.event_specific_data.error.message[:300] for e in result.all_events if e.is_step_failure]


def _newest(gql, key: list[str], partition: str | None = None) -> float:
    mats = gql.latest_materializations(key, [partition] if partition else None)
    return float(mats[0]["timestamp"]) if mats else 0.0


def test_a_year_rewritten_from_the_ui_refreshes_its_models_the_marts_and_the_report(e2e_env, dagster_instance, tmp_path):
    _generate_in_process(dagster_instance)
    exe = chromium()
    with aquamind_ui(e2e_env, tmp_path / "ui.log") as ui:  # started only now: nothing to refresh before this
        if exe is None:
            _rewrite_a_year_and_watch(ui, None)
        else:
            with ui_browser.UISession.launch(exe, f"http://127.0.0.1:{ui.port}", tmp_path / "screenshots") as browser:
                _rewrite_a_year_and_watch(ui, browser)
                _open_the_report_and_the_docs(ui, browser)
    if exe is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium): 2016 was rewritten through "
                    "GraphQL and automation checked; the UI's buttons, the linked report and dbt docs and the "
                    "report's charts in a browser were not")


def _yearly_selection() -> tuple[str, list[list[str]]]:
    """The catalog's selection listing the yearly assets (their groups), and their keys."""
    from aquamind_assets.definitions import YEARLY_ASSETS, defs

    groups = sorted({a.group_names_by_key[a.key] for a in YEARLY_ASSETS})
    graph = defs.resolve_asset_graph()
    in_groups = sorted(k.path for k in graph.get_all_asset_keys() if graph.get(k).group_name in groups)
    keys = sorted(a.key.path for a in YEARLY_ASSETS)
    assert in_groups == keys, f"groups {groups} hold more than the yearly assets: {in_groups}"
    return " or ".join(f"group:{g}" for g in groups), keys


def _rewrite_in_the_browser(ui, browser: ui_browser.UISession, watched: list[str]) -> str:
    """Materialize 2016 of the yearly assets with the UI's buttons; watch `watched` (a year model)
    show *Unsynced* for 2016 while the run goes and until automation refreshes it. The run's id."""
    gql = ui.gql
    selection, keys = _yearly_selection()
    assert gql.stale_status(watched, REWRITTEN) == "FRESH", "stale before anything was rewritten"
    launched_ms = time.time() * 1000  # materialization timestamps are in ms
    with browser.step("materialize 2016 of the yearly assets from the catalog"):
        short_id = browser.materialize_partition(selection, ["/".join(k) for k in keys], REWRITTEN)
    runs = [r for r in gql.runs({"dagster/from_ui": "true", "dagster/partition": REWRITTEN})
            if r["runId"].startswith(short_id)]
    assert len(runs) == 1, f"no single run {short_id} launched from the UI for {REWRITTEN}: {runs}"
    run = runs[0]
    assert sorted(a["path"] for a in run["assetSelection"]) == keys, run["assetSelection"]

    deadline = time.monotonic() + 240
    with browser.step(f"2016 of {'/'.join(watched)} shown unsynced"):
        while not browser.partition_shows(watched, REWRITTEN, "Unsynced"):
            # stale from the first rewritten upstream until automation has refreshed it
            assert _newest(gql, watched, REWRITTEN) < launched_ms, \
                f"{watched} {REWRITTEN} was refreshed before the UI ever showed it unsynced"
            assert time.monotonic() < deadline, f"{watched} {REWRITTEN} never shown unsynced"
            assert not ui.dead(), ui.dead()
    done = gql.wait_run(run["runId"], timeout=240, alive=ui.dead)
    assert done["status"] == "SUCCESS", (done, gql.step_failures(run["runId"]))
    return run["runId"]


def _rewrite_a_year_and_watch(ui, browser: ui_browser.UISession | None):
    from aquamind_assets.definitions import YEARLY_ASSETS
    from aquamind_assets.defs.dbt.assets import dbt_cross_year, dbt_year_incremental

    gql = ui.gql
    year_models = sorted(k.path for k in dbt_year_incremental.keys)
    cross_models = sorted(k.path for k in dbt_cross_year.keys)
    before = {tuple(k): {y: _newest(gql, k, y) for y in YEARS} for k in year_models}
    deadline = time.monotonic() + 120  # the sensor's first tick marks everything so far as handled
    while not [t for t in gql.sensor_ticks(SENSOR) if t["status"] in ("SUCCESS", "SKIPPED")]:
        assert time.monotonic() < deadline, f"the automation sensor never ticked: {gql.sensor_ticks(SENSOR)}"
        time.sleep(2)

    if browser is not None:
        _rewrite_in_the_browser(ui, browser, year_models[0])
    else:
        backfill = gql.launch_backfill([a.key.to_user_string() for a in YEARLY_ASSETS], [REWRITTEN], title="e2e: 2016")
        bf = gql.wait_backfill(backfill, timeout=240, alive=ui.dead)
        assert bf["status"] == "COMPLETED_SUCCESS", bf
    rewritten_at = max(_newest(gql, [a.key.to_user_string()], REWRITTEN) for a in YEARLY_ASSETS)
    # Dagster marks a year model's partition stale when its year's upstream changed; it does not carry
    # staleness from partitioned assets into unpartitioned ones (the cross-year marts, the report)
    stale_between = {k[-1]: gql.stale_status(k, REWRITTEN) for k in year_models}

    def refreshed_after_rewrite() -> bool:  # the report and the dbt docs come last, in one run
        return all(_newest(gql, [k]) > rewritten_at for k in ("report", "dbt_docs")) and \
            all(_newest(gql, k, REWRITTEN) > rewritten_at for k in year_models)

    deadline = time.monotonic() + AUTOMATION_TIMEOUT
    while not refreshed_after_rewrite():
        assert time.monotonic() < deadline, f"no refreshed year models, report and dbt docs {AUTOMATION_TIMEOUT} s " \
                                            f"after the rewrite; ticks: {gql.sensor_ticks(SENSOR, 5)}"
        assert not ui.dead(), ui.dead()
        time.sleep(3)

    assert set(stale_between.values()) == {"STALE"}, stale_between  # shown until automation caught up
    refreshed = {tuple(k): [m for m in gql.latest_materializations(k, [REWRITTEN]) if float(m["timestamp"]) > rewritten_at]
                 for k in year_models}
    assert all(len(ms) == 1 for ms in refreshed.values()), refreshed  # each 2016 model once
    assert len({m["runId"] for ms in refreshed.values() for m in ms}) == 1  # all of them in one dbt run
    for k in year_models:  # 2015 is left as it was
        assert _newest(gql, k, YEARS[0]) == before[tuple(k)][YEARS[0]], k
    for k in cross_models:
        assert _newest(gql, k) > rewritten_at, k
    from aquamind_assets.defs import report
    assert _newest(gql, ["report"]) > max(_newest(gql, list(k.path)) for k in report.report.dependency_keys)
    reports = [m for m in gql.latest_materializations(["report"]) if float(m["timestamp"]) > rewritten_at]
    assert len(reports) == 1, reports  # once, after the marts: not before the year models and again after
    assert gql.stale_status(["report"]) == "FRESH"
    runs = {m["runId"] for k in [*year_models, *cross_models, ["report"]] for m in gql.latest_materializations(k)[:1]}
    for run_id in runs:  # launched by the automation sensor, not by a user
        assert gqlh.tag(gql.run(run_id), "dagster/sensor_name") == "refresh_marts_and_report" or \
            gqlh.tag(gql.run(run_id), "dagster/from_automation_condition") == "true", run_id


# ------------------------------------------------------------------------------ the linked pages
def _round_ticks(labels: list[str]) -> str | None:
    """Why the value axis' labels are not round numbers at a round step (linear) or powers of ten
    (log), or None."""
    try:
        values = [float(t.replace(",", "")) for t in labels]
    except ValueError:
        return f"not numbers: {labels}"
    if len(values) < 2 or values != sorted(values):
        return f"not ascending: {labels}"
    if values[0] > 0 and all(math.isclose(b / a, 10) for a, b in zip(values, values[1:])):
        return None  # log axis: 1, 10, 100, ...
    step = values[1] - values[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    if not any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5, 10)):
        return f"step {step:g} is not 1, 2, 2.5 or 5 times a power of ten: {labels}"
    if not all(math.isclose(b - a, step) for a, b in zip(values, values[1:])):
        return f"uneven steps: {labels}"
    if not all(math.isclose(v / step, round(v / step), abs_tol=1e-6) for v in values):
        return f"not multiples of the step {step:g}: {labels}"
    return None


def _open_the_report_and_the_docs(ui, browser: ui_browser.UISession):
    """The report and the dbt docs open from their asset's metadata link (http from `aquamind ui`'s
    file server, no file:// that the browser refuses), and the report's charts read well."""
    from aquamind_assets.report.queries import CHARTS

    files = f"http://127.0.0.1:{ui.files_port}"
    with browser.step("open the report from its asset's link"):
        href = f"{files}/report/report.html"
        report = browser.follow_metadata_link(["report"], href)
        assert browser.responses.get(href) == 200, (href, browser.responses.get(href))
        assert report.title().startswith("AquaMind"), report.title()
        report.locator("section[id^='chart-'] svg").first.wait_for()

    with browser.step("read the report's charts"):
        charts = {c.name: c for c in ui_browser.read_charts(report)}
        assert sorted(charts) == sorted(CHARTS), sorted(charts)
        problems = {name: why for name, c in charts.items() if (why := _round_ticks(c.y_ticks))}
        assert not problems, problems
        year_like = re.compile(r"2,?0\d\d")
        by_year = {name: c for name, c in charts.items()
                   if c.x_ticks and all(year_like.fullmatch(t) for t in c.x_ticks)}
        assert {"sea_temperature", "fcr"} <= set(by_year), {n: c.x_ticks for n, c in charts.items()}
        for name, c in by_year.items():  # years as years: "2016", never "2,016", on the axis and on hover
            assert set(c.x_ticks) <= set(YEARS), (name, c.x_ticks)
            assert c.tips and all(re.search(r", (2015|2016)(-\d\d)?: ", t) for t in c.tips), (name, c.tips[:5])
        assert set(charts["sea_temperature"].x_ticks) == set(YEARS), charts["sea_temperature"].x_ticks
        assert all(c.tips for c in charts.values()), {n: len(c.tips) for n, c in charts.items()}

    with browser.step("hover a point and a bar of the report"):
        tip = re.compile(r"[^,]+, (2015|2016): -?\d[\d,]*(\.\d+)?")  # "<series>, <year>: <value>"
        point = ui_browser.hover_value(report, "#chart-sea_temperature svg circle")
        assert point and tip.fullmatch(point), point
        bar = ui_browser.hover_value(report, "#chart-fcr svg rect:has(title)")
        assert bar and tip.fullmatch(bar), bar

    with browser.step("open the dbt docs from their asset's link"):
        href = f"{files}/dbt-docs/index.html"
        docs = browser.follow_metadata_link(["dbt_docs"], href)
        assert browser.responses.get(href) == 200, (href, browser.responses.get(href))
        assert docs.title() == "dbt Docs", docs.title()
        docs.get_by_text("aquamind", exact=True).filter(visible=True).first.wait_for()  # the project, listed
        docs.goto(f"{href}#!/model/model.aquamind.harvest_yearly_by_geography")  # a model's page of the same site
        docs.get_by_text("Harvest per year, geography and product grade").filter(visible=True).first.wait_for()

    refused = [m for m in browser.console if ui_browser.LOCAL_RESOURCE in m]
    assert not refused, refused
