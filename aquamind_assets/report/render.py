"""The self-contained HTML report: charts as inline SVG, their rows embedded as JSON, summary and
data-quality tables. Everything comes from the dbt marts (see queries.py); the definitions shown
beside the summary are the marts' own column descriptions (dbt's manifest), passed in."""
from __future__ import annotations

import datetime as dt
import html
import json
import re
from decimal import Decimal
from pathlib import Path

from .queries import CHARTS, TABLES, fetch, label
from .svg import chart

NUMBER = re.compile(r"-?\d+(\.\d+)?")

CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
h1{margin-bottom:0}section{margin:2em 0}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}.bad{background:#fdd}.meta{color:#666}
dl{font-size:12px;color:#444}dt{font-weight:600;margin-top:.4em}dd{margin-left:1.5em}
.overview{font-size:15px;padding:.6em 1em;background:#f5f8fc;border-left:4px solid #1f77b4}"""


def cell(column: str, v) -> str:
    """A value as a reader wants it: thousands separated, the decimals the query rounded to kept,
    years, flags and text as they are (the marts' numerics arrive as decimal strings)."""
    if v is None:
        return ""
    if isinstance(v, bool) or column == "year":
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float) or (isinstance(v, str) and NUMBER.fullmatch(v)):
        d = Decimal(str(v))
        return f"{d:,.{max(0, -d.as_tuple().exponent)}f}"
    return str(v)


def _table(rows: list[dict]) -> str:
    if not rows:
        return '<p class="empty">no rows</p>'
    head = "".join(f"<th>{html.escape(label(k))}</th>" for k in rows[0])
    body = []
    for r in rows:
        bad = r.get("violations", 0) not in (0, None, "0") or r.get("within_band") is False
        cells = "".join(f"<td>{html.escape(cell(k, v))}</td>" for k, v in r.items())
        body.append(f'<tr class="{"bad" if bad else ""}">{cells}</tr>')
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _definitions(columns, definitions: dict[str, str]) -> str:
    items = "".join(f"<dt>{html.escape(label(c))}</dt><dd>{html.escape(definitions[c])}</dd>"
                    for c in columns if definitions.get(c))
    return f"<dl>{items}</dl>" if items else ""


def overview(tables: dict) -> str:
    """One line on the data's quality, before any chart: rules with violations and bands missed."""
    rules = tables.get("data_quality", [])
    broken = [r["rule"] for r in rules if r.get("violations") not in (0, None, "0")]
    bands = tables.get("validation", [])
    missed = [r for r in bands if r.get("within_band") is False]
    return (f"<p class='overview'>Data quality: {len(rules) - len(broken)} of {len(rules)} rules without a violation"
            + (f" (failing: {html.escape(', '.join(broken[:5]))})" if broken else "")
            + f". Statistical validation: {len(bands) - len(missed)} of {len(bands)} reference bands met.</p>")


def render_html(data: dict, title: str = "", meta: str = "", definitions: dict[str, str] | None = None) -> str:
    years = [r["year"] for r in data["tables"].get("summary", [])]
    title = title or (f"AquaMind: salmon farming, {min(years)}-{max(years)}" if years else "AquaMind report")
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1><p class='meta'>{html.escape(meta)}</p>",
           f"<section id='overview'>{overview(data['tables'])}</section>"]
    for name, c in CHARTS.items():
        rows = data["charts"][name]
        embedded = json.dumps(rows).replace("</", "<\\/")  # JSON can't close the script element
        out.append(f"<section id='chart-{name}'><h2>{html.escape(c.title)}</h2>"
                   f"{chart(rows, c.kind, c.x, c.y, c.series, c.x_label, c.y_label)}"
                   f"<script type='application/json' id='data-{name}'>{embedded}</script></section>")
    for name, (heading, _) in TABLES.items():
        rows = data["tables"][name]
        notes = _definitions(rows[0], definitions or {}) if rows and name == "summary" else ""
        out.append(f"<section id='table-{name}'><h2>{html.escape(heading)}</h2>{_table(rows)}{notes}</section>")
    out.append("</body></html>")
    return "".join(out)


def write_report(conn, out_dir: Path, meta: str = "", definitions: dict[str, str] | None = None) -> Path:
    data = fetch(conn)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(render_html(data, meta=f"{meta} rendered {stamp}".strip(), definitions=definitions),
                    encoding="utf-8")
    (out_dir / "report_data.json").write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    return path
