"""The plan is computed once per scenario: kept in memory, and on disk so every run process of a
backfill loads it instead of re-simulating (a pickle under $DAGSTER_HOME/plan_cache, written
atomically; identical content whichever process wins the race)."""
from __future__ import annotations

import hashlib
import os
import pickle
import time
from pathlib import Path

from . import settings
from .scenario import Scenario
from .sim.plan import build_plan

_MEMORY: dict[str, object] = {}
SIM_DIR = Path(__file__).parent / "sim"


def code_version() -> str:
    """Hash of the simulation's source: a stored year says which code produced it."""
    h = hashlib.sha256()
    for p in sorted(SIM_DIR.glob("*.py")):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:12]


def _cache_dir() -> Path:
    return settings.dagster_home() / "plan_cache"


def get_plan(scenario: Scenario, log=None):
    key = f"{scenario.data_hash()}-{code_version()}"
    if key in _MEMORY:
        return _MEMORY[key]
    path = _cache_dir() / f"{key}.pkl"
    t0 = time.perf_counter()
    if path.exists():
        with open(path, "rb") as f:
            plan = pickle.load(f)
        if log:
            log(f"plan {key} loaded from cache in {time.perf_counter() - t0:.1f} s")
    else:
        plan = build_plan(scenario)
        if log:
            log(f"plan {key} simulated in {time.perf_counter() - t0:.1f} s ({scenario.scale})")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                pickle.dump(plan, f, protocol=5)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home only costs a re-simulation
    _MEMORY.clear()
    _MEMORY[key] = plan
    return plan
