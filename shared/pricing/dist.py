"""Distributions on the integers: what every sport's model hands to the markets.

A :data:`Dist` maps an integer value (a total, a margin, a count of goals still to
come) to its probability. Plain dicts and lists of floats: the live path builds a few of
them per update, and for a dozen entries Python's own floats beat numpy's call overhead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Dist = dict[int, float]


def normalise(probabilities: Sequence[float]) -> list[float]:
    """Scale probabilities to add up to one (uniform when they are all zero)."""
    total = sum(probabilities)
    return [p / total for p in probabilities] if total > 0 else [1 / len(probabilities)] * len(
        probabilities
    )


def poisson_pmf(lam: float) -> list[float]:
    """P(N = k) for k = 0.. until the tail is negligible; the last entry takes the tail."""
    lam = max(lam, 0.0)
    top = int(lam + 8 * math.sqrt(lam) + 6)
    pmf = [math.exp(-lam)]
    for k in range(1, top + 1):
        pmf.append(pmf[-1] * lam / k)
        if pmf[-1] < 1e-12 and k > lam:
            break
    pmf[-1] += max(0.0, 1.0 - sum(pmf))
    return pmf


def normal_cdf(x: float, mean: float = 0.0, sd: float = 1.0) -> float:
    """Φ((x - mean) / sd)."""
    return 0.5 * (1 + math.erf((x - mean) / (sd * math.sqrt(2))))


def normal_dist(mean: float, sd: float, width: float = 6.0) -> Dist:
    """A normal law discretised on the integers (continuity correction), ±``width`` sd.

    ``sd`` is floored at 0.3 so that a law with (almost) no spread still covers the
    integer nearest its mean; callers that know the value exactly use a point mass.
    """
    sd = max(sd, 0.3)
    lo, hi = math.floor(mean - width * sd), math.ceil(mean + width * sd)
    # Each boundary k + 0.5 once: the cell of k is cdf[k + 0.5] - cdf[k - 0.5].
    denom = sd * math.sqrt(2)  # normal_cdf inlined: the live path calls this a lot
    erf = math.erf
    cdf = [0.5 * (1 + erf((k + 0.5 - mean) / denom)) for k in range(lo - 1, hi + 1)]
    cells = [cdf[i + 1] - cdf[i] for i in range(hi - lo + 1)]
    return dict(zip(range(lo, hi + 1), normalise(cells), strict=True))


def shift(dist: Dist, by: int) -> Dist:
    """The distribution of X + ``by``."""
    return {k + by: p for k, p in dist.items()}


def mix(parts: Sequence[tuple[float, Dist]]) -> Dist:
    """The mixture Σ weight · dist of ``(weight, dist)`` pairs."""
    out: Dist = {}
    for weight, dist in parts:
        for k, p in dist.items():
            out[k] = out.get(k, 0.0) + weight * p
    return out


def prob_above(dist: Dist, line: float) -> float:
    """P(X > line)."""
    return sum(p for k, p in dist.items() if k > line)


def mean_of(dist: Dist) -> float:
    """E[X]."""
    return sum(k * p for k, p in dist.items())
