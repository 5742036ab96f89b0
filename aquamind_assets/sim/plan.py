"""The production plan: every batch from egg to harvest on a planned container schedule.

Computed once for all years (the warm-up years before the stored ones included), so a year's rows
are a pure rendering of this state and any year can be rebuilt alone. Assignment ids are the order
in which the plan creates them: deterministic, never a database sequence.
"""
from __future__ import annotations

import numpy as np

from ..config.scenario import Scenario
from . import biology as bio
from .calendar import DOY, N_DAYS, YEAR
from .faults import attach_faults
from .incidents import draw_incidents, pen_severity
from .infrastructure import GEOS
from .infrastructure_events import record_decade
from .outbreaks import draw_sea_outbreaks
from .plan_arrays import Plan, freeze
from .plan_context import PlanContext, plan_context
from .plan_state import Chunk
from .readings import ReadingLayout
from .rng import stream
from .schedule import cleaning_days, split_even, units_needed
from .sea import MAX_SEA_DAYS, run_sea
from .stocking import BatchTraits, first_units, fit_units, stock_stage

START_PEAK_DOY = {0: 335, 1: 305}  # egg intakes cluster in late autumn / winter
# smolts transferred to sea grew from the low to the high end of the scenario's range between these years
TRANSFER_WEIGHT_TREND_YEARS = (2014.0, 2022.0)
TRANSFER_AGE_DAYS = 420  # from egg to sea transfer, for the transfer-size trend
IPN_SHARE = 0.12  # batches with an IPN outbreak in the fry tanks
POST_SMOLT_MIN_G = 250.0  # docs/domain.md §3.5: post-smolts leave freshwater at 250-500 g


def batch_starts(scenario: Scenario) -> list[tuple[int, int]]:
    """(planned start day, geography) for every batch, with a seasonal pattern and stagger."""
    out = []
    for gi, g in enumerate(GEOS):
        rate = scenario.scale_spec.batches_per_year[g]
        intensity = 1 + 0.2 * np.cos(2 * np.pi * (DOY - START_PEAK_DOY[gi]) / 365.25)
        cum = np.cumsum(intensity) / intensity.mean()
        n = int(rate * N_DAYS / 365.25)
        rng = stream(scenario.seed, "batch-starts", gi)
        offset = rng.uniform(0, 365.25 / rate)
        targets = offset + np.arange(n) * 365.25 / rate
        days = np.searchsorted(cum, targets) + np.round(rng.normal(0, 3, n)).astype(int)
        out += [(int(d), gi) for d in days if 0 <= d < N_DAYS - 30]
    return sorted(out)


def transfer_target(scenario: Scenario, geo: int, day: int, rng) -> float:
    lo, hi = scenario.biology.smolt_transfer_g[GEOS[geo]]
    year = YEAR[min(day, N_DAYS - 1)]
    return float(np.interp(year, TRANSFER_WEIGHT_TREND_YEARS, [lo, hi]) * rng.lognormal(0, 0.08))


def draw_traits(scenario: Scenario, geo: int, start: int, rng) -> BatchTraits:
    b = scenario.biology
    tgc_sea = float(np.clip(rng.normal(*b.tgc_sea), 2.6, 3.4))
    target = transfer_target(scenario, geo, start + TRANSFER_AGE_DAYS, rng)
    outs = dict(b.stage_out_weight_g)
    outs["parr"] *= rng.uniform(0.75, 1.2)
    outs["smolt"] = min(outs["smolt"] * rng.uniform(0.85, 1.15), target)
    # a post-smolt stage only for fish grown on to post-smolt size; smaller targets go to sea as smolts
    last_fw = bio.POST_SMOLT if target >= POST_SMOLT_MIN_G else bio.SMOLT
    return BatchTraits(tgc_sea, target, outs, last_fw, rng.random() < IPN_SHARE)


def hatchery_start(ctx: PlanContext, geo: int, eggs: int, planned: int) -> int | None:
    """First day from `planned` with enough free incubation trays; None past the simulated days."""
    infra = ctx.infra
    tray = np.flatnonzero((infra.container_stage == 0) & (infra.container_geo == geo))[0]
    n_trays = units_needed(eggs, bio.EGG_WEIGHT_G[1], infra.container_max_count[tray],
                           infra.container_max_biomass[tray])
    start = ctx.book.first_day_with(geo, bio.EGG, n_trays, planned)
    return None if start is None or start >= N_DAYS - 2 else start


