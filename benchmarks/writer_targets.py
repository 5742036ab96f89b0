"""The writer-limit targets judged on one benchmark run's figures (run.py writes them into its JSON).

Each target names what was measured, its limit and whether it was met; a target missing its figure
(a scale not run, say) is reported as not measured, never as met.
"""
from __future__ import annotations

FULL, FULL2X = "full", "full2x"
MIB_LIMIT = 2048
TARGETS = {  # name -> (what, limit)
    "whole_job_ratio": ("whole job at full / raw COPY of its stored rows", 3.0),
    "whole_job_seconds": ("whole job at full, seconds", 600.0),
    "dbt_seconds": ("dbt phase at full, seconds", 120.0),
    "asset_write_ratio": ("each yearly asset's write phase: raw / write", 0.6),
    "peak_rss_mib": ("peak summed RSS of the process tree at full, MiB", MIB_LIMIT),
    "memory_years_ratio": ("10-year peak / 1-year peak", 1.2),
    "scale_curve": ("per-row cost of full2x against full", 0.15),
}


def _scale(result: dict, name: str) -> dict | None:
    return next((s for s in result.get("scales", []) if s["scale"] == name), None)


def stored_rows(scale: dict) -> int:
    """Rows a scale's run stored, from its loads' materializations."""
    return sum(int(m.get("dagster/row_count", 0)) for m in scale["materializations"] if "duration_s" in m)


def _verdict(name: str, measured, met: bool | None, **detail) -> dict:
    what, limit = TARGETS[name]
    return {"target": name, "what": what, "limit": limit, "measured": measured,
            "met": met if measured is not None else None, **detail}


def verdicts(result: dict) -> list[dict]:
    full, double, raw = _scale(result, FULL), _scale(result, FULL2X), result.get("raw_tables") or {}
    out = []
    ratio = raw.get("job_ratio_to_raw")
    out.append(_verdict("whole_job_ratio", ratio, ratio is not None and ratio <= 3.0))
    wall = full and full["wall_s"]
    out.append(_verdict("whole_job_seconds", wall, bool(wall) and wall < 600))
    dbt = full and full["phases"].get("dbt", {}).get("seconds")
    out.append(_verdict("dbt_seconds", dbt, dbt is not None and dbt < 120))
    assets = raw.get("assets") or {}
    worst = min(assets.items(), key=lambda kv: kv[1]["raw_over_write"] or 0, default=(None, {}))
    below = sorted(a for a, v in assets.items() if (v["raw_over_write"] or 0) < 0.6)
    out.append(_verdict("asset_write_ratio", worst[1].get("raw_over_write"), not below and bool(assets),
                        worst=worst[0], below=below,
                        per_asset={a: v["raw_over_write"] for a, v in sorted(assets.items())}))
    peak = full and full["peak_tree_rss_mib"]
    out.append(_verdict("peak_rss_mib", peak, bool(peak) and peak < MIB_LIMIT))
    mem = result.get("memory_years_ratio")
    out.append(_verdict("memory_years_ratio", mem, mem is not None and mem <= 1.2))
    if full and double:
        per_full, per_double = full["wall_s"] / stored_rows(full), double["wall_s"] / stored_rows(double)
        diff = round(per_double / per_full - 1, 3)
        out.append(_verdict("scale_curve", diff, diff <= 0.15,
                            us_per_row={FULL: round(per_full * 1e6, 3), FULL2X: round(per_double * 1e6, 3)}))
    else:
        out.append(_verdict("scale_curve", None, None))
    return out


def report(items: list[dict]) -> None:
    for v in items:
        state = "not measured" if v["met"] is None else ("met" if v["met"] else "NOT MET")
        extra = f" (below: {', '.join(v['below'])})" if v.get("below") else ""
        print(f"  {v['target']:<20} {v['what']}: {v['measured']} against {v['limit']}: {state}{extra}")
