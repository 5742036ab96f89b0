"""The production plan: every batch from egg to harvest on a planned container schedule.

Computed once for all years (including the warm-up years before 2015), so a year's rows are a
pure rendering of this state and any year can be rebuilt alone. Assignment ids are the order in
which the plan creates them: deterministic, never a database sequence.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..scenario import Scenario
from . import biology as bio
from .calendar import DOY, N_DAYS, YEAR
from .climate import build_climate
from .freshwater import MAX_STAGE_DAYS, run_stage
from .infrastructure import GEOS, build_infrastructure
from .outbreaks import draw_sea_outbreaks
from .plan_state import PlanBuilder
from .reference import EGG_SUPPLIERS, STRAINS
from .rng import stream
from .schedule import ContainerBook, cleaning_days, split_even, stage_mortality_rate, units_needed
from .sea import run_sea

DEBUG = False
START_PEAK_DOY = {0: 335, 1: 305}  # egg intakes cluster in late autumn / winter


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
    return float(np.interp(year, [2014, 2022], [lo, hi]) * rng.lognormal(0, 0.08))


def build_plan(scenario: Scenario):
    b = scenario.biology
    infra = build_infrastructure(scenario)
    climate = build_climate(scenario.seed, infra.area_geo, infra.area_lat, infra.station_geo)
    book = ContainerBook(infra.container_stage, infra.container_station, infra.container_geo,
                         infra.container_area)
    builder = PlanBuilder(scenario, infra, climate)
    hall_ras = infra.tables["hall"]["is_ras"].astype(bool)
    unit_ras = np.where(infra.container_hall > 0, hall_ras[np.maximum(infra.container_hall, 1) - 1], False)
    rates = {s: stage_mortality_rate(b.stage_survival[bio.STAGES[s]], bio.NOMINAL_DAYS[s]) for s in range(5)}
    pens_by_site = defaultdict(list)
    for c in np.flatnonzero(infra.container_stage == 5):
        pens_by_site[int(infra.container_area[c])].append(c)

    def unit_temps(units: np.ndarray, start: int, days: int) -> np.ndarray:
        st = infra.container_station[units]
        stop = min(start + days, N_DAYS)
        fresh = climate.fresh_temp[st, start:stop]
        stage = infra.container_stage[units][:, None]
        fresh = np.where(stage <= bio.PARR, np.clip(fresh, 8.0, 12.0), fresh)  # heated in winter
        fresh = np.where(stage == bio.EGG, climate.ras_temp[st, start:stop] - 4.0, fresh)  # incubators ~8 C
        return np.where(unit_ras[units][:, None], climate.ras_temp[st, start:stop], fresh)

    for bidx, (planned, geo) in enumerate(batch_starts(scenario)):
        rng = stream(scenario.seed, "batch", bidx)
        eggs = int(rng.uniform(*b.eggs_per_batch) * scenario.scale_spec.fish_scale)
        spec = [infra.container_max_count, infra.container_max_biomass]
        tray = np.flatnonzero((infra.container_stage == 0) & (infra.container_geo == geo))[0]
        n_trays = units_needed(eggs, bio.EGG_WEIGHT_G[1], spec[0][tray], spec[1][tray])
        start = book.first_day_with(geo, bio.EGG, n_trays, planned)
        if start is None or start >= N_DAYS - 2:
            continue
        bid = builder.new_batch(geo, start, eggs, rng)
        tgc_sea = float(np.clip(rng.normal(*b.tgc_sea), 2.6, 3.4))
        target_tr = transfer_target(scenario, geo, start + 420, rng)
        outs = dict(b.stage_out_weight_g)
        outs["parr"] *= rng.uniform(0.75, 1.2)
        outs["smolt"] = min(outs["smolt"] * rng.uniform(0.85, 1.15), target_tr)
        last_fw = bio.SMOLT if target_tr <= outs["smolt"] * 1.05 else bio.POST_SMOLT
        w, prev = bio.EGG_WEIGHT_G[0], None
        ipn = rng.random() < 0.12
        site = None
        for stage in range(last_fw + 1):
            end_w = {bio.FRY: outs["fry"], bio.PARR: outs["parr"], bio.SMOLT: outs["smolt"],
                     bio.POST_SMOLT: target_tr}.get(stage)
            peak_w = (end_w or bio.EGG_WEIGHT_G[1]) * (1.6 if stage == last_fw else 1.1)
            proto = np.flatnonzero((infra.container_stage == stage) & (infra.container_geo == geo))[0]
            estimate = eggs if prev is None else int(builder.exit_pop[int(prev.ids[0])].sum())
            need = units_needed(estimate, peak_w, spec[0][proto], spec[1][proto])
            need_min = units_needed(estimate, peak_w / 1.1, spec[0][proto], spec[1][proto])
            free = book.free_units(geo, stage, start)
            keep = min(1.0, len(free) / need_min)  # no room: cull the surplus rather than overstock
            if keep < 1 and DEBUG: print("CULL", geo, stage, start, len(free), need_min, estimate, int((book.stage == stage).sum()))
            if prev is None:
                total = eggs
            else:
                total = int(builder.transfer_losses(prev, rng, keep).sum())
                w = builder.pooled_weight(prev)
                builder.stats["culled_fish"] += estimate * (1 - keep)
                builder.stats[f"culled_stage{stage}"] += estimate * (1 - keep)
            if len(free) == 0 or total == 0:
                prev = None
                break
            extra = None
            if stage == bio.FRY and ipn:
                extra = np.zeros(MAX_STAGE_DAYS + 130)
                extra[10:40] = 0.004
            tgc = b.tgc_freshwater.get(bio.STAGES[stage], 0.0)

            def simulate(units, min_end=None):
                """The stage on these units; parr get a vaccination dip at 30 g (second pass)."""
                n0 = split_even(total, len(units))
                temps = unit_temps(units, start, MAX_STAGE_DAYS + 130)
                key = stream(scenario.seed, "stage", bidx, stage)
                run = run_stage(key, stage, start, n0, w, temps, tgc, end_w, rates[stage], extra_rate=extra,
                                min_end=min_end)
                vacc = None
                # every unit at >= 28 g (units in different halls grow apart): all rows clear the 25 g rule
                crossed = np.flatnonzero(run.weight.min(axis=0) >= 28.0) if stage == bio.PARR else []
                if len(crossed):
                    vacc = int(crossed[0])
                    factor = np.ones(temps.shape[1])
                    factor[vacc:vacc + 7] = 0.6
                    dip = np.zeros(temps.shape[1])
                    dip[vacc] = 0.003
                    run = run_stage(stream(scenario.seed, "stage", bidx, stage), stage, start, n0, w, temps, tgc,
                                    end_w, rates[stage], extra_rate=dip, factor=factor, min_end=min_end)
                return temps, run, vacc

            def fitted(units, min_end=None):
                """Add units (free from `start`, hence free until the end) until no unit is overloaded."""
                nonlocal total
                for _ in range(4):
                    temps, run, vacc = simulate(units, min_end)
                    load = max(float((run.pop * run.weight / 1000.0).max(axis=1).max() / spec[1][units].min()),
                               float(run.pop.max() / spec[0][units].min()))
                    if load <= 1.0:
                        break
                    more = int(np.ceil(len(units) * load * 1.03))
                    if more > len(free):  # no more room: cull the surplus at the transfer in, counted
                        surplus = total - int(total / load * 0.97)
                        if prev is None or surplus <= 0:
                            builder.stats["overloaded_stages"] += 1
                            break
                        builder.cull(prev, surplus)
                        builder.stats["culled_fish"] += surplus
                        total -= surplus
                        more = len(units)
                    units = free[:more]
                return units, temps, run, vacc

            units, temps, run, vacc = fitted(free[: min(len(free), int(np.ceil(need * 1.1)))])
            if stage == last_fw:  # wait for a free sea site if none is ready at the natural end
                pens_cap = {s: len(p) * int(infra.container_max_count[p[0]]) for s, p in pens_by_site.items()}
                sites = np.array([s for s in pens_by_site if infra.area_geo[s - 1] == geo])
                found = book.free_site(geo, sites, np.array([pens_cap[s] for s in sites]),
                                       int(run.exit_pop.sum()), run.end)
                if found and found[1] > run.end:
                    units, temps, run, vacc = fitted(units, min_end=found[1])
                site = found
            book.book(units, run.end, cleaning_days(stage, b.cleaning_days))
            cur = builder.add_stage(bid, stage, units, run, temps, prev, rng)
            if vacc is not None:
                builder.vaccinate(bid, start + vacc, float(run.weight[:, vacc].mean()), cur, rng)
            if ipn and stage == bio.FRY:
                builder.outbreak(bid, "IPN", start + 10, start + 40, -1)
            prev, start = cur, run.end
            if start >= N_DAYS - 1:
                break
        if prev is not None and start < N_DAYS - 1 and site is None:
            builder.transfer_losses(prev, rng, keep_fraction=0.0)  # no sea site in reach: culled, counted
            builder.stats["batches_culled_no_site"] += 1
        if prev is None or start >= N_DAYS - 1 or site is None:
            builder.close_batch(bid)
            continue
        area, tr_day = site
        pens = np.array(pens_by_site[area])
        transferred = builder.transfer_losses(prev, rng)
        n0 = split_even(int(transferred.sum()), len(pens))
        w0 = builder.pooled_weight(prev)
        orng = stream(scenario.seed, "outbreaks", bidx)
        obs = draw_sea_outbreaks(orng, geo, tr_day)
        target = float(rng.normal(*b.harvest_live_kg[GEOS[geo]]) * 1000)
        run = run_sea(stream(scenario.seed, "sea", bidx), geo, tr_day, n0, w0, tgc_sea, target,
                      climate.sea_temp[area - 1], climate.env_mortality[area - 1], climate.feed_factor[area - 1],
                      b.sea_monthly_mortality_pct[GEOS[geo]], obs)
        builder.add_sea(bid, pens, run, climate.sea_temp[area - 1], prev, tgc_sea, rng)
        for ob in obs:
            if ob.start < N_DAYS and ob.start < (run.ends.max() if (run.ends > 0).all() else N_DAYS):
                builder.outbreak(bid, ob.disease, ob.start, min(ob.end, N_DAYS), area)
        if (run.ends > 0).all():
            book.site_free[area] = int(run.ends.max()) + b.fallow_days[GEOS[geo]]
        else:
            book.site_free[area] = N_DAYS + 10**6
        builder.close_batch(bid)
    return builder.finish()
