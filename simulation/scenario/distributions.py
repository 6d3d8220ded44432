"""Duration distributions used in scenario files (all values in minutes).

Each distribution is a small validated model with ``sample`` and ``mean``. They are
parametrised by their mean where that makes sense so that levers can rescale them
(``scaled``) without changing their shape, which keeps common random numbers intact.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulation.scenario.bounds import Cv, Minutes, Weight


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent draws, in minutes."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        """The distribution's mean, in minutes."""
        raise NotImplementedError

    def scaled(self, factor: float) -> Dist:
        """The same shape with every value multiplied by ``factor``."""
        raise NotImplementedError


class Exponential(_Dist):
    """Exponential with the given mean (memoryless; the queueing-theory default)."""

    dist: Literal["exponential"] = "exponential"
    mean_: Minutes = Field(alias="mean", gt=0)
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng, size):
        """``size`` independent draws, in minutes."""
        return rng.exponential(self.mean_, size)

    @property
    def mean(self) -> float:
        """The distribution's mean, in minutes."""
        return self.mean_

    def scaled(self, factor):
        return Exponential(mean=self.mean_ * factor)


class LogNormal(_Dist):
    """Lognormal given by its mean and coefficient of variation (typical of task times)."""

    dist: Literal["lognormal"] = "lognormal"
    mean_: Minutes = Field(alias="mean", gt=0)
    cv: Cv
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng, size):
        """``size`` independent draws, in minutes."""
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)

    @property
    def mean(self) -> float:
        """The distribution's mean, in minutes."""
        return self.mean_

    def scaled(self, factor):
        return LogNormal(mean=self.mean_ * factor, cv=self.cv)


class Gamma(_Dist):
    """Gamma given by its mean and coefficient of variation."""

    dist: Literal["gamma"] = "gamma"
    mean_: Minutes = Field(alias="mean", gt=0)
    cv: Cv
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng, size):
        """``size`` independent draws, in minutes."""
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean_ / shape, size)

    @property
    def mean(self) -> float:
        """The distribution's mean, in minutes."""
        return self.mean_

    def scaled(self, factor):
        return Gamma(mean=self.mean_ * factor, cv=self.cv)


class Triangular(_Dist):
    """Triangular between ``low`` and ``high`` with mode ``mode`` (expert estimates)."""

    dist: Literal["triangular"] = "triangular"
    low: Minutes
    mode: Minutes
    high: Minutes = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(
                f"needs low <= mode <= high and low < high (got low={self.low}, "
                f"mode={self.mode}, high={self.high})"
            )
        return self

    def sample(self, rng, size):
        """``size`` independent draws, in minutes."""
        return rng.triangular(self.low, self.mode, self.high, size)

    @property
    def mean(self) -> float:
        """The distribution's mean, in minutes."""
        return (self.low + self.mode + self.high) / 3

    def scaled(self, factor):
        return Triangular(low=self.low * factor, mode=self.mode * factor, high=self.high * factor)


class Uniform(_Dist):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"] = "uniform"
    low: Minutes
    high: Minutes = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.low >= self.high:
            raise ValueError(f"needs low < high (got low={self.low}, high={self.high})")
        return self

    def sample(self, rng, size):
        """``size`` independent draws, in minutes."""
        return rng.uniform(self.low, self.high, size)

    @property
    def mean(self) -> float:
        """The distribution's mean, in minutes."""
        return (self.low + self.high) / 2

    def scaled(self, factor):
        return Uniform(low=self.low * factor, high=self.high * factor)


class Deterministic(_Dist):
    """Always the same value (a bare number in a scenario file means this)."""

    dist: Literal["deterministic"] = "deterministic"
    value: Minutes

    def sample(self, rng, size):
        """``size`` independent draws, in minutes."""
        # Draw anyway so that the stream advances exactly as for a random distribution.
        rng.random(size)
        return np.full(size, self.value, dtype=float)

    @property
    def mean(self) -> float:
        """The distribution's mean, in minutes."""
        return self.value

    def scaled(self, factor):
        return Deterministic(value=self.value * factor)


class Empirical(_Dist):
    """Resampling of observed values (optionally weighted), e.g. timed tasks from an audit."""

    dist: Literal["empirical"] = "empirical"
    values: list[Minutes] = Field(min_length=1, max_length=100_000)
    weights: list[Weight] | None = None

    @model_validator(mode="after")
    def _weights(self):
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if sum(self.weights) <= 0:
                raise ValueError("weights are all zero; give at least one a positive weight")
        return self

    def _p(self):
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng, size):
        """``size`` independent draws, in minutes."""
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._p())

    @property
    def mean(self) -> float:
        """The distribution's mean, in minutes."""
        p = self._p()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else (v * p).sum())

    def scaled(self, factor):
        return Empirical(values=[x * factor for x in self.values], weights=self.weights)


Dist = Annotated[
    Union[Exponential, LogNormal, Gamma, Triangular, Uniform, Deterministic, Empirical],
    Field(discriminator="dist"),
]

DIST_NAMES = ("exponential", "lognormal", "gamma", "triangular", "uniform", "deterministic", "empirical")


def coerce_dist(value: Any) -> Any:
    """Let a bare number stand for a deterministic duration."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"dist": "deterministic", "value": value}
    return value


def largest_typical(d: _Dist) -> float:
    """The largest value a user wrote for a distribution: its upper end when bounded, its
    mean otherwise (what the work-duration bounds apply to)."""
    for attr in ("high", "value"):
        if hasattr(d, attr):
            return float(getattr(d, attr))
    if isinstance(d, Empirical):
        return float(max(d.values))
    return d.mean


def dump_dist(d: _Dist) -> dict:
    """A dist as the plain mapping a user would write (``mean`` not ``mean_``)."""
    return d.model_dump(by_alias=True)


class Sampler:
    """Draws one value at a time from a distribution, in blocks (numpy calls are costly)."""

    __slots__ = ("_dist", "_rng", "_buf", "_i", "_block")

    def __init__(self, dist: _Dist, rng: np.random.Generator, block: int = 256):
        self._dist, self._rng, self._block = dist, rng, block
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        if i >= len(self._buf):
            # Python floats: the same values, read without numpy's per-element cost.
            self._buf = self._dist.sample(self._rng, self._block).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]
