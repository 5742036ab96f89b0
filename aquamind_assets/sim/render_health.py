"""The health tables rendered from the plan's events (REFERENCE 8), one year at a time.

The plan decides what happened (vaccinations, lice levels, treatments, outbreaks); this module only
describes it: lice by species and stage, dosages, monthly health checks, lab samples, journal.
Ids come from plan indices and randomness from per-year streams, so a year never depends on what
else ran. Rows are owned by the year of their date; treatments and outbreaks still running on
2015-01-01 are kept in 2015 so their withholding and course stay visible.
"""
from __future__ import annotations

import numpy as np

from . import biology as bio
from .calendar import DOY, FIRST_STORED_DAY, MONTH, N_DAYS, year_days
from .reference import DISEASES, DURATION, SAMPLE_TYPES, TREATMENTS, VACCINES, WITHHOLDING
from .render_batches import _date, _nullable_date
from .render_growth import outbreak_at, mix, render_sampling, schedule
from .rng import stream

TREAT_CODE = {t[0]: t[1] for t in TREATMENTS}
DISEASE_NAME = {d[1]: d[2] for d in DISEASES}
DISEASE_ID = {d[1]: d[0] for d in DISEASES}
SAMPLE_ID = {s: i + 1 for i, s in enumerate(SAMPLE_TYPES)}
WORKUP = {"AGD": ("gill", "histology"), "PD": ("PCR", "histology"), "HSMI": ("PCR", "histology"),
          "CMS": ("PCR", "histology"), "WINTER_ULCER": ("tissue", "kidney"), "ISA": ("PCR", "histology"),
          "IPN": ("PCR", "histology")}
AGENT = {"PD": "salmonid alphavirus (SAV3)", "HSMI": "piscine orthoreovirus (PRV-1)",
         "CMS": "piscine myocarditis virus (PMCV)", "ISA": "ISA virus (HPR-deleted)", "IPN": "IPN virus"}
RESPONSE = {"AGD": "Freshwater bathing of all pens ordered", "PD": "Feeding reduced; handling and grading postponed",
            "HSMI": "Handling postponed and feed adjusted to reduce stress",
            "CMS": "Handling minimised; harvest planning brought forward",
            "WINTER_ULCER": "Handling minimised and mortalities removed daily",
            "ISA": "Site under restriction: early harvest and fallowing ordered",
            "IPN": "Tank hygiene reinforced, mortalities removed twice daily"}
RESULT_DAYS = {"blood": (1, 3), "gill": (1, 3), "tissue": (3, 7), "kidney": (3, 7), "fecal": (2, 5),
               "water": (1, 2), "PCR": (2, 5), "histology": (7, 14)}


def _in_year(day, year: int) -> np.ndarray:
    first, stop = year_days(year)
    return (np.asarray(day) >= first) & (np.asarray(day) < stop)


def _threshold(day) -> np.ndarray:
    """Scotland's code of practice: 0.5 adult females per fish Feb-June, 1.0 July-Jan."""
    m = MONTH[np.asarray(day)]
    return np.where((m >= 2) & (m <= 6), 0.5, 1.0)


def _active(plan, batch: int, day: int) -> int:
    """Lowest assignment id of a batch holding fish on `day` (0 when none)."""
    a = plan.assignment
    end = np.where(a["end"] < 0, N_DAYS, a["end"])
    ids = np.flatnonzero((a["batch"] == batch) & (a["start"] <= day) & (end > day))
    return int(ids[0]) + 1 if len(ids) else 0


