"""The plan is simulated once per scenario and code version, in a child process, and stored under
$DAGSTER_HOME/plan_cache/<key>/: large arrays as .npy files that every run process memory-maps
(a year's rendering touches only its own slice), the rest pickled. So the simulation's peak memory
is never added to a renderer's, and parallel runs share the arrays through the page cache.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import settings
from ..config.scenario import Scenario

_MEMORY: dict[str, object] = {}
PACKAGE = Path(__file__).resolve().parents[1]
CODE_DIRS = ("sim", "export")  # the code whose change changes the rows
BIG = 100_000  # arrays at least this long go to .npy files
DICTS = ("batch", "assignment", "daily", "workflow", "action", "harvest", "vaccination", "treatment",
         "lice", "outbreak", "sensor_faults")


def code_version() -> str:
    """Hash of the simulation's and the renderers' source: a stored year says which code produced it."""
    h = hashlib.sha256()
    for p in sorted(q for d in CODE_DIRS for q in (PACKAGE / d).rglob("*.py")):
        h.update(p.relative_to(PACKAGE).as_posix().encode() + p.read_bytes())
    return h.hexdigest()[:12]


def cache_key(scenario: Scenario) -> str:
    return f"{scenario.data_hash()}-{code_version()}"


def _cache_dir() -> Path:
    return settings.dagster_home() / "plan_cache"


def _split(arrays: dict, folder: Path, prefix: str) -> dict:
    """Replace big numeric arrays by the name of the .npy file they are saved to."""
    out = {}
    for k, v in arrays.items():
        if isinstance(v, np.ndarray) and v.dtype != object and v.size >= BIG:
            name = f"{prefix}.{k}.npy"
            np.save(folder / name, v)
            out[k] = ("npy", name)
        else:
            out[k] = v
    return out


def _join(arrays: dict, folder: Path) -> dict:
    return {k: np.load(folder / v[1], mmap_mode="r") if isinstance(v, tuple) and v[:1] == ("npy",) else v
            for k, v in arrays.items()}


def save(plan, folder: Path) -> None:
    """Write a plan (and its feed book) to a fresh folder; the caller renames it into place."""
    folder.mkdir(parents=True)
    for name in DICTS:
        setattr(plan, name, _split(getattr(plan, name), folder, name))
    book = getattr(plan, "_feed_book", None)
    if book is not None:
        book.purchase = _split(book.purchase, folder, "feed_purchase")
        book.stock = _split(book.stock, folder, "feed_stock")
    with open(folder / "plan.pkl", "wb") as f:
        pickle.dump(plan, f, protocol=5)


def load(folder: Path):
    with open(folder / "plan.pkl", "rb") as f:
        plan = pickle.load(f)
    for name in DICTS:
        setattr(plan, name, _join(getattr(plan, name), folder))
    book = getattr(plan, "_feed_book", None)
    if book is not None:
        book.purchase = _join(book.purchase, folder)
        book.stock = _join(book.stock, folder)
    return plan


def _trim(collect: bool = True) -> None:
    """Hand freed heap back to the system. `collect` first runs a full garbage collection, for
    garbage held in reference cycles: worth it once after the simulation, but not after every
    asset, whose arrays are freed by reference counting and where a full collection walks every
    object Dagster holds."""
    try:
        import ctypes
        import gc

        if collect:
            gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def build_into(scenario_json: str, target: Path) -> None:
    """Child-process entry: simulate, account the feed, save atomically (a rename of the folder)."""
    from ..sim.feed_inventory import simulate_feed_inventory
    from ..sim.plan import build_plan

    plan = build_plan(Scenario.model_validate_json(scenario_json))
    _trim()  # hand the simulation's freed heap back before the feed accounting allocates its own
    simulate_feed_inventory(plan)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    save(plan, tmp)
    try:
        os.rename(tmp, target)
    except OSError:  # another process won the race with identical content
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_built(scenario: Scenario, log=None) -> Path:
    """Simulate the plan into the cache unless it is there; returns its folder. The simulation runs
    in a child process, so its peak memory is returned to the system when it ends."""
    from ..sim.readings import refuse_oversized_cadence

    refuse_oversized_cadence(scenario)  # one line, before a simulation of a size it is not for
    key = cache_key(scenario)
    folder = _cache_dir() / key
    if not (folder / "plan.pkl").exists():
        t0 = time.perf_counter()
        folder.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "aquamind_assets.runtime.plan_cache", str(folder)],
                       input=scenario.model_dump_json(), text=True, check=True)
        if log:
            log(f"plan {key} simulated in {time.perf_counter() - t0:.1f} s ({scenario.scale})")
    return folder


def release() -> None:
    """Drop this process's mapping of the plan: the pages it touched stop counting in its resident
    memory (they stay in the page cache, so mapping it again costs ~0.1 s at full scale)."""
    _MEMORY.clear()
    _trim(collect=False)


def get_plan(scenario: Scenario, log=None):
    folder = _cache_dir() / cache_key(scenario)
    if str(folder) in _MEMORY:  # keyed by folder: another DAGSTER_HOME gets (and fills) its own cache
        return _MEMORY[str(folder)]
    t0 = time.perf_counter()
    key = ensure_built(scenario, log).name
    plan = load(folder)
    if log:
        log(f"plan {key} mapped from {folder} in {time.perf_counter() - t0:.1f} s")
    _MEMORY.clear()
    _MEMORY[str(folder)] = plan
    return plan


if __name__ == "__main__":
    build_into(sys.stdin.read(), Path(sys.argv[1]))
