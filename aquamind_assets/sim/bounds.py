"""Keeping simulated values inside a range without making different values equal."""
from __future__ import annotations

import numpy as np


def soft_clip(v: np.ndarray, lo, hi, width) -> np.ndarray:
    """Inside [lo, hi], and unchanged away from its edges: near an edge the value bends towards it
    without reaching it, so two different values never become the same value (a hard clip would
    repeat its bound, which reads as a stuck sensor)."""
    v = np.asarray(v)
    top, bottom = hi - width, lo + width
    out = np.where(v > top, hi - width * np.exp(-np.maximum(v - top, 0) / width), v)
    return np.where(v < bottom, lo + width * np.exp(np.minimum(v - bottom, 0) / width), out).astype(v.dtype)
