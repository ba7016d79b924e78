"""Bookmaker margins both ways: put one on fair probabilities, take one off a book's prices.

A book's *implied* probabilities are the inverses of its prices; they add up to
``winners · (1 + margin)`` (``winners`` is 2 for double chance, else 1): the overround.
Each method below is a one-parameter family that maps fair probabilities ``p`` to
implied ones ``π``; applying a margin solves for the parameter that gives the overround
asked for, removing one solves the same family backwards for the parameter that makes
the fair probabilities add up to ``winners`` again. So removing what was applied with
the same method returns the probabilities exactly (to the solver's precision).

========================  ============================================  =================
method                    fair -> implied                              parameter
========================  ============================================  =================
``multiplicative``        π = p · (1 + m)                               none
``additive``              π = p + w·m/n                                 none
``power``                 π = p^(1/k)                                   k ≥ 1
``shin``                  π = √(z·p + (1-z)·p²) · Σ√(z·p + (1-z)·p²)/w  z in [0, 1)
``odds_ratio``            π/(1-π) = c · p/(1-p)                         c ≥ 1
========================  ============================================  =================

Multiplicative spreads the margin in proportion to the probability; the others load
more of it on longshots (the favourite-longshot bias real books show), Shin's by
modelling a share ``z`` of insider money (Shin 1992, 1993; the inversion of Jullien and
Salanié), odds ratio after Cheung. Additive can push a longshot's fair probability below
zero when removing a large margin: that is the method, not a bug, and why it is rarely
the right choice for three-way markets.

Removal uses penaltyblog's ``implied.calculate_implied`` for one-winner books (checked
against this module's own inverse in the tests); penaltyblog covers neither the
forward direction nor books with several winners (double chance), which are ours, and its
Shin solver has no root for a book without overround, where Shin's ``z`` is nil and the
proportional answer is returned instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import StrEnum

from scipy.optimize import brentq

from shared.pricing.prices import price_from_implied


class Method(StrEnum):
    """How a margin is spread over a market's outcomes."""

    MULTIPLICATIVE = "multiplicative"
    ADDITIVE = "additive"
    POWER = "power"
    SHIN = "shin"
    ODDS_RATIO = "odds_ratio"


_XTOL = 1e-14


def book_overround(implied: Sequence[float], winners: int = 1) -> float:
    """The margin of a book: ``Σ implied / winners - 1``."""
    return sum(implied) / winners - 1


def _solve(f: Callable[[float], float], lo: float, hi: float, what: str, *, grow: bool = False) -> float:
    """The root of increasing ``f`` on [lo, hi] (``grow``: hi doubles while ``f(hi) < 0``)."""
    if f(lo) >= 0:
        return lo
    for _ in range(60 if grow else 1):
        if f(hi) >= 0:
            return float(brentq(f, lo, hi, xtol=_XTOL, maxiter=200))
        lo, hi = hi, hi * 2
    raise ValueError(f"{what}: no parameter reaches the overround asked for")


def _shin_implied(p: Sequence[float], z: float, winners: int) -> list[float]:
    h = [math.sqrt(z * x + (1 - z) * x * x) for x in p]
    scale = sum(h) / winners
    return [x * scale for x in h]


