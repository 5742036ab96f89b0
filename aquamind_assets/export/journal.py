"""A modest veterinary journal: monthly observations per batch, lice and disease issues, lab
work-ups and diagnoses, responses, treatments and vaccinations. id = source index * 8 + kind, so
entries of different kinds from one source never collide."""
from __future__ import annotations

import numpy as np

from ..sim.calendar import MONTH, N_DAYS, epoch_days
from ..sim.reference import TREATMENTS, VACCINES, WITHHOLDING
from .columns import in_year
from .lab import DISEASE_NAME, WORKUP
from .sampling import active_assignment

TREAT_CODE = {t[0]: t[1] for t in TREATMENTS}
RESPONSE = {"AGD": "Freshwater bathing of all pens ordered", "PD": "Feeding reduced; handling and grading postponed",
            "HSMI": "Handling postponed and feed adjusted to reduce stress",
            "CMS": "Handling minimised; harvest planning brought forward",
            "WINTER_ULCER": "Handling minimised and mortalities removed daily",
            "ISA": "Site under restriction: early harvest and fallowing ordered",
            "IPN": "Tank hygiene reinforced, mortalities removed twice daily"}


def _threshold(day) -> np.ndarray:
    """Scotland's code of practice: 0.5 adult females per fish Feb-June, 1.0 July-Jan."""
    m = MONTH[np.asarray(day)]
    return np.where((m >= 2) & (m <= 6), 0.5, 1.0)


def _checks(plan, events: dict, ev_info) -> list[tuple]:
    """One observation per batch and month from its health checks."""
    ai, day, score, disease = ev_info
    batch = plan.assignment["batch"][ai]
    key = batch.astype(np.int64) * 12 + MONTH[day] - 1
    order = np.lexsort((day, key))
    uniq, first, count = np.unique(key[order], return_index=True, return_counts=True)
    rows = []
    for j, n in zip(order[first], count):
        grp = key == key[j]
        s = float(score[grp].mean())
        sev = "low" if s < 0.6 else "medium" if s < 0.9 else "high"
        sign = f"; signs of {DISEASE_NAME[disease[j]].lower()}" if disease[j] else ""
        rows.append((int(events["id"][j]) * 8 + 1, batch[j], ai[j] + 1, day[j], "observation", sev,
                     f"Monthly health check of {n} unit(s): mean {events['avg_weight_g'][grp].mean():.0f} g, "
                     f"K {events['avg_k_factor'][grp].mean():.2f}, mean score {s:.2f}{sign}"))
    return rows


def _lice_issues(plan, year: int) -> list[tuple]:
    """One issue per batch and count day with a pen above the limit."""
    li = plan.lice
    high = np.flatnonzero(in_year(li["day"], year) & (li["observed"] > _threshold(li["day"])))
    _, first = np.unique(li["batch"][high].astype(np.int64) * N_DAYS + li["day"][high], return_index=True)
    rows = []
    for i in high[first]:
        grp = high[(li["batch"][high] == li["batch"][i]) & (li["day"][high] == li["day"][i])]
        worst, lim = float(li["observed"][grp].max()), float(_threshold(li["day"][i]))
        rows.append((int(i) * 8 + 3, li["batch"][i], li["assignment"][i], li["day"][i], "issue",
                     "high" if worst > 2 * lim else "medium",
                     f"Sea lice above the limit of {lim:.1f} adult females per fish in {len(grp)} pen(s), "
                     f"up to {worst:.2f}"))
    return rows


def _treatments(plan, year: int) -> list[tuple]:
    """One entry per batch, day and treatment type."""
    t = plan.treatment
    sel = np.flatnonzero(in_year(t["day"], year))
    _, first = np.unique((t["batch"][sel].astype(np.int64) * N_DAYS + t["day"][sel]) * 16 + t["type"][sel],
                         return_index=True)
    rows = []
    for i in sel[first]:
        same = (t["batch"][sel] == t["batch"][i]) & (t["day"][sel] == t["day"][i]) & (t["type"][sel] == t["type"][i])
        rows.append((int(i) * 8 + 5, t["batch"][i], t["assignment"][i], t["day"][i], "treatment",
                     "medium" if WITHHOLDING[int(t["type"][i])] > 0 else "low",
                     f"{TREATMENTS[int(t['type'][i]) - 1][2]} of {int(same.sum())} unit(s)"))
    return rows


def _vaccinations(plan, year: int) -> list[tuple]:
    v = plan.vaccination
    rows = []
    for i in np.flatnonzero(in_year(v["day"], year)):
        vac = VACCINES[int(v["vaccine"][i]) - 1]
        rows.append((int(i) * 8 + 7, v["batch"][i], v["first_assignment"][i], v["day"][i], "vaccination", "low",
                     f"{v['n'][i]} tank(s) vaccinated with {vac[1]} ({vac[2]}, {vac[3]}) at {v['weight'][i]:.0f} g"))
    return rows


def _outbreaks(plan, year: int, work: dict) -> list[tuple]:
    """Per outbreak: suspicion, response, samples sent and the laboratory's diagnosis."""
    ob = plan.outbreak
    rows = []
    for i in range(len(ob["batch"])):
        code, b, start = str(ob["disease"][i]), int(ob["batch"][i]), int(ob["start"][i])
        name, grave = DISEASE_NAME[code], code in ("ISA", "PD")
        for k, dy, cat, sev, text in (
                (2, start, "issue", "high" if grave else "medium", f"Raised mortality and poor appetite; {name} suspected"),
                (6, start + 7, "action", "high" if grave else "medium", RESPONSE[code])):
            if in_year(dy, year) and (ass := active_assignment(plan, b, dy)):  # a year's days only
                rows.append((i * 8 + k, b, ass, dy, cat, sev, text))
        if i in work:
            ass, dy, res = work[i]
            if in_year(dy, year):
                rows.append((i * 8 + 8, b, ass, dy, "sample", "medium",
                             f"Samples sent for {' and '.join(WORKUP[code])}: {name} suspected"))
            if in_year(res, year) and (ass := active_assignment(plan, b, res)):
                rows.append((i * 8 + 4, b, ass, res, "diagnosis", "high" if grave else "medium",
                             f"{name} confirmed by the laboratory"))
    return rows


def render_journal(plan, year: int, events: dict, ev_info, work: dict) -> dict[str, np.ndarray]:
    """health.journal_entry of one year, from the health checks (`events`, `ev_info` of
    render_sampling), the lab work-ups (`work` of render_lab) and the plan's events."""
    rows = [*_checks(plan, events, ev_info), *_lice_issues(plan, year), *_treatments(plan, year),
            *_vaccinations(plan, year), *_outbreaks(plan, year, work)]  # (id, batch, assignment, day, ...)
    rows.sort(key=lambda r: r[0])
    col = lambda j, dt: np.array([r[j] for r in rows], dtype=dt)  # noqa: E731
    return {"year": np.full(len(rows), year, np.int16), "id": col(0, np.int32), "batch_id": col(1, np.int32),
            "assignment_id": col(2, np.int32), "entry_date": epoch_days(col(3, np.int64)), "category": col(4, object),
            "severity": col(5, object), "description": col(6, object)}
