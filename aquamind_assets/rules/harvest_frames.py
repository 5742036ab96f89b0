"""The harvest rule that joins lots to the pen's daily state, as a frame rule: the year's events and
lots gathered as the frames pass, against the year's daily state (see daily_state_frames.py);
same name and invariant as its SQL form in harvest.py."""
from __future__ import annotations

import numpy as np

from ..warehouse.frame_checks import FrameTotal
from .daily_state_frames import STATEMENTS, StateIndex, year_state
from .frame_dims import ById, take

E, L = "harvest.harvest_event", "harvest.harvest_lot"


class Harvest:
    statements = STATEMENTS

    def __init__(self, cur, params: dict):
        self.state = year_state(cur, params)
        self.index = StateIndex(self.state)
        self.events: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.lots: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, table: str, cols) -> None:
        if table == E:
            self.events.append((cols["id"].astype(np.int64), cols["assignment_id"], cols["event_date"]))
        elif table == L:
            self.lots.append((cols["harvest_event_id"].astype(np.int64), cols["unit_count"].astype(np.int64)))


def _lots_verdict(ctx: Harvest):
    if not ctx.events:
        return 0, 0, []
    ids, ass, day = (np.concatenate(c) for c in zip(*ctx.events))
    lot_event, fish = (np.concatenate(c) for c in zip(*ctx.lots)) if ctx.lots else (np.zeros(0, np.int64),) * 2
    events = ById(ids)
    pos = events.at(lot_event)
    mine = pos >= 0
    lots = np.bincount(pos[mine], weights=fish[mine], minlength=len(ids))
    has_lots = np.bincount(pos[mine], minlength=len(ids)) > 0
    population = take(ctx.state["population"], ctx.index.at(ass, day), -1)
    bad = ~has_lots | (population < 0) | (np.rint(lots).astype(np.int64) != population)
    rows = np.flatnonzero(bad)[:5]
    return len(ids), int(bad.sum()), [{"id": str(ids[r]), "assignment_id": str(ass[r]), "event_date": str(day[r]),
                                       "lots": str(int(lots[r])), "population": str(population[r])} for r in rows]


FRAME_RULES = [
    FrameTotal("harvest_lots_sum_to_pen", "a pen's harvest lots add up to the fish in the pen that day "
               "(gathered over the frames)", Harvest, _lots_verdict, min_examined=0),
]
