"""One freshwater stage of a batch placed on units: how many it needs, the take-over from the
previous stage (culling what the free units cannot hold), the refit when units overload, and the
vaccination in the smolt tanks that dips growth for a week."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import biology as bio
from .freshwater import MAX_STAGE_DAYS, run_stage
from .plan_context import PlanContext
from .plan_state import Chunk
from .rng import stream
from .schedule import split_even, units_needed

VACCINATION_WEIGHT_G = 28.0  # every unit past it, so all rows clear the 25 g rule (units grow apart)
SETTLE_DAYS = 7  # smolts are vaccinated once settled in their tanks, not on the day they move in
MAX_REFITS = 4


@dataclass
class BatchTraits:
    """What a batch draws once at its start: its sea growth, transfer size and stage exit weights."""

    tgc_sea: float
    transfer_weight: float  # g at sea transfer
    out_weight: dict[str, float]  # g at the end of fry, parr and smolt
    last_freshwater: int  # SMOLT, or POST_SMOLT when the transfer size asks for it
    ipn: bool  # an IPN outbreak in the fry tanks

    def end_weight(self, stage: int) -> float | None:
        return {bio.FRY: self.out_weight["fry"], bio.PARR: self.out_weight["parr"],
                bio.SMOLT: self.out_weight["smolt"], bio.POST_SMOLT: self.transfer_weight}.get(stage)


@dataclass
class StageStocking:
    """A freshwater stage being placed: the fish taken over and the units free for them."""

    bidx: int
    stage: int
    start: int
    total: int  # fish stocked; a cull of the surplus at the transfer in lowers it
    weight: float  # mean g at stocking
    tgc: float
    end_weight: float | None
    extra_rate: np.ndarray | None  # extra daily mortality (IPN in fry)
    free: np.ndarray  # units free from `start`, best first
    need: int  # units at the nominal density
    prev: Chunk | None


def stock_stage(ctx: PlanContext, bidx: int, geo: int, eggs: int, stage: int, start: int,
                prev: Chunk | None, traits: BatchTraits, rng) -> StageStocking | None:
    """Take the batch over into a stage; None when it finds no free unit or no fish is left."""
    infra, builder, b = ctx.infra, ctx.builder, ctx.scenario.biology
    end_w = traits.end_weight(stage)
    peak_w = (end_w or bio.EGG_WEIGHT_G[1]) * (1.6 if stage == traits.last_freshwater else 1.1)
    proto = np.flatnonzero((infra.container_stage == stage) & (infra.container_geo == geo))[0]
    max_count, max_biomass = infra.container_max_count[proto], infra.container_max_biomass[proto]
    estimate = eggs if prev is None else int(builder.exit_pop[int(prev.ids[0])].sum())
    need = units_needed(estimate, peak_w, max_count, max_biomass)
    need_min = units_needed(estimate, peak_w / 1.1, max_count, max_biomass)
    free = ctx.book.free_units(geo, stage, start)
    keep = min(1.0, len(free) / need_min)  # no room: cull the surplus rather than overstock
    if prev is None:
        total, weight = eggs, bio.EGG_WEIGHT_G[0]
    else:
        total = int(builder.transfer_losses(prev, rng, keep).sum())
        weight = builder.pooled_weight(prev)
        builder.stats["culled_fish"] += estimate * (1 - keep)
        builder.stats[f"culled_stage{stage}"] += estimate * (1 - keep)
    if len(free) == 0 or total == 0:
        return None
    return StageStocking(bidx, stage, start, total, weight, b.tgc_freshwater.get(bio.STAGES[stage], 0.0), end_w,
                         _ipn_rate() if stage == bio.FRY and traits.ipn else None, free, need, prev)


def _ipn_rate() -> np.ndarray:
    extra = np.zeros(MAX_STAGE_DAYS + 130)
    extra[10:40] = 0.004
    return extra


def first_units(st: StageStocking) -> np.ndarray:
    """The units to try first: the nominal need with 10 % headroom, as far as free units go."""
    return st.free[: min(len(st.free), int(np.ceil(st.need * 1.1)))]


def _run(ctx: PlanContext, st: StageStocking, n0, temps, min_end, **kw):
    key = stream(ctx.seed, "stage", st.bidx, st.stage)
    w0 = st.weight if st.prev is None else ctx.builder.moved_weights(st.prev, n0)
    return run_stage(key, st.stage, st.start, n0, w0, temps, st.tgc, st.end_weight,
                     ctx.stage_rates[st.stage], min_end=min_end, **kw)


def simulate_stage(ctx: PlanContext, st: StageStocking, units: np.ndarray, min_end=None):
    """The stage on these units; smolts get a vaccination dip once settled and every unit is past
    the weight (a second pass on the same random stream). Returns (temps, run, vaccination day or None)."""
    n0 = split_even(st.total, len(units))
    temps = ctx.unit_temperatures(units, st.start, MAX_STAGE_DAYS + 130)
    run = _run(ctx, st, n0, temps, min_end, extra_rate=st.extra_rate)
    crossed = np.flatnonzero(run.weight.min(axis=0) >= VACCINATION_WEIGHT_G) if st.stage == bio.SMOLT else []
    crossed = [c for c in crossed if c >= SETTLE_DAYS]
    if not len(crossed):
        return temps, run, None
    vacc = int(crossed[0])
    factor = np.ones(temps.shape[1])
    factor[vacc:vacc + 7] = 0.6
    dip = np.zeros(temps.shape[1])
    dip[vacc] = 0.003
    return temps, _run(ctx, st, n0, temps, min_end, extra_rate=dip, factor=factor), vacc


def _load(ctx: PlanContext, run, units: np.ndarray) -> float:
    """Peak share of the units' biomass or count limit (above 1: overloaded)."""
    max_count, max_biomass = ctx.infra.container_max_count, ctx.infra.container_max_biomass
    return max(float((run.pop * run.weight / 1000.0).max(axis=1).max() / max_biomass[units].min()),
               float(run.pop.max() / max_count[units].min()))


def fit_units(ctx: PlanContext, st: StageStocking, units: np.ndarray, min_end=None):
    """Add units (free from `start`, hence free until the end) until no unit is overloaded; with no
    more room, cull the surplus at the transfer in, counted. Returns (units, temps, run, vacc)."""
    for attempt in range(MAX_REFITS + 1):  # the last pass simulates what the last refit or cull left
        temps, run, vacc = simulate_stage(ctx, st, units, min_end)
        load = _load(ctx, run, units)
        if load <= 1.0:
            break
        if attempt == MAX_REFITS:
            ctx.builder.stats["overloaded_stages"] += 1
            break
        more = int(np.ceil(len(units) * load * 1.03))
        if more > len(st.free):
            surplus = st.total - int(st.total / load * 0.97)
            if st.prev is None or surplus <= 0:
                ctx.builder.stats["overloaded_stages"] += 1
                break
            ctx.builder.cull(st.prev, surplus)
            ctx.builder.stats["culled_fish"] += surplus
            st.total -= surplus
            more = len(units)
        units = st.free[:more]
    return units, temps, run, vacc