def raise_in_freshwater(ctx: PlanContext, bidx: int, bid: int, geo: int, eggs: int, start: int,
                        traits: BatchTraits, rng) -> tuple[Chunk | None, int, tuple[int, int] | None]:
    """Egg to the last freshwater stage, stage by stage on booked units.

    Returns (the last stage's chunk or None when the batch died out, its end day, (sea site, transfer
    day) or None when no site is free in reach)."""
    prev, site = None, None
    for stage in range(traits.last_freshwater + 1):
        st = stock_stage(ctx, bidx, geo, eggs, stage, start, prev, traits, rng)
        if st is None:
            return None, start, site
        units, temps, run, vacc = fit_units(ctx, st, first_units(st))
        if stage == traits.last_freshwater:  # wait for a free sea site if none is ready at the natural end
            sites, capacity = ctx.sites_of(geo)
            site = ctx.book.free_site(geo, sites, capacity, int(run.exit_pop.sum()), run.end)
            if site and site[1] > run.end:
                units, temps, run, vacc = fit_units(ctx, st, units, min_end=site[1])
        ctx.book.book(units, run.end, cleaning_days(stage, ctx.scenario.biology.cleaning_days))
        cur = ctx.builder.add_stage(bid, stage, units, run, temps, prev, rng)
        if vacc is not None:
            ctx.builder.vaccinate(bid, start + vacc, float(run.weight[:, vacc].mean()), cur, rng)
        if traits.ipn and stage == bio.FRY:
            ctx.builder.outbreak(bid, "IPN", start + 10, start + 40, -1)
        prev, start = cur, run.end
        if start >= N_DAYS - 1:
            break
    return prev, start, site


def grow_at_sea(ctx: PlanContext, bidx: int, bid: int, geo: int, prev: Chunk, site: tuple[int, int],
                tgc_sea: float, rng) -> None:
    """Transfer to the site's pens, grow to harvest, record its outbreaks and fallow the site."""
    b, builder, climate = ctx.scenario.biology, ctx.builder, ctx.climate
    area, transfer_day = site
    pens = np.array(ctx.pens_by_site[area])
    transferred = builder.transfer_losses(prev, rng)
    n0 = split_even(int(transferred.sum()), len(pens))
    w0 = builder.moved_weights(prev, n0)
    outbreaks = draw_sea_outbreaks(stream(ctx.seed, "outbreaks", bidx), geo, transfer_day)
    harm = stream(ctx.seed, "incidents", bidx)
    for ob in outbreaks:
        ob.pens = pen_severity(harm, len(pens))
    incidents = draw_incidents(harm, geo, len(pens), transfer_day, min(MAX_SEA_DAYS, N_DAYS - transfer_day),
                               climate.events, area - 1)
    target = float(rng.normal(*b.harvest_live_kg[GEOS[geo]]) * 1000)
    run = run_sea(stream(ctx.seed, "sea", bidx), geo, transfer_day, n0, w0, tgc_sea, target,
                  climate.sea_temp[area - 1], climate.env_mortality[area - 1], climate.feed_factor[area - 1],
                  b.sea_monthly_mortality_pct[GEOS[geo]], outbreaks, b.lice_threshold, incidents)
    builder.add_sea(bid, pens, run, climate.sea_temp[area - 1], prev, tgc_sea, rng)
    harvested = bool((run.ends > 0).all())
    for ob in outbreaks:
        if ob.start < N_DAYS and ob.start < (run.ends.max() if harvested else N_DAYS):
            builder.outbreak(bid, ob.disease, ob.start, min(ob.end, N_DAYS), area)
    ctx.book.site_free[area] = int(run.ends.max()) + b.fallow_days[GEOS[geo]] if harvested else N_DAYS + 10**6


def plan_batch(ctx: PlanContext, bidx: int, planned: int, geo: int) -> None:
    """One batch from its egg intake to harvest (or to the end of the simulated days)."""
    rng = stream(ctx.seed, "batch", bidx)
    eggs = int(rng.uniform(*ctx.scenario.biology.eggs_per_batch) * ctx.scenario.scale_spec.fish_scale)
    start = hatchery_start(ctx, geo, eggs, planned)
    if start is None:
        return
    bid = ctx.builder.new_batch(geo, start, eggs, rng)
    traits = draw_traits(ctx.scenario, geo, start, rng)
    prev, end, site = raise_in_freshwater(ctx, bidx, bid, geo, eggs, start, traits, rng)
    ongoing = prev is not None and end < N_DAYS - 1
    if ongoing and site is None:
        ctx.builder.transfer_losses(prev, rng, keep_fraction=0.0)  # no sea site in reach: culled, counted
        ctx.builder.stats["batches_culled_no_site"] += 1
    elif ongoing:
        grow_at_sea(ctx, bidx, bid, geo, prev, site, traits.tgc_sea, rng)
    ctx.builder.close_batch(bid)


def build_plan(scenario: Scenario) -> Plan:
    ctx = plan_context(scenario)
    for bidx, (planned, geo) in enumerate(batch_starts(scenario)):
        plan_batch(ctx, bidx, planned, geo)
    record_decade(ctx.infra, ctx.book.site_free, scenario.seed)
    plan = freeze(ctx.builder)
    spec = scenario.scale_spec
    attach_faults(plan, ReadingLayout(plan, spec.cadence_multiplier, spec.readings_cadence))
    return plan
