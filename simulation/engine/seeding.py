"""Random streams: one independent generator per replication, stream and purpose.

A generator is keyed by names (department, stream, purpose), not by creation order, so two
scenarios run with the same seed draw the same arrivals for every stream they share:
common random numbers, which make paired comparisons of scenarios sharp.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


class RandomStreams:
    """Factory of named, reproducible generators for one replication."""

    def __init__(self, seed: int, replication: int):
        self.seed = int(seed)
        self.replication = int(replication)

    def get(self, *names: str) -> np.random.Generator:
        """The generator for this purpose, e.g. ``get('cardiology', 'calls', 'service')``."""
        ss = np.random.SeedSequence(
            entropy=self.seed, spawn_key=(self.replication, _key("/".join(names)))
        )
        return np.random.Generator(np.random.PCG64(ss))
