"""The health tables rendered from the plan's events, one year at a time.

The plan decides what happened (vaccinations, lice levels, treatments, outbreaks); this package only
describes it: lice by species and stage, dosages, monthly health checks, lab samples, journal.
Ids come from plan indices and randomness from per-year streams, so a year never depends on what
else ran. Rows are owned by the year of their date; treatments and outbreaks still running on the
first stored day are kept in the first stored year so their withholding and course stay visible.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from ..config.years import FIRST_YEAR
from ..sim.calendar import DOY, FIRST_STORED_DAY, epoch_days
from ..sim.reference import DISEASES, DURATION, WITHHOLDING
from ..sim.rng import stream
from ..warehouse.schema import Table
from ..warehouse.tables_health import (DISEASE_OUTBREAK, FISH_PARAMETER_SCORE, HEALTH_LAB_SAMPLE,
                                       HEALTH_SAMPLING_EVENT, INDIVIDUAL_FISH_OBSERVATION, JOURNAL_ENTRY,
                                       LICE_COUNT, TREATMENT, VACCINATION)
from .columns import in_year, nullable_date
from .health_checks import render_sampling
from .journal import TREAT_CODE, render_journal
from .lab import render_lab

DISEASE_ID = {d[1]: d[0] for d in DISEASES}


def render_vaccinations(plan, year: int) -> dict[str, np.ndarray]:
    """One row per tank of the batch vaccinated that day; id = the tank's assignment id."""
    v, a, d = plan.vaccination, plan.assignment, plan.daily
    sel = np.flatnonzero(in_year(v["day"], year))
    n = v["n"][sel].astype(np.int64)
    ass = np.repeat(v["first_assignment"][sel], n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    day = np.repeat(v["day"][sel], n)
    row = a["offset"][ass - 1] + day - a["start"][ass - 1]
    return {"year": np.full(len(ass), year, np.int16), "id": ass.astype(np.int32),
            "batch_id": a["batch"][ass - 1].astype(np.int32), "assignment_id": ass.astype(np.int32),
            "vaccination_date": epoch_days(day), "vaccination_type_id": np.repeat(v["vaccine"][sel], n).astype(np.int32),
            "avg_weight_g": d["weight"][row].astype(np.float32), "fish_count": d["pop"][row].astype(np.int32)}


def render_lice(plan, year: int) -> dict[str, np.ndarray]:
    """8 rows per count (2 species x 4 stages); the adult female L. salmonis count is the plan's."""
    li = plan.lice
    sel = np.flatnonzero(in_year(li["day"], year))
    rng = stream(int(plan.stats["seed"]), "lice-stages", year)
    day, level = li["day"][sel], li["level"][sel].astype(np.float64)
    s = 0.5 * (1 + np.cos(2 * np.pi * (DOY[day] - 215) / 365.25))  # young stages peak in summer
    caligus = rng.uniform(0.5, 1.5, len(sel))
    ratio = np.stack([0.6 + 2.4 * s, 0.4 + 1.1 * s, 0.55 + 0.25 * s, np.zeros_like(s),
                      (0.15 + 0.5 * s) * caligus, (0.1 + 0.3 * s) * caligus, (0.15 + 0.2 * s) * caligus,
                      (0.2 + 0.3 * s) * caligus], axis=1)
    count = rng.poisson(level[:, None] * ratio * 20)
    count[:, 3] = np.round(li["observed"][sel] * 20)
    n = len(sel)
    rep = lambda x: np.repeat(x, 8)  # noqa: E731
    return {"year": np.full(8 * n, year, np.int16),
            "id": (rep(sel.astype(np.int64)) * 8 + np.tile(np.arange(1, 9), n)).astype(np.int64),
            "batch_id": rep(li["batch"][sel]).astype(np.int32), "assignment_id": rep(li["assignment"][sel]).astype(np.int32),
            "count_date": rep(epoch_days(day)), "lice_type_id": np.tile(np.arange(1, 9, dtype=np.int32), n),
            "fish_sampled": np.full(8 * n, 20, np.int32), "count_value": count.reshape(-1).astype(np.int32)}


def _dosage(code: str, rng) -> str:
    u = lambda lo, hi: rng.uniform(lo, hi)  # noqa: E731
    return {"FRESHWATER_BATH": lambda: f"Freshwater bath {u(2, 4):.1f} h",
            "AGD_FRESHWATER": lambda: f"Freshwater bath {u(2, 4):.1f} h (AGD)",
            "THERMAL": lambda: f"{u(28, 34):.0f} °C for {u(20, 40):.0f} s",
            "MECHANICAL": lambda: f"Flushing at {u(0.8, 1.6):.1f} bar",
            "H2O2": lambda: f"H2O2 {50 * round(u(24, 36)):.0f} ppm for {u(15, 25):.0f} min",
            "AZAMETHIPHOS": lambda: f"Azamethiphos {5 * round(u(20, 30)):.0f} ppb for {u(30, 60):.0f} min",
            "DELTAMETHRIN": lambda: f"Deltamethrin {u(2, 5):.1f} ppb for {u(30, 40):.0f} min",
            "EMAMECTIN": lambda: "Emamectin benzoate 50 µg/kg biomass/day for 7 days",
            "ANTIBIOTIC": lambda: "Florfenicol 10 mg/kg biomass/day for 10 days"}[code]()


def render_treatments(plan, year: int) -> dict[str, np.ndarray]:
    t = plan.treatment
    typ = t["type"].astype(np.int64)
    w_end = t["day"] + DURATION[typ] + WITHHOLDING[typ]
    keep = in_year(t["day"], year)
    if year == FIRST_YEAR:
        keep |= (t["day"] < FIRST_STORED_DAY) & (w_end > FIRST_STORED_DAY)
    sel = np.flatnonzero(keep)
    rng = stream(int(plan.stats["seed"]), "treatment-dosage", year)
    before = t["lice_before"][sel]
    lice = np.empty(len(sel), dtype=object)
    lice[before >= 0] = before[before >= 0].astype(np.float32)
    return {"year": np.full(len(sel), year, np.int16), "id": (sel + 1).astype(np.int32),
            "batch_id": t["batch"][sel].astype(np.int32), "assignment_id": t["assignment"][sel].astype(np.int32),
            "treatment_date": epoch_days(t["day"][sel]), "treatment_type_id": typ[sel].astype(np.int32),
            "dosage": np.array([_dosage(TREAT_CODE[int(c)], rng) for c in typ[sel]], dtype=object),
            "duration_days": DURATION[typ[sel]].astype(np.int32), "withholding_days": WITHHOLDING[typ[sel]].astype(np.int32),
            "withholding_end_date": nullable_date(w_end[sel]), "outcome": t["outcome"][sel].astype(object),
            "lice_before": lice}


def render_outbreaks(plan, year: int) -> dict[str, np.ndarray]:
    """The course ends when the batch leaves the water at the latest; open on the last stored day -> NULL end."""
    ob, bt = plan.outbreak, plan.batch
    b_end = bt["end"][ob["batch"] - 1]
    end = np.where(b_end > 0, np.minimum(ob["end"], b_end), ob["end"])
    keep = in_year(ob["start"], year)
    if year == FIRST_YEAR:
        keep |= (ob["start"] < FIRST_STORED_DAY) & (end > FIRST_STORED_DAY)
    sel = np.flatnonzero(keep)
    area = np.empty(len(sel), dtype=object)
    sea = ob["area"][sel] > 0
    area[sea] = ob["area"][sel][sea].astype(np.int32)
    return {"year": np.full(len(sel), year, np.int16), "id": (sel + 1).astype(np.int32),
            "batch_id": ob["batch"][sel].astype(np.int32),
            "disease_id": np.array([DISEASE_ID[str(c)] for c in ob["disease"][sel]], np.int32),
            "area_id": area, "start_date": epoch_days(ob["start"][sel]), "end_date": nullable_date(end[sel])}


def render_health(plan, year: int) -> dict[Table, dict | Callable[[], dict]]:
    """Every health table of one year (the `health` asset's render). The fish scores, most of the
    rows, come first; the journal and lab work render while they are sent (defs/loading.frames)."""
    events, obs, scores, ev_info = render_sampling(plan, year)
    lab = cache(lambda: render_lab(plan, year))
    return {FISH_PARAMETER_SCORE: scores, INDIVIDUAL_FISH_OBSERVATION: obs, HEALTH_SAMPLING_EVENT: events,
            LICE_COUNT: lambda: render_lice(plan, year), HEALTH_LAB_SAMPLE: lambda: lab()[0],
            JOURNAL_ENTRY: lambda: render_journal(plan, year, events, ev_info, lab()[1]),
            VACCINATION: lambda: render_vaccinations(plan, year),
            TREATMENT: lambda: render_treatments(plan, year), DISEASE_OUTBREAK: lambda: render_outbreaks(plan, year)}


def rendered(tables: dict) -> dict:
    """The tables of a renderer whose values may be deferred, all rendered (for tests and export)."""
    return {t: cols() if callable(cols) else cols for t, cols in tables.items()}
