"""Random streams keyed by (seed, domain, keys): a year's rows never depend on what else ran."""
from __future__ import annotations

import hashlib

import numpy as np


def _domain_key(domain: str) -> int:
    return int.from_bytes(hashlib.blake2b(domain.encode(), digest_size=4).digest(), "little")


def stream(seed: int, domain: str, *keys: int) -> np.random.Generator:
    """An independent generator for one domain and entity (batch, year, container, ...)."""
    return np.random.default_rng(np.random.SeedSequence([seed, _domain_key(domain), *map(int, keys)]))
