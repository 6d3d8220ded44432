"""Random streams: one independent generator per replication, stream and purpose.

A generator is keyed by names (department, stream, purpose, attempt...), not by creation
order, so two scenarios run with the same seed draw the same numbers for every purpose
they share: common random numbers, which make paired comparisons of scenarios sharp.
"""

from __future__ import annotations

import hashlib

import numpy as np

Name = str | int


def encode(names: tuple[Name, ...]) -> bytes:
    """An unambiguous byte encoding of a key: each name is typed and length-prefixed, so
    ('a/b', 'c'), ('a', 'b/c') and ('1',) vs (1,) are all different keys."""
    out = bytearray()
    for name in names:
        if isinstance(name, bool) or not isinstance(name, (str, int)):
            raise TypeError(f"a stream name is a str or an int, not {name!r}")
        tag, data = (b"s", name.encode("utf-8")) if isinstance(name, str) else \
            (b"i", str(name).encode("ascii"))
        out += tag + len(data).to_bytes(4, "little") + data
    return bytes(out)


def _key(names: tuple[Name, ...]) -> int:
    return int.from_bytes(hashlib.blake2b(encode(names), digest_size=8).digest(), "little")


class RandomStreams:
    """Factory of named, reproducible generators for one replication."""

    def __init__(self, seed: int, replication: int):
        self.seed = int(seed)
        self.replication = int(replication)

    def get(self, *names: Name) -> np.random.Generator:
        """The generator for this purpose, e.g. ``get('cardiology', 'calls', 'service')``."""
        ss = np.random.SeedSequence(entropy=self.seed,
                                    spawn_key=(self.replication, _key(names)))
        return np.random.Generator(np.random.PCG64(ss))
