"""Small inline-SVG charts (line, log line, grouped bar): no JavaScript, no external URL."""
from __future__ import annotations

import html
import math

W, H, L, R, T, B = 860, 320, 60, 150, 20, 40
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf", "#393b79", "#637939")


def _series(rows, x, y, s):
    out: dict[str, list] = {}
    for r in rows:
        if r[y] is not None:
            out.setdefault(str(r[s]), []).append((r[x], float(r[y])))
    return out


def chart(rows: list[dict], kind: str, x: str, y: str, s: str) -> str:
    series = _series(rows, x, y, s)
    if not series:
        return '<p class="empty">no data</p>'
    xs = sorted({p[0] for pts in series.values() for p in pts}, key=lambda v: (isinstance(v, str), v))
    log = kind == "line-log"
    vals = [math.log10(max(v, 1e-3)) if log else v for pts in series.values() for _, v in pts]
    lo, hi = (min(vals), max(vals)) if log else (min(0.0, min(vals)), max(vals))
    hi = hi if hi > lo else lo + 1
    numeric_x = all(isinstance(v, (int, float)) for v in xs)
    def px(v):
        if numeric_x and kind != "bar":
            a, b = xs[0], xs[-1]
            return L + (W - L - R) * ((v - a) / (b - a) if b != a else 0.5)
        return L + (W - L - R) * (xs.index(v) + 0.5) / len(xs)
    def py(v):
        v = math.log10(max(v, 1e-3)) if log else v
        return T + (H - T - B) * (1 - (v - lo) / (hi - lo))
    parts = [f'<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">',
             f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="#444"/>',
             f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="#444"/>']
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        shown = 10 ** v if log else v
        label = f"{shown:,.0f}" if abs(shown) >= 100 else f"{shown:.3g}"
        yy = T + (H - T - B) * (1 - i / 4)
        parts.append(f'<text x="{L - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11">{label}</text>')
    if numeric_x and kind != "bar":  # evenly spaced ticks on a numeric axis
        ticks = [xs[0] + (xs[-1] - xs[0]) * i / 5 for i in range(6)]
        labels = [(t, f"{t:,.0f}") for t in ticks]
    else:
        step = max(1, len(xs) // 10)
        labels = [(v, str(v)) for v in xs[::step]]
    for v, text in labels:
        parts.append(f'<text x="{px(v):.1f}" y="{H - B + 16}" text-anchor="middle" font-size="11">{html.escape(text)}</text>')
    n = len(series)
    for k, (name, pts) in enumerate(sorted(series.items())):
        c = COLORS[k % len(COLORS)]
        if kind == "bar":
            bw = (W - L - R) / len(xs) / (n + 1)
            for xv, yv in pts:
                x0 = px(xv) - bw * n / 2 + k * bw
                parts.append(f'<rect x="{x0:.1f}" y="{py(yv):.1f}" width="{bw:.1f}" height="{H - B - py(yv):.1f}" '
                             f'fill="{c}"><title>{html.escape(name)} {xv}: {yv:,.4g}</title></rect>')
        else:
            d = " ".join(f"{'M' if i == 0 else 'L'}{px(xv):.1f},{py(yv):.1f}" for i, (xv, yv) in enumerate(pts))
            parts.append(f'<path d="{d}" fill="none" stroke="{c}" stroke-width="1.6"/>')
        parts.append(f'<rect x="{W - R + 10}" y="{T + k * 16}" width="10" height="10" fill="{c}"/>'
                     f'<text x="{W - R + 24}" y="{T + k * 16 + 9}" font-size="11">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
