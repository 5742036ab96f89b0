"""The self-contained HTML report: charts as inline SVG, their rows embedded as JSON, summary and
data-quality tables. Everything comes from the dbt marts (see queries.py)."""
from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from .queries import CHARTS, TABLES, fetch
from .svg import chart

CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
h1{margin-bottom:0}section{margin:2em 0}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}.bad{background:#fdd}.meta{color:#666}"""


def _table(rows: list[dict]) -> str:
    if not rows:
        return '<p class="empty">no rows</p>'
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = []
    for r in rows:
        bad = r.get("violations", 0) not in (0, None) or r.get("within_band") is False
        cells = "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r.values())
        body.append(f'<tr class="{"bad" if bad else ""}">{cells}</tr>')
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_html(data: dict, title: str = "", meta: str = "") -> str:
    years = [r["year"] for r in data["tables"].get("summary", [])]
    title = title or (f"AquaMind: salmon farming, {min(years)}-{max(years)}" if years else "AquaMind report")
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1><p class='meta'>{html.escape(meta)}</p>"]
    for name, (heading, kind, x, y, s, _) in CHARTS.items():
        rows = data["charts"][name]
        embedded = json.dumps(rows).replace("</", "<\\/")  # JSON can't close the script element
        out.append(f"<section id='chart-{name}'><h2>{html.escape(heading)}</h2>{chart(rows, kind, x, y, s)}"
                   f"<script type='application/json' id='data-{name}'>{embedded}</script></section>")
    for name, (heading, _) in TABLES.items():
        out.append(f"<section id='table-{name}'><h2>{html.escape(heading)}</h2>{_table(data['tables'][name])}</section>")
    out.append("</body></html>")
    return "".join(out)


def write_report(conn, out_dir: Path, meta: str = "") -> Path:
    data = fetch(conn)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(render_html(data, meta=f"{meta} rendered {stamp}".strip()), encoding="utf-8")
    (out_dir / "report_data.json").write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    return path