def apply_margin(
    probabilities: Sequence[float], margin: float, method: Method | str = Method.MULTIPLICATIVE,
    winners: int = 1,
) -> list[float]:
    """Implied probabilities (1/price) of a book with overround ``margin``.

    ``probabilities`` are fair and add up to ``winners``; the result adds up to
    ``winners · (1 + margin)``. ``margin`` must be ≥ 0; some methods cannot reach very
    large margins (a ValueError says so).
    """
    method = Method(method)
    p = [min(max(x, 0.0), 1.0) for x in probabilities]
    if margin < 0:
        raise ValueError("a margin to apply must be >= 0")
    target = winners * (1 + margin)
    if method is Method.MULTIPLICATIVE:
        return [x * (1 + margin) for x in p]
    if method is Method.ADDITIVE:
        return [x + winners * margin / len(p) for x in p]
    if margin == 0:
        return list(p)
    if method is Method.POWER:
        # π = p^e with e = 1/k in (0, 1]: Σπ grows as e falls; solve on t = 1 - e.
        t = _solve(lambda t: sum(x ** (1 - t) for x in p if x > 0) - target, 0.0, 1 - 1e-12,
                   "power")
        return [x ** (1 - t) if x > 0 else 0.0 for x in p]
    if method is Method.ODDS_RATIO:
        def implied(c: float) -> list[float]:
            return [c * x / (1 - x + c * x) for x in p]

        c = _solve(lambda c: sum(implied(c)) - target, 1.0, 2.0, "odds ratio", grow=True)
        return implied(c)
    z = _solve(lambda z: sum(_shin_implied(p, z, winners)) - target, 0.0, 1.0, "shin")
    return _shin_implied(p, z, winners)


def _shin_fair(implied: Sequence[float], z: float, winners: int) -> list[float]:
    total = sum(implied)
    out = []
    for x in implied:
        a = x * x * winners / total
        # (√(z² + 4(1-z)a) - z) / (2(1-z)), written so that it stays exact as z -> 1.
        out.append(2 * a / (z + math.sqrt(z * z + 4 * (1 - z) * a)) if a > 0 else 0.0)
    return out


def fair_probabilities(
    implied: Sequence[float], method: Method | str = Method.MULTIPLICATIVE, winners: int = 1,
) -> list[float]:
    """This module's own inverse of :func:`apply_margin`: fair probabilities adding up to ``winners``."""
    method = Method(method)
    total = sum(implied)
    n = len(implied)
    if method is Method.MULTIPLICATIVE or (method is Method.SHIN and total <= winners):
        return [x * winners / total for x in implied]
    if method is Method.ADDITIVE:
        return [x - (total - winners) / n for x in implied]
    if method is Method.POWER:
        # p = π^k, Σp falls as k grows; solve on u = log k.
        u = _solve(lambda u: winners - sum(x ** math.exp(u) for x in implied if x > 0), -30.0, 1.0,
                   "power", grow=True)
        return [x ** math.exp(u) if x > 0 else 0.0 for x in implied]
    if method is Method.ODDS_RATIO:
        def fair(c: float) -> list[float]:
            return [x / (c + x - c * x) for x in implied]

        c = _solve(lambda c: winners - sum(fair(c)), 1e-12, 2.0, "odds ratio", grow=True)
        return fair(c)
    z = _solve(lambda z: winners - sum(_shin_fair(implied, z, winners)), 0.0, 1.0, "shin")
    return _shin_fair(implied, z, winners)


def remove_margin(
    prices: Sequence[float | Decimal], method: Method | str = Method.MULTIPLICATIVE,
    winners: int = 1,
) -> list[float]:
    """Fair probabilities from a book's decimal prices, by ``method``.

    One-winner books go through penaltyblog's ``calculate_implied``; books with several
    winners, and Shin on a book without overround, through :func:`fair_probabilities`.
    """
    method = Method(method)
    implied = [1 / float(x) for x in prices]
    # Shin has no root without overround; a book without margin can come back a hair over
    # 1 from rounding (1 / (1 / p)), so "none" is within a billionth.
    if winners != 1 or (method is Method.SHIN and sum(implied) <= 1 + 1e-9):
        return fair_probabilities(implied, method, winners)
    from penaltyblog.implied import calculate_implied  # heavy import: only when asked

    result = calculate_implied([float(x) for x in prices], method=method.value)
    return [float(x) for x in result.probabilities]


def quote(
    probabilities: Sequence[float], margin: float, method: Method | str = Method.MULTIPLICATIVE,
    winners: int = 1,
) -> tuple[Decimal, ...]:
    """Decimal prices (cents, 1.01..1000) of a market priced with ``margin`` by ``method``."""
    return tuple(price_from_implied(x) for x in apply_margin(probabilities, margin, method, winners))
