"""The HTML report, rendered by the `report` asset from the dbt marts of a tiny 2015-2017 warehouse.

Checks: report.html exists and is self-contained (no external URL, nothing loaded from anywhere),
has an inline SVG per chart, embeds each chart's rows as JSON equal to a fresh query of its mart,
shows the summary and data-quality tables with the marts' values, depends on the dbt marts in the
asset graph, and renders in headless Chromium to a real PNG.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg.rows import dict_row

from aquamind_assets.defs import report
from aquamind_assets.defs.dbt.assets import dbt_cross_year, dbt_year_incremental
from aquamind_assets.report.queries import CHARTS, TABLES, fetch

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


@pytest.fixture
def conn(built_report):
    with psycopg.connect(built_report.db_url, autocommit=True) as c:
        yield c


def test_report_is_written_and_materialized(built_report):
    path = built_report.html_path
    assert path.is_file() and path.stat().st_size > 10_000
    (mat,) = [m.materialization for m in built_report.result.get_asset_materialization_events()
              if m.asset_key == report.report.key]
    md = mat.metadata
    assert Path(md["path"].value).resolve() == path.resolve()
    assert md["url"].value == path.resolve().as_uri()
    assert md["charts"].value == len(CHARTS)
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
    assert len(CHARTS) >= 6
    assert parsed.svgs >= 6
    for name in CHARTS:
        section = parsed.sections.get(f"chart-{name}")
        assert section is not None, f"no section for chart {name}"
        assert section["svg"] == 1, f"chart {name} has no SVG (empty data?)"


def test_embedded_json_equals_the_marts(parsed, conn):
    assert set(parsed.scripts) == {f"data-{name}" for name in CHARTS}
    with conn.cursor(row_factory=dict_row) as cur:
        for name, (*_, sql) in CHARTS.items():
            fresh = [dict(r) for r in cur.execute(sql).fetchall()]
            embedded = json.loads(parsed.scripts[f"data-{name}"])
            assert fresh, f"chart {name}: its mart query returns no rows"
            assert embedded == fresh, f"chart {name}: embedded JSON differs from its mart"
    # spot checks that the charts span the data: three years, two geographies
    sea = json.loads(parsed.scripts["data-sea_temperature"])
    assert {r["year"] for r in sea} == {2015, 2016, 2017} and {r["geography"] for r in sea} == {"FO", "SC"}
    mortality = json.loads(parsed.scripts["data-mortality"])
    assert len(mortality) == 36 * 2


def _cells(rows: list[dict]) -> list[list[str]]:
    return [["" if v is None else str(v) for v in r.values()] for r in rows]


def test_summary_and_data_quality_tables(parsed, conn):
    data = fetch(conn)["tables"]
    for name in ("summary", "data_quality"):
        assert name in TABLES
        section = parsed.sections.get(f"table-{name}")
        assert section is not None, f"no {name} table"
        rows = data[name]
        assert rows, f"{name}: no rows in the mart"
        header, *body = section["rows"]
        assert header == list(rows[0]), name
        assert body == _cells(rows), f"{name}: the table differs from its mart"
    summary = data["summary"]
    assert [r["year"] for r in summary] == [2015, 2016, 2017]
    assert all(r["active_batches_at_year_end"] > 0 and r["total_records"] > 10_000 for r in summary)
    # rows with violations (if any) are the ones flagged
    dq = parsed.sections["table-data_quality"]
    flagged = [c == "bad" for c in dq["classes"][1:]]
    assert flagged == [r["violations"] not in (0, None) for r in data["data_quality"]]
    assert len(data["data_quality"]) >= 25
    assert "table-validation" in parsed.sections


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def test_headless_chromium_renders_a_screenshot(built_report, tmp_path):
    exe = _chromium()
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
