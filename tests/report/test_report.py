"""The HTML report, rendered by the `report` asset from the dbt marts of a tiny 2015-2017 warehouse.

Checks: report.html exists and is self-contained (no external URL, nothing loaded from anywhere),
has an inline SVG per chart, embeds each chart's rows as JSON equal to the figures recomputed here
from the marts' rows with pandas,
shows the summary and data-quality tables with the marts' stored values, depends on the dbt marts in the
asset graph, and renders in headless Chromium to a real PNG.
"""
from __future__ import annotations

import json
import math
import os
import re
import struct
import subprocess
from decimal import Decimal
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import pandas as pd
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from aquamind_assets.config.years import FIRST_DATE
from aquamind_assets.defs import report
from aquamind_assets.defs.dbt.assets import dbt_cross_year, dbt_year_incremental
from aquamind_assets.report.queries import CHARTS, label
from aquamind_assets.rules.catalogue import CATALOGUE
from aquamind_assets.runtime import settings
from aquamind_assets.runtime.file_server import FileServer
from fixture_helpers import chromium

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Report(HTMLParser):
    """Sections by id: their <svg> count, embedded JSON scripts and table rows (cell texts, row classes)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, dict] = {}
        self.scripts: dict[str, str] = {}
        self.svgs = 0
        self._section = None
        self._script = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section = self.sections.setdefault(a.get("id"), {"svg": 0, "rows": [], "classes": []})
        elif tag == "svg":
            self.svgs += 1
            if self._section is not None:
                self._section["svg"] += 1
        elif tag == "script":
            self._script = a.get("id")
            assert a.get("type") == "application/json", f"a script that is not data: {attrs}"
            self.scripts[self._script] = ""
        elif tag == "tr":
            self._row = []
            if self._section is not None:
                self._section["classes"].append(a.get("class") or "")
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None
        elif tag == "script":
            self._script = None
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._section is not None:
            self._section["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._script is not None:
            self.scripts[self._script] += data
        elif self._cell is not None:
            self._cell += data


@pytest.fixture(scope="module")
def html(built_report) -> str:
    return built_report.html_path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def parsed(html) -> _Report:
    p = _Report()
    p.feed(html)
    p.close()
    return p


def _chart_sections(parsed: _Report) -> dict[str, dict]:
    return {sid.removeprefix("chart-"): s for sid, s in parsed.sections.items() if sid and sid.startswith("chart-")}


def test_report_is_written_and_materialized(built_report, parsed):
    """The materialization's metadata describes the file on disk: its path, size, the number of charts
    the HTML actually holds, and an http URL under which the file server of `aquamind ui` serves it."""
    path = built_report.html_path
    assert path.is_file() and path.stat().st_size > 10_000
    (mat,) = [m.materialization for m in built_report.result.get_asset_materialization_events()
              if m.asset_key == report.report.key]
    md = mat.metadata
    assert Path(md["path"].value).resolve() == path.resolve()
    url = urlsplit(md["url"].value)
    assert f"{url.scheme}://{url.netloc}" == settings.files_url()  # http: a browser opens it from the UI
    with FileServer("127.0.0.1", 0, {"report": built_report.report_dir}) as files:
        with urlopen(files.url + url.path, timeout=10) as resp:
            assert resp.status == 200 and resp.read() == path.read_bytes()
    assert md["charts"].value == len(_chart_sections(parsed)) == 6
    assert md["bytes"].value == path.stat().st_size
    assert (built_report.report_dir / "report_data.json").is_file()


def test_report_depends_on_the_dbt_marts():
    """The report's upstream keys are the dbt marts' keys (["analytics", model]), so lineage and
    staleness reach it; a bare key such as AssetKey("summary_by_year") names no asset at all."""
    deps = report.report.asset_deps[report.report.key]
    marts = set(dbt_year_incremental.keys) | set(dbt_cross_year.keys)
    assert len(deps) == len(report.MARTS)
    assert deps <= marts, f"report deps that are no dbt asset: {sorted(d.to_user_string() for d in deps - marts)}"


def test_no_external_urls(html):
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"(?i)<(link|iframe|img|object|embed)\b", html)
    assert not re.search(r"(?i)@import|url\(", html)
    for attr, value in re.findall(r"""(?i)\b(src|href|xlink:href|action)\s*=\s*["']?([^"'\s>]*)""", html):
        assert value.startswith("#") or value.startswith("data:"), f"{attr}={value} loads something"
    assert not re.search(r"(?i)<script(?![^>]*application/json)", html), "only JSON data scripts"


def test_at_least_six_svg_charts(parsed):
    charts = _chart_sections(parsed)
    assert len(charts) >= 6, sorted(charts)
    assert set(charts) == set(CHARTS), "every chart the report defines is in the HTML, and no other"
    for name, section in charts.items():
        assert section["svg"] == 1, f"chart {name} has no SVG (empty data?)"
    assert parsed.svgs == len(charts), "an SVG outside the chart sections"


def _mart(conn, name: str) -> pd.DataFrame:
    """Every stored row of analytics.<name>, numerics as floats."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql.SQL("SELECT * FROM analytics.{}").format(sql.Identifier(name))).fetchall()
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, Decimal)).any():
            frame[col] = frame[col].astype(float)
    return frame


def _month(d) -> str:
    return f"{d:%Y-%m}"


def _expected_charts(conn) -> dict[str, tuple[list[str], str, int, pd.DataFrame]]:
    """Each chart's rows recomputed with pandas from the marts' stored rows, not with the report's SQL:
    {chart: (key columns, value column, decimals the chart rounds to, frame of unrounded values)}."""
    sv = _mart(conn, "stat_validation")
    sea = sv[sv.metric == "sea_temperature_annual_mean_c"][["year", "geography", "value"]]

    fcr = _mart(conn, "fcr_by_batch")
    completed = fcr[fcr.is_completed.astype(bool)]
    hatched_before = completed.start_date < pd.Timestamp(FIRST_DATE).date()  # those hatched in the stored years first
    first12 = completed.assign(before=hatched_before).sort_values(["before", "batch_id"]).head(12)
    life = _mart(conn, "batch_lifecycle").merge(first12[["batch_id", "batch_number", "start_date"]], on="batch_id")
    points = pd.concat([
        pd.DataFrame({"batch": life.batch_number, "day": life[f"{end}_date"], "weight_g": life[f"{end}_weight_g"],
                      "start": life.start_date}) for end in ("entry", "exit")])
    points = points.dropna(subset=["day", "weight_g"])
    points = points[points.weight_g > 0]
    points["day"] = [(d - s).days for d, s in zip(points.day, points.start)]
    growth = points[["batch", "day", "weight_g"]]

    mm = _mart(conn, "mortality_monthly_by_geography")
    mm = mm[mm.environment == "sea"]
    mortality = pd.DataFrame({"month": mm.month_start.map(_month), "geography": mm.geography_code,
                              "mortality_pct": mm.mortality_pct})

    per_kind = pd.concat([pd.DataFrame({"year": [d.year for d in completed.last_harvest_date], "kind": kind,
                                        "fcr": completed[f"{kind}_fcr"]}) for kind in ("biological", "economic")])
    fcr_chart = per_kind.dropna(subset=["fcr"]).groupby(["year", "kind"], as_index=False)["fcr"].mean()

    hv = _mart(conn, "harvest_yearly_by_geography")
    harvest = hv.groupby([hv.year.astype(int), "geography_code"], as_index=False)["gutted_tonnes"].sum() \
        .rename(columns={"geography_code": "geography"})

    ut = _mart(conn, "utilization_monthly")
    ut = ut[ut.level == "geography"].assign(month=lambda f: f.month_start.map(_month))
    sums = ut.groupby(["month", "geography_code"], as_index=False)[
        ["occupied_container_days", "available_container_days"]].sum()
    utilization = pd.DataFrame({"month": sums.month, "geography": sums.geography_code,
                                "utilization_pct": 100.0 * sums.occupied_container_days
                                / sums.available_container_days})
    return {"sea_temperature": (["year", "geography"], "value", 3, sea),
            "growth": (["batch", "day"], "weight_g", 2, growth),
            "mortality": (["month", "geography"], "mortality_pct", 4, mortality),
            "fcr": (["year", "kind"], "fcr", 3, fcr_chart),
            "harvest": (["year", "geography"], "gutted_tonnes", 1, harvest),
            "utilization": (["month", "geography"], "utilization_pct", 2, utilization)}


def _plain(v):
    return v.item() if hasattr(v, "item") else v  # numpy scalar -> Python


def _points(records, keys: list[str], value: str) -> list[tuple]:
    return sorted((*(_plain(r[k]) for k in keys), float(r[value])) for r in records)


def _round_step(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(abs(mantissa - m) < 1e-6 for m in (1, 2, 2.5, 5, 10))


def test_axes_show_round_ticks_units_and_years_as_years_and_every_value_on_hover(html):
    """Each chart's y ticks are evenly spaced round numbers (powers of ten on the log chart), a year
    axis shows whole years without separators, both axes are titled, and every point or bar
    carries its value as a hover title."""
    for name, c in CHARTS.items():
        section = re.search(rf"<section id='chart-{name}'>(.*?)</section>", html, re.S).group(1)
        svg = re.search(r"<svg.*?</svg>", section, re.S).group(0)
        y_ticks = [_number(t) for t in re.findall(r'text-anchor="end" font-size="11">([^<]+)</text>', svg)]
        assert len(y_ticks) >= 3, (name, y_ticks)
        if c.kind == "line-log":
            assert all(math.log10(v).is_integer() for v in y_ticks), (name, y_ticks)
        else:
            steps = {round(b - a, 9) for a, b in zip(y_ticks, y_ticks[1:])}
            assert len(steps) == 1 and _round_step(steps.pop()), (name, y_ticks)
        x_ticks = re.findall(r'text-anchor="middle" font-size="11">([^<]+)</text>', svg)
        if c.x in ("year", "month"):  # years as years: 2016, never 2,016 or 2016.0
            assert x_ticks and all(re.fullmatch(r"20\d\d", t) for t in x_ticks), (name, x_ticks)
            years = [int(t) for t in x_ticks]
            assert years == sorted(set(years)), (name, x_ticks)
        assert f">{c.x_label}</text>" in svg and f">{c.y_label}</text>" in svg, name
        rows = json.loads(re.search(r"<script[^>]*>(.*?)</script>", section, re.S).group(1))
        assert svg.count("<title>") == len(rows), (name, svg.count("<title>"), len(rows))


def test_the_overview_and_the_summary_definitions(parsed, html, conn):
    """Above the charts, the data-quality and validation outcome, counted from the marts; below the
    summary, each column's definition as dbt documents it (mortality: all stages, of what)."""
    dq = _mart(conn, "data_quality")
    bad = int(((dq.load_violations.fillna(0) + dq.audit_violations.fillna(0) + dq.years_missing) > 0).sum())
    sv = _mart(conn, "stat_validation")
    text = re.sub(r"<[^>]+>", "", re.search(r"<section id='overview'>(.*?)</section>", html, re.S).group(1))
    assert f"{len(dq) - bad} of {len(dq)} rules without a violation" in text, text
    assert f"{int(sv.within_band.astype(bool).sum())} of {len(sv)} reference bands met" in text, text
    assert html.index("id='overview'") < html.index("id='chart-")
    summary = re.search(r"<section id='table-summary'>(.*?)</section>", html, re.S).group(1)
    described = report.column_descriptions("summary_by_year")["mortality_pct"]
    assert described and f"<dt>{escape(label('mortality_pct'))}</dt><dd>{escape(described)}</dd>" in summary


def test_embedded_json_equals_the_marts(parsed, conn):
    """Each chart's embedded rows are its figures recomputed from the marts' stored rows (with pandas
    here, with SQL in the report), to the chart's rounding."""
    assert set(parsed.scripts) == {f"data-{name}" for name in CHARTS}
    expected = _expected_charts(conn)
    assert set(expected) == set(CHARTS)
    for name, (keys, value, decimals, frame) in expected.items():
        embedded = json.loads(parsed.scripts[f"data-{name}"])
        assert len(frame) > 0, f"chart {name}: its marts hold no rows"
        assert embedded and all(set(r) == {*keys, value} for r in embedded), f"chart {name}: {embedded[:1]}"
        got, want = _points(embedded, keys, value), _points(frame.to_dict("records"), keys, value)
        assert [g[:-1] for g in got] == [w[:-1] for w in want], f"chart {name}: not the points its marts give"
        for g, w in zip(got, want):
            assert abs(g[-1] - w[-1]) <= 0.5 * 10 ** -decimals + 1e-9, (name, g, w)
    # the charts span the data: three years, two geographies, every month at sea
    sea = json.loads(parsed.scripts["data-sea_temperature"])
    assert {r["year"] for r in sea} == {2015, 2016, 2017} and {r["geography"] for r in sea} == {"FO", "SC"}
    mortality = json.loads(parsed.scripts["data-mortality"])
    assert len(mortality) == 36 * 2


# the summary table's columns: (column of analytics.summary_by_year, decimals the table rounds it to)
SUMMARY_COLUMNS = {"year": 0, "active_batches_at_year_end": 0, "fish_harvested": 0, "harvest_gutted_tonnes": 1,
                   "mortality_pct": 2, "avg_biological_fcr": 3, "outbreaks_started": 0, "treatment_success_pct": 1,
                   "utilization_pct": 1, "total_records": 0}


def _number(text: str) -> float:
    return float(text.replace(",", ""))  # the report separates thousands


def test_summary_and_data_quality_tables(parsed, conn):
    """The HTML tables show the marts' stored rows (read here with SELECT *): the summary per year to its
    rounding, every data-quality rule with its counts, worst first, rows with violations flagged."""
    header, *body = parsed.sections["table-summary"]["rows"]
    assert header == [label(c) for c in SUMMARY_COLUMNS]
    summary = _mart(conn, "summary_by_year").set_index("year", drop=False)
    assert [int(row[0]) for row in body] == sorted(summary.index) == [2015, 2016, 2017]
    for row in body:
        stored = summary.loc[int(row[0])]
        for cell, (column, decimals) in zip(row, SUMMARY_COLUMNS.items()):
            if pd.isna(stored[column]):
                assert cell == "", (row[0], column, cell)
            else:
                assert abs(_number(cell) - float(stored[column])) <= 0.5 * 10 ** -decimals + 1e-9, (row[0], column, cell)
    assert (summary.active_batches_at_year_end > 0).all() and (summary.total_records > 10_000).all()

    dq = parsed.sections["table-data_quality"]
    header, *body = dq["rows"]
    assert header == [label(c) for c in ("rule", "description", "examined", "violations")]
    shown = {rule: (desc, int(_number(examined)) if examined else None, int(_number(violations)))
             for rule, desc, examined, violations in body}

    def count(v):
        return None if pd.isna(v) else int(v)
    stored = {r.rule: (r.description, count(r.load_examined) if count(r.load_examined) is not None
                       else count(r.audit_examined),
                       (count(r.load_violations) or 0) + (count(r.audit_violations) or 0) + int(r.years_missing))
              for r in _mart(conn, "data_quality").itertuples()}
    assert len(body) == len(shown) and shown == stored
    assert len(stored) == len(CATALOGUE)
    violations = [int(_number(row[3])) for row in body]
    assert violations == sorted(violations, reverse=True), "worst first"
    assert [c == "bad" for c in dq["classes"][1:]] == [v != 0 for v in violations], "rows with violations flagged"
    assert "table-validation" in parsed.sections


def test_sensor_faults_are_stored_per_year_and_the_detectors_find_them(parsed, conn):
    """Every stored year holds faults of every kind, owned by the year they start in; the detectors'
    flags, scored against them in SQL (the mart fault_detection_scores over the stored tables), reach
    0.9 precision and recall for spikes and stuck sensors; the report shows the mart's rows."""
    per_year = conn.execute("""SELECT year, kind, count(*), bool_and(extract(year FROM start_time AT TIME ZONE 'UTC') = year)
                               FROM environmental.sensor_fault GROUP BY 1, 2""").fetchall()
    assert {(y, k) for y, k, _, _ in per_year} == {(y, k) for y in (2015, 2016, 2017)
                                                   for k in ("gap", "spike", "stuck", "drift", "calibration")}
    assert all(owned for *_, owned in per_year)
    scores = _mart(conn, "fault_detection_scores").set_index("kind")
    stored = dict(conn.execute("SELECT kind, count(*) FROM environmental.sensor_fault GROUP BY 1").fetchall())
    assert scores["faults"].to_dict() == stored
    for kind in ("spike", "stuck"):
        row = scores.loc[kind]  # by item: a Series' .flags is pandas' own attribute
        assert row["flags"] > 0 and row["recall"] >= 0.9 and row["precision"] >= 0.9, (kind, row.to_dict())
    header, *body = parsed.sections["table-fault_detection"]["rows"]
    assert header[0] == label("kind") and len(body) == len(scores)
    shown = {r[0]: (int(_number(r[1])), int(_number(r[3]))) for r in body}
    assert shown == {k: (int(r["faults"]), int(r["flags"])) for k, r in scores.iterrows()}


def test_headless_chromium_renders_a_screenshot(built_report, tmp_path):
    exe = chromium()
    if exe is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    shot = tmp_path / "shot.png"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,2400", f"--screenshot={shot}",
           built_report.html_path.resolve().as_uri()]
    env = {**os.environ, "HOME": str(tmp_path)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert shot.is_file(), f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    data = shot.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1000, 2400)
    assert len(data) > 20_000, f"screenshot of {len(data)} bytes: blank page?"


def test_conformance_table_over_this_warehouse(built_report, tmp_path):
    """benchmarks/conformance.py over this module's stored tiny warehouse and its marts (the parser's tests
    and the assertions: tests/test_conformance.py): a computed verdict for every statement, no error."""
    from test_conformance import assert_conformance_table

    assert_conformance_table(built_report.db_url, tmp_path, years=[2015, 2017])
