"""Which rules belong to which asset: loads run theirs per year, `aquamind validate` runs them all."""
from __future__ import annotations

from . import batches, environment, feeding, growth, harvest, health, infrastructure, mortality

BY_ASSET = {"batches": batches, "mortality_events": mortality, "harvest": harvest,
            "environmental_readings": environment, "health": health, "growth_samples": growth,
            "feeding": feeding}


def register(asset: str, module) -> None:
    BY_ASSET[asset] = module


def all_rules(loads: list[dict]):
    """(asset, year, rules) for every stored load, then the static and cross-year rules (year 0)."""
    for rec in loads:
        mod = BY_ASSET.get(rec["asset"])
        if mod is not None and rec["year"]:
            yield rec["asset"], rec["year"], [*mod.RULES, *getattr(mod, "AUDIT", [])]
    if any(rec["asset"] == "static" for rec in loads):
        yield "infrastructure", 0, infrastructure.RULES
    for asset, mod in BY_ASSET.items():
        if any(rec["asset"] == asset for rec in loads):
            yield asset, 0, getattr(mod, "CROSS_YEAR", [])
