"""Small inline-SVG charts (line, log line, grouped bar): no JavaScript, no external URL. Axes carry
round ticks and units; every point or bar shows its value on hover (an SVG <title>)."""
from __future__ import annotations

import html
import math

W, H, L, R, T, B = 860, 340, 70, 170, 20, 56
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf", "#393b79", "#637939")


def nice_step(span: float, count: int = 5) -> float:
    """The round step (1, 2, 2.5 or 5 times a power of ten) giving about `count` intervals."""
    raw = span / max(count, 1) if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * 0.999)


def nice_ticks(lo: float, hi: float, count: int = 5, step: float | None = None) -> list[float]:
    """Round tick values covering [lo, hi]."""
    step = step or nice_step(hi - lo, count)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def tick_label(v: float, step: float, plain: bool = False) -> str:
    """A tick's text with the decimals its step needs; thousands separated unless `plain` (years)."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if step < 1 and abs(step * 10 ** decimals - round(step * 10 ** decimals)) > 1e-9:
        decimals += 1  # 2.5 x 10^-k needs one more
    text = f"{v:.{decimals}f}" if plain else f"{v:,.{decimals}f}"
    return "0" if text in ("-0", "-0.0") else text


def _series(rows, x, y, s):
    out: dict[str, list] = {}
    for r in rows:
        if r[y] is not None:
            out.setdefault(str(r[s]), []).append((r[x], float(r[y])))
    return out


def _value(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


class _Axes:
    """The chart's scales: y linear or log10, x numeric or categorical (months labelled by year)."""

    def __init__(self, series: dict, kind: str, x_name: str):
        self.kind, self.log, self.x_name = kind, kind == "line-log", x_name
        self.xs = sorted({p[0] for pts in series.values() for p in pts}, key=lambda v: (isinstance(v, str), v))
        self.numeric_x = kind != "bar" and all(isinstance(v, (int, float)) for v in self.xs)
        vals = [v for pts in series.values() for _, v in pts]
        if self.log:
            lo, hi = math.floor(math.log10(max(min(vals), 1e-3))), math.ceil(math.log10(max(max(vals), 1e-3)))
            self.y_ticks = [float(10 ** e) for e in range(lo, max(hi, lo + 1) + 1)]
            self.lo, self.hi = float(lo), float(max(hi, lo + 1))
        else:
            lo, hi = (min(0.0, min(vals)) if kind == "bar" else min(vals)), max(vals)
            self.y_ticks = nice_ticks(lo, hi if hi > lo else lo + 1)
            self.lo, self.hi = self.y_ticks[0], self.y_ticks[-1]
        self.y_step = (self.y_ticks[1] - self.y_ticks[0]) if len(self.y_ticks) > 1 and not self.log else 1.0

    def px(self, v) -> float:
        if self.numeric_x:
            a, b = self.x_ticks()[0], self.x_ticks()[-1]
            return L + (W - L - R) * ((v - a) / (b - a) if b != a else 0.5)
        return L + (W - L - R) * (self.xs.index(v) + 0.5) / len(self.xs)

    def py(self, v: float) -> float:
        v = math.log10(max(v, 1e-3)) if self.log else v
        return T + (H - T - B) * (1 - (v - self.lo) / (self.hi - self.lo))

    def x_ticks(self) -> list:
        if self.numeric_x:
            span = self.xs[-1] - self.xs[0]
            if span == 0:
                return [self.xs[0]]
            step = nice_step(span, 6)
            if self.x_name == "year":  # whole years, each one labelled up to a dozen
                step = 1.0 if span <= 12 else (2.0 if step == 2.5 else step)
            return nice_ticks(self.xs[0], self.xs[-1], step=step)
        if all(isinstance(v, str) and len(v) == 7 and v[4] == "-" for v in self.xs):  # months: one label a year
            return [v for v in self.xs if v.endswith("-01")] or self.xs[:1]
        return self.xs[::max(1, len(self.xs) // 12)]

    def x_label(self, v) -> str:
        if isinstance(v, str):
            return v[:4] if len(v) == 7 and v[4] == "-" else v
        ticks = self.x_ticks()
        step = (ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
        return tick_label(v, step, plain=self.x_name == "year")


def _frame(ax: _Axes, x_label: str, y_label: str) -> list[str]:
    parts = [f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="#444"/>',
             f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="#444"/>']
    for v in ax.y_ticks:
        yy = ax.py(v)
        text = _value(v) if ax.log else tick_label(v, ax.y_step)
        parts.append(f'<line x1="{L}" y1="{yy:.1f}" x2="{W - R}" y2="{yy:.1f}" stroke="#eee"/>'
                     f'<text x="{L - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11">{text}</text>')
    for v in ax.x_ticks():
        parts.append(f'<text x="{ax.px(v):.1f}" y="{H - B + 16}" text-anchor="middle" font-size="11">'
                     f'{html.escape(ax.x_label(v))}</text>')
    parts.append(f'<text x="{(L + W - R) / 2:.0f}" y="{H - 12}" text-anchor="middle" font-size="12">{html.escape(x_label)}</text>'
                 f'<text x="14" y="{(T + H - B) / 2:.0f}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 14 {(T + H - B) / 2:.0f})">{html.escape(y_label)}</text>')
    return parts


def chart(rows: list[dict], kind: str, x: str, y: str, s: str, x_label: str = "", y_label: str = "") -> str:
    series = _series(rows, x, y, s)
    if not series:
        return '<p class="empty">no data</p>'
    ax = _Axes(series, kind, x)
    parts = [f'<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">', *_frame(ax, x_label or x, y_label or y)]
    n = len(series)
    for k, (name, pts) in enumerate(sorted(series.items())):
        c = COLORS[k % len(COLORS)]
        tips = [f"{html.escape(name)}, {html.escape(ax.x_label(xv) if not isinstance(xv, str) else xv)}: {_value(yv)}"
                for xv, yv in pts]
        if kind == "bar":
            bw = (W - L - R) / len(ax.xs) / (n + 1)
            for (xv, yv), tip in zip(pts, tips):
                x0 = ax.px(xv) - bw * n / 2 + k * bw
                parts.append(f'<rect x="{x0:.1f}" y="{ax.py(yv):.1f}" width="{bw:.1f}" height="{ax.py(0) - ax.py(yv):.1f}" '
                             f'fill="{c}"><title>{tip}</title></rect>')
        else:
            d = " ".join(f"{'M' if i == 0 else 'L'}{ax.px(xv):.1f},{ax.py(yv):.1f}" for i, (xv, yv) in enumerate(pts))
            parts.append(f'<path d="{d}" fill="none" stroke="{c}" stroke-width="1.6"/>')
            parts += [f'<circle cx="{ax.px(xv):.1f}" cy="{ax.py(yv):.1f}" r="3" fill="{c}" fill-opacity="0.01">'
                      f'<title>{tip}</title></circle>' for (xv, yv), tip in zip(pts, tips)]
        parts.append(f'<rect x="{W - R + 10}" y="{T + k * 16}" width="10" height="10" fill="{c}"/>'
                     f'<text x="{W - R + 24}" y="{T + k * 16 + 9}" font-size="11">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
