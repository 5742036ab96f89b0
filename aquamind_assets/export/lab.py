"""Lab samples: outbreak work-ups (PCR, histology, gill, culture) and routine blood, fecal and water
checks, each with its finding and the day its result came back."""
from __future__ import annotations

import numpy as np

from ..sim import biology as bio
from ..sim.calendar import N_DAYS, epoch_days
from ..sim.reference import DISEASES, SAMPLE_TYPES
from ..sim.rng import stream
from .columns import in_year, nullable_date
from .sampling import active_assignment, mix, outbreak_at, schedule

DISEASE_NAME = {d[1]: d[2] for d in DISEASES}
SAMPLE_ID = {s: i + 1 for i, s in enumerate(SAMPLE_TYPES)}
WORKUP = {"AGD": ("gill", "histology"), "PD": ("PCR", "histology"), "HSMI": ("PCR", "histology"),
          "CMS": ("PCR", "histology"), "WINTER_ULCER": ("tissue", "kidney"), "ISA": ("PCR", "histology"),
          "IPN": ("PCR", "histology")}
AGENT = {"PD": "salmonid alphavirus (SAV3)", "HSMI": "piscine orthoreovirus (PRV-1)",
         "CMS": "piscine myocarditis virus (PMCV)", "ISA": "ISA virus (HPR-deleted)", "IPN": "IPN virus"}
RESULT_DAYS = {"blood": (1, 3), "gill": (1, 3), "tissue": (3, 7), "kidney": (3, 7), "fecal": (2, 5),
               "water": (1, 2), "PCR": (2, 5), "histology": (7, 14)}


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
        if in_year(day, year) and (ass := active_assignment(plan, int(ob["batch"][i]), day)):
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
           "sample_type_id": col(1, np.int32), "sample_date": epoch_days(col(2, np.int64)),
           "results_date": nullable_date(col(3, np.int64)), "finding": col(4, object), "value": value}
    return lab, work
