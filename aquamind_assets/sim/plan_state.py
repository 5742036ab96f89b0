"""Accumulates the plan's batches, assignments, daily state and events (plan_arrays freezes them).

Daily state is kept per stage chunk ([units, days]) while a batch is simulated, so a transfer can
book its handling losses on the source's last day before the destination is stocked.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from . import biology as bio
from .calendar import N_DAYS, SIM_START_YEAR
from .reference import CAUSE_ID, EGG_SUPPLIERS, STRAINS, TREATMENT_ID
from .schedule import pair_transfers, split_even

@dataclass
class Chunk:
    ids: np.ndarray
    stage: int
    start: int
    lengths: np.ndarray  # days per unit (sea pens end at their own harvest day)
    pop: np.ndarray
    weight: np.ndarray
    base: np.ndarray
    event: np.ndarray
    ecause: np.ndarray
    temp: np.ndarray
    exit_w: np.ndarray
    growth: np.ndarray | None = None


class PlanBuilder:
    def __init__(self, scenario, infra, climate) -> None:
        self.scenario, self.infra, self.climate = scenario, infra, climate
        self.rows: dict[str, list] = defaultdict(list)
        self.chunks: list[Chunk] = []
        self.next_assignment = 1
        self.exit_pop: dict[int, np.ndarray] = {}
        self.stats: dict[str, float] = defaultdict(float)

    def new_batch(self, geo: int, start: int, eggs: int, rng) -> int:
        bid = len(self.rows["batch"]) + 1
        external = rng.random() < self.scenario.biology.external_egg_share
        supplier = int(rng.integers(1, 4)) if external else 4
        year = SIM_START_YEAR + start // 365
        n = sum(1 for r in self.rows["batch"] if r[1] == geo and r[2] // 365 == start // 365) + 1
        name = f"{'FO' if geo == 0 else 'SC'}{year % 100:02d}{n:02d}-{EGG_SUPPLIERS[supplier - 1][1][:3].upper()}"
        self.rows["batch"].append([bid, geo, start, eggs, supplier, STRAINS[supplier - 1], name, -1])
        return bid

    def close_batch(self, bid: int) -> None:
        ends = [c for c in self.chunks if self.rows["assignment_batch"][c.ids[0] - 1] == bid]
        if ends:
            last = ends[-1]
            open_ = (last.start + last.lengths) >= N_DAYS
            self.rows["batch"][bid - 1][7] = -1 if open_.any() else int((last.start + last.lengths).max())

    def _new_chunk(self, bid, stage, units, start, lengths, pop, weight, base, event, ecause, temp, exit_w, growth=None):
        ids = np.arange(self.next_assignment, self.next_assignment + len(units))
        self.next_assignment += len(units)
        self.rows["assignment_batch"] += [bid] * len(units)
        self.rows["assignment_container"] += list(units + 1)
        # compact dtypes: the plan holds ~20 M assignment-days at full scale
        c = Chunk(ids, stage, start, lengths, pop.astype(np.int32), weight.astype(np.float32),
                  base.astype(np.int32), event.astype(np.int32), ecause.astype(np.int8),
                  np.ascontiguousarray(temp, dtype=np.float32), exit_w,
                  None if growth is None else growth.astype(np.float32))
        self.chunks.append(c)
        exit_pop = pop[np.arange(len(units)), lengths - 1] - base[np.arange(len(units)), lengths - 1] \
            - event[np.arange(len(units)), lengths - 1]
        self.exit_pop[int(ids[0])] = exit_pop
        return c

    def add_stage(self, bid, stage, units, run, temps, prev, rng) -> Chunk:
        L = run.end - run.start
        cause = np.full(run.pop.shape, CAUSE_ID["DISEASE"] - 1 if stage == bio.FRY else CAUSE_ID["HANDLING"] - 1, np.int8)
        c = self._new_chunk(bid, stage, units, run.start, np.full(len(units), L), run.pop, run.weight,
                            run.deaths_base, run.deaths_event, cause, temps[:, :L], run.exit_weight)
        if prev is not None:
            self._workflow(bid, prev, c)
        return c

    def add_sea(self, bid, pens, run, site_temp, prev, tgc, rng) -> Chunk:
        L = run.pop.shape[1]
        lengths = np.where(run.ends > 0, run.ends - run.start, min(L, N_DAYS - run.start))
        temp = np.broadcast_to(site_temp[run.start:run.start + L], run.pop.shape)
        last_w = run.weight[np.arange(len(pens)), lengths - 1]
        c = self._new_chunk(bid, bio.ADULT, pens, run.start, lengths, run.pop, run.weight, run.deaths_base,
                            run.deaths_event, run.event_cause, temp, last_w, run.growth_factor)
        self._workflow(bid, prev, c)
        for p, day, count, w, early in run.harvest:
            self.rows["harvest"].append((int(c.ids[p]), bid, day, count, w, early))
        for p, day, code, before, outcome in run.treatments:
            self.rows["treatment"].append((int(c.ids[p]), bid, day, TREATMENT_ID[code], before, outcome))
        for p, day, observed, level in run.lice:
            self.rows["lice"].append((int(c.ids[p]), bid, day, observed, level))
        return c

    def transfer_losses(self, prev: Chunk, rng, keep_fraction: float = 1.0) -> np.ndarray:
        """Book 1-2 % handling losses (and any cull) on the sources' last day; return survivors."""
        i = np.arange(len(prev.ids))
        last = prev.lengths - 1
        alive = self.exit_pop[int(prev.ids[0])]
        lo, hi = self.scenario.biology.transfer_loss
        loss = rng.binomial(alive, rng.uniform(lo, hi))
        loss = loss + (alive - loss) - np.floor((alive - loss) * keep_fraction).astype(np.int64)
        prev.event[i, last] += loss
        prev.ecause[i, last] = CAUSE_ID["HANDLING"] - 1
        survivors = alive - loss
        self.exit_pop[int(prev.ids[0])] = survivors
        self.stats["transfer_losses"] += float(loss.sum())
        return survivors

    def cull(self, prev: Chunk, n: int) -> np.ndarray:
        """Remove n fish from the sources' survivors in proportion (booked as handling deaths)."""
        i, last = np.arange(len(prev.ids)), prev.lengths - 1
        alive = self.exit_pop[int(prev.ids[0])]
        take = split_even(n, len(alive)) if alive.sum() == 0 else np.floor(alive * n / alive.sum()).astype(np.int64)
        take[np.argsort(-alive, kind="stable")[: n - int(take.sum())]] += 1
        take = np.minimum(take, alive)
        prev.event[i, last] += take.astype(prev.event.dtype)
        prev.ecause[i, last] = CAUSE_ID["HANDLING"] - 1
        self.exit_pop[int(prev.ids[0])] = alive - take
        return alive - take

    def pooled_weight(self, prev: Chunk) -> float:
        s = self.exit_pop[int(prev.ids[0])]
        return float(np.average(prev.exit_w, weights=np.maximum(s, 1)))

    def moved_weights(self, prev: Chunk, n0: np.ndarray) -> np.ndarray:
        """Mean weight of the fish each destination receives (the transfer's pairing of sources to
        destinations), so a destination starts at the weight of its own fish: no reset at a transfer."""
        survivors = self.exit_pop[int(prev.ids[0])]
        if survivors.sum() != n0.sum():
            return np.full(len(n0), self.pooled_weight(prev))
        count, biomass = np.zeros(len(n0)), np.zeros(len(n0))
        for s, d, n in pair_transfers(survivors, n0):
            count[d] += n
            biomass[d] += n * float(prev.exit_w[s])
        return np.where(count > 0, biomass / np.maximum(count, 1), self.pooled_weight(prev))

    def _workflow(self, bid, prev: Chunk, cur: Chunk) -> None:
        survivors = self.exit_pop[int(prev.ids[0])]
        i, last = np.arange(len(prev.ids)), prev.lengths - 1
        source = int(prev.pop[i, last].sum() - prev.base[i, last].sum())
        n0 = cur.pop[:, 0]
        wid = len(self.rows["workflow"]) + 1
        w0 = float(cur.weight[:, 0].mean())
        self.rows["workflow"].append((wid, bid, prev.stage, cur.stage, cur.start, source,
                                      source - int(survivors.sum()), int(n0.sum()), float(n0.sum() * w0 / 1000)))
        for s, d, n in pair_transfers(survivors, n0):
            self.rows["action"].append((wid, int(prev.ids[s]), int(cur.ids[d]), cur.start, n,
                                        n * float(prev.exit_w[s]) / 1000))

    def vaccinate(self, bid, day, weight, chunk: Chunk, rng) -> None:
        self.rows["vaccination"].append((bid, day, weight, int(rng.integers(1, 4)), int(chunk.ids[0]), len(chunk.ids)))

    def outbreak(self, bid, disease, start, end, area) -> None:
        self.rows["outbreak"].append((bid, disease, start, end, area))