def render_vaccinations(plan, year: int) -> dict[str, np.ndarray]:
    """One row per tank of the batch vaccinated that day; id = the tank's assignment id."""
    v, a, d = plan.vaccination, plan.assignment, plan.daily
    sel = np.flatnonzero(_in_year(v["day"], year))
    n = v["n"][sel].astype(np.int64)
    ass = np.repeat(v["first_assignment"][sel], n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    day = np.repeat(v["day"][sel], n)
    row = a["offset"][ass - 1] + day - a["start"][ass - 1]
    return {"year": np.full(len(ass), year, np.int16), "id": ass.astype(np.int32),
            "batch_id": a["batch"][ass - 1].astype(np.int32), "assignment_id": ass.astype(np.int32),
            "vaccination_date": _date(day), "vaccination_type_id": np.repeat(v["vaccine"][sel], n).astype(np.int32),
            "avg_weight_g": d["weight"][row].astype(np.float32), "fish_count": d["pop"][row].astype(np.int32)}


def render_lice(plan, year: int) -> dict[str, np.ndarray]:
    """8 rows per count (2 species x 4 stages); the adult female L. salmonis count is the plan's."""
    li = plan.lice
    sel = np.flatnonzero(_in_year(li["day"], year))
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
            "count_date": rep(_date(day)), "lice_type_id": np.tile(np.arange(1, 9, dtype=np.int32), n),
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
    keep = _in_year(t["day"], year)
    if year == 2015:
        keep |= (t["day"] < FIRST_STORED_DAY) & (w_end > FIRST_STORED_DAY)
    sel = np.flatnonzero(keep)
    rng = stream(int(plan.stats["seed"]), "treatment-dosage", year)
    before = t["lice_before"][sel]
    lice = np.empty(len(sel), dtype=object)
    lice[before >= 0] = before[before >= 0].astype(np.float32)
    return {"year": np.full(len(sel), year, np.int16), "id": (sel + 1).astype(np.int32),
            "batch_id": t["batch"][sel].astype(np.int32), "assignment_id": t["assignment"][sel].astype(np.int32),
            "treatment_date": _date(t["day"][sel]), "treatment_type_id": typ[sel].astype(np.int32),
            "dosage": np.array([_dosage(TREAT_CODE[int(c)], rng) for c in typ[sel]], dtype=object),
            "duration_days": DURATION[typ[sel]].astype(np.int32), "withholding_days": WITHHOLDING[typ[sel]].astype(np.int32),
            "withholding_end_date": _nullable_date(w_end[sel]), "outcome": t["outcome"][sel].astype(object),
            "lice_before": lice}


def render_outbreaks(plan, year: int) -> dict[str, np.ndarray]:
    """The course ends when the batch leaves the water at the latest; open on 2024-12-31 -> NULL end."""
    ob, bt = plan.outbreak, plan.batch
    b_end = bt["end"][ob["batch"] - 1]
    end = np.where(b_end > 0, np.minimum(ob["end"], b_end), ob["end"])
    keep = _in_year(ob["start"], year)
    if year == 2015:
        keep |= (ob["start"] < FIRST_STORED_DAY) & (end > FIRST_STORED_DAY)
    sel = np.flatnonzero(keep)
    area = np.empty(len(sel), dtype=object)
    sea = ob["area"][sel] > 0
    area[sea] = ob["area"][sel][sea].astype(np.int32)
    return {"year": np.full(len(sel), year, np.int16), "id": (sel + 1).astype(np.int32),
            "batch_id": ob["batch"][sel].astype(np.int32),
            "disease_id": np.array([DISEASE_ID[str(c)] for c in ob["disease"][sel]], np.int32),
            "area_id": area, "start_date": _date(ob["start"][sel]), "end_date": _nullable_date(end[sel])}


def _lab_value(kind: str, code: str, rng, temp: float) -> tuple[str, float]:
    """(finding, value) of one lab sample; `code` is the disease behind it ('' for routine)."""
    if kind == "PCR":
        ct = rng.uniform(18, 30)
        return f"PCR positive for {AGENT[code]} (Ct {ct:.1f})", ct
    if kind == "histology":
        score = float(rng.integers(1, 4))
        return f"Histology consistent with {DISEASE_NAME[code].lower()}, lesion score {score:.0f}", score
    if kind == "gill":
        score = float(rng.integers(2, 5)) if code else float(rng.integers(0, 2))
        return (f"Paramoeba perurans confirmed, gross gill score {score:.0f}" if code
                else f"Gills normal, gross gill score {score:.0f}"), score
    if kind in ("tissue", "kidney"):
        cfu = rng.uniform(3, 6)
        return f"Moritella viscosa isolated from {'skin ulcer' if kind == 'tissue' else 'kidney'} (log10 {cfu:.1f} CFU/g)", cfu
    if kind == "blood":
        hct = rng.normal(32, 3) if code else rng.normal(42, 3)
        return (f"Haematocrit low ({hct:.0f} %)" if hct < 35 else f"Haematocrit {hct:.0f} %, normal"), hct
    if kind == "water":
        return f"Water quality within limits at {temp:.1f} °C", temp
    eggs = float(rng.integers(5, 60)) if rng.random() < 0.15 else 0.0
    return (f"Eubothrium sp. eggs, {eggs:.0f} per g" if eggs else "No parasites detected"), eggs


def render_lab(plan, year: int):
    """Outbreak work-ups (PCR, histology, gill, culture) and routine blood/fecal/water checks.

    Also returns {outbreak index: (assignment, sample day, first result day)} for the journal.
    """
    a, d, ob = plan.assignment, plan.daily, plan.outbreak
    rng = stream(int(plan.stats["seed"]), "lab-samples", year)
    rows = []
    for i in range(len(ob["batch"])):
        day = int(ob["start"][i] + 2 + int(mix(23, i) * 4))
        ass = _active(plan, int(ob["batch"][i]), day) if day < N_DAYS else 0
        if ass and _in_year(day, year):
            rows += [(ass, day, kind, str(ob["disease"][i]), i) for kind in WORKUP[str(ob["disease"][i])]]
    ai, day, row = schedule(plan, year, (bio.SMOLT, bio.POST_SMOLT, bio.ADULT), 91, salt=17, jitter=5, lead=20)
    kind = np.where(a["stage"][ai] == bio.ADULT, np.where(mix(29, row) < 0.3, "fecal", "blood"), "water")
    sick = outbreak_at(plan, a["batch"][ai], day)
    rows += [(int(x) + 1, int(y), str(k), str(c), -1) for x, y, k, c in zip(ai, day, kind, sick)]
    out, work = {}, {}
    for ass, dy, kind, code, i in rows:
        r = int(a["offset"][ass - 1] + dy - a["start"][ass - 1])
        finding, value = _lab_value(kind, code, rng, float(d["temp"][r]))
        res = dy + int(rng.integers(RESULT_DAYS[kind][0], RESULT_DAYS[kind][1] + 1))
        if res >= N_DAYS:
            res, finding, value = -1, "Results pending", None
        out.setdefault(r * 8 + SAMPLE_ID[kind], (ass, SAMPLE_ID[kind], dy, res, finding, value))
        if i >= 0 and res >= 0:
            work[i] = (ass, dy, min(res, work.get(i, (0, 0, N_DAYS))[2]))
    ids = np.array(sorted(out), np.int64)
    col = lambda j, dt: np.array([out[k][j] for k in ids], dtype=dt)  # noqa: E731
    value = col(5, object)
    value[value != None] = value[value != None].astype(np.float32)  # noqa: E711
    lab = {"year": np.full(len(ids), year, np.int16), "id": ids.astype(np.int32), "assignment_id": col(0, np.int32),
           "sample_type_id": col(1, np.int32), "sample_date": _date(col(2, np.int64)),
           "results_date": _nullable_date(col(3, np.int64)), "finding": col(4, object), "value": value}
    return lab, work


def render_journal(plan, year: int, events: dict, ev_info, work: dict) -> dict[str, np.ndarray]:
    """A modest veterinary journal: monthly observations per batch, lice and disease issues, lab
    work-ups and diagnoses, responses, treatments and vaccinations. id = source index * 8 + kind."""
    a, li, t, v, ob = plan.assignment, plan.lice, plan.treatment, plan.vaccination, plan.outbreak
    rows = []  # (id, batch, assignment, day, category, severity, description)
    ai, day, score, disease = ev_info
    batch = a["batch"][ai]
    key = batch.astype(np.int64) * 12 + MONTH[day] - 1
    order = np.lexsort((day, key))
    uniq, first, count = np.unique(key[order], return_index=True, return_counts=True)
    for j, n in zip(order[first], count):
        grp = key == key[j]
        s = float(score[grp].mean())
        sev = "low" if s < 0.6 else "medium" if s < 0.9 else "high"
        sign = f"; signs of {DISEASE_NAME[disease[j]].lower()}" if disease[j] else ""
        rows.append((int(events["id"][j]) * 8 + 1, batch[j], ai[j] + 1, day[j], "observation", sev,
                     f"Monthly health check of {n} unit(s): mean {events['avg_weight_g'][grp].mean():.0f} g, "
                     f"K {events['avg_k_factor'][grp].mean():.2f}, mean score {s:.2f}{sign}"))
    high = np.flatnonzero(_in_year(li["day"], year) & (li["observed"] > _threshold(li["day"])))
    _, first = np.unique(li["batch"][high].astype(np.int64) * N_DAYS + li["day"][high], return_index=True)
    for i in high[first]:
        grp = high[(li["batch"][high] == li["batch"][i]) & (li["day"][high] == li["day"][i])]
        worst, lim = float(li["observed"][grp].max()), float(_threshold(li["day"][i]))
        rows.append((int(i) * 8 + 3, li["batch"][i], li["assignment"][i], li["day"][i], "issue",
                     "high" if worst > 2 * lim else "medium",
                     f"Sea lice above the limit of {lim:.1f} adult females per fish in {len(grp)} pen(s), "
                     f"up to {worst:.2f}"))
    sel = np.flatnonzero(_in_year(t["day"], year))
    _, first = np.unique((t["batch"][sel].astype(np.int64) * N_DAYS + t["day"][sel]) * 16 + t["type"][sel],
                         return_index=True)
    for i in sel[first]:
        n = int(((t["batch"][sel] == t["batch"][i]) & (t["day"][sel] == t["day"][i]) & (t["type"][sel] == t["type"][i])).sum())
        code = TREAT_CODE[int(t["type"][i])]
        rows.append((int(i) * 8 + 5, t["batch"][i], t["assignment"][i], t["day"][i], "treatment",
                     "medium" if WITHHOLDING[int(t["type"][i])] > 0 else "low",
                     f"{TREATMENTS[int(t['type'][i]) - 1][2]} of {n} unit(s)"))
    for i in np.flatnonzero(_in_year(v["day"], year)):
        vac = VACCINES[int(v["vaccine"][i]) - 1]
        rows.append((int(i) * 8 + 7, v["batch"][i], v["first_assignment"][i], v["day"][i], "vaccination", "low",
                     f"{v['n'][i]} tank(s) vaccinated with {vac[1]} ({vac[2]}, {vac[3]}) at {v['weight'][i]:.0f} g"))
    for i in range(len(ob["batch"])):
        code, b, start = str(ob["disease"][i]), int(ob["batch"][i]), int(ob["start"][i])
        name, grave = DISEASE_NAME[code], code in ("ISA", "PD")
        for k, dy, cat, sev, text in (
                (2, start, "issue", "high" if grave else "medium", f"Raised mortality and poor appetite; {name} suspected"),
                (6, start + 7, "action", "high" if grave else "medium", RESPONSE[code])):
            ass = _active(plan, b, dy) if dy < N_DAYS else 0
            if ass and _in_year(dy, year):
                rows.append((i * 8 + k, b, ass, dy, cat, sev, text))
        if i in work:
            ass, dy, res = work[i]
            if _in_year(dy, year):
                rows.append((i * 8 + 8, b, ass, dy, "sample", "medium",
                             f"Samples sent for {' and '.join(WORKUP[code])}: {name} suspected"))
            ass = _active(plan, b, res)
            if ass and _in_year(res, year):
                rows.append((i * 8 + 4, b, ass, res, "diagnosis", "high" if grave else "medium",
                             f"{name} confirmed by the laboratory"))
    rows.sort(key=lambda r: r[0])
    col = lambda j, dt: np.array([r[j] for r in rows], dtype=dt)  # noqa: E731
    return {"year": np.full(len(rows), year, np.int16), "id": col(0, np.int32), "batch_id": col(1, np.int32),
            "assignment_id": col(2, np.int32), "entry_date": _date(col(3, np.int64)), "category": col(4, object),
            "severity": col(5, object), "description": col(6, object)}


def render_health(plan, year: int) -> dict[str, dict[str, np.ndarray]]:
    """Every health table of one year (the `health` asset's render)."""
    events, obs, scores, ev_info = render_sampling(plan, year)
    lab, work = render_lab(plan, year)
    return {"health.vaccination": render_vaccinations(plan, year), "health.lice_count": render_lice(plan, year),
            "health.treatment": render_treatments(plan, year), "health.disease_outbreak": render_outbreaks(plan, year),
            "health.journal_entry": render_journal(plan, year, events, ev_info, work),
            "health.health_sampling_event": events, "health.individual_fish_observation": obs,
            "health.fish_parameter_score": scores, "health.health_lab_sample": lab}
