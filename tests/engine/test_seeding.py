"""Named random streams: a key is a tuple of names, encoded without ambiguity."""

from __future__ import annotations

import pytest

from simulation.engine.seeding import RandomStreams, encode


def first_draws(streams: RandomStreams, *names) -> list[float]:
    return streams.get(*names).random(4).tolist()


def test_names_containing_a_slash_do_not_collide():
    """('a/b', 'c') and ('a', 'b/c') joined with '/' are the same string: not the same key."""
    streams = RandomStreams(seed=1, replication=0)
    assert encode(("a/b", "c")) != encode(("a", "b/c"))
    assert first_draws(streams, "a/b", "c") != first_draws(streams, "a", "b/c")


def test_keys_are_typed_and_length_prefixed():
    """A number and its digits, an empty name and no name, are different keys."""
    keys = [encode(k) for k in [("1",), (1,), ("a",), ("a", ""), ("", "a"), ("ab",)]]
    assert len(set(keys)) == len(keys)


def test_same_names_same_stream_other_replication_other_stream():
    streams = RandomStreams(seed=1, replication=0)
    assert first_draws(streams, "x", 2) == first_draws(RandomStreams(1, 0), "x", 2)
    assert first_draws(streams, "x", 2) != first_draws(RandomStreams(1, 1), "x", 2)


def test_a_name_must_be_a_str_or_an_int():
    with pytest.raises(TypeError):
        encode(("a", 1.5))
