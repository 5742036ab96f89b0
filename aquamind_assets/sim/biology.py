"""Salmon biology as pure functions: stages, TGC growth, length from weight, density limits."""
from __future__ import annotations

import numpy as np

STAGES = ("egg_alevin", "fry", "parr", "smolt", "post_smolt", "adult")
STAGE_NAMES = ("Egg&Alevin", "Fry", "Parr", "Smolt", "Post-Smolt", "Adult")
EGG, FRY, PARR, SMOLT, POST_SMOLT, ADULT = range(6)
STAGE_ID = {s: i + 1 for i, s in enumerate(STAGES)}  # lifecycle_stage.id
NOMINAL_DAYS = (110, 95, 90, 90, 90, 480)  # used only to size infrastructure
EGG_DEGREE_DAYS = 800.0  # eyed ~250, hatch ~500, first feeding ~300 dd after hatch
EGG_WEIGHT_G = (0.10, 0.25)
CONDITION_K = 1.3  # Fulton's K = 100 W / L^3 (docs/domain.md §4)


def temperature_response(temp: np.ndarray) -> np.ndarray:
    """Share of the nominal TGC realised at a temperature: ~0 below 4 C, optimum 14-16 C, falls above."""
    low = np.clip((temp - 2.0) / 4.0, 0.0, 1.0)
    high = np.clip(1.0 - (temp - 16.0) / 6.0, 0.0, 1.0)
    return low * high


def grow(w0: np.ndarray, tgc: np.ndarray, temp: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Cube-root TGC growth along the last axis: W_d^(1/3) = W_0^(1/3) + TGC/1000 * sum(T * factor).

    Returns the mean weight at the START of every day (day 0 is w0), so it pairs with population.
    """
    inc = (np.asarray(tgc)[..., None] / 1000.0) * np.maximum(temp, 0.0) * temperature_response(temp) * factor
    cum = np.cumsum(inc, axis=-1)
    cum = np.concatenate([np.zeros(cum.shape[:-1] + (1,)), cum[..., :-1]], axis=-1)
    return (np.cbrt(np.asarray(w0, dtype=float))[..., None] + cum) ** 3


def length_cm(weight_g: np.ndarray, k: float | np.ndarray = CONDITION_K) -> np.ndarray:
    """Length from weight through the condition factor: a 500 g fish is ~34 cm, 5 kg ~72 cm."""
    return np.cbrt(100.0 * np.asarray(weight_g) / k)


def sea_density_limit(weight_g: np.ndarray, limits=(10.0, 15.0, 20.0, 25.0)) -> np.ndarray:
    """Faroese limits in kg/m3 for fish <1, 1-2, 2-3, >3 kg (docs/domain.md §10.5)."""
    idx = np.clip(np.floor(np.asarray(weight_g) / 1000.0).astype(int), 0, 3)
    return np.asarray(limits)[idx]


def ration_fcr(weight_g: np.ndarray) -> np.ndarray:
    """Biological FCR by fish size: ~0.9 fry, ~1.05 smolt, 1.1-1.25 at sea (docs/domain.md §6)."""
    w = np.asarray(weight_g)
    return np.interp(np.log10(np.maximum(w, 0.2)), [-0.7, 0.7, 2.0, 2.7, 3.7],
                     [0.85, 0.95, 1.05, 1.12, 1.22])
