"""Small random helpers the simulators share; each takes the match's own generator."""

from __future__ import annotations

import math
import random


def poisson_sample(rng: random.Random, lam: float) -> int:
    """A Poisson(lam) draw (Knuth's method: the means used here are small)."""
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def shootout(
    rng: random.Random, p_home: float, p_away: float, *, rounds: int
) -> list[tuple[int, int]]:
    """Kick-by-kick running score of a shoot-out: ``rounds`` each, then sudden death.

    Home kicks first. It stops as soon as one side cannot be caught, so the last entry
    always has a winner.
    """
    home = away = 0
    out: list[tuple[int, int]] = []
    for n in range(1, 100):
        home += rng.random() < p_home
        out.append((home, away))
        if n <= rounds and (home > away + (rounds - n + 1) or away > home + (rounds - n)):
            return out
        away += rng.random() < p_away
        out.append((home, away))
        if n <= rounds and (home > away + (rounds - n) or away > home + (rounds - n)):
            return out
        if n >= rounds and home != away:
            return out
    # Astronomically unlikely; decide it rather than loop for ever.
    out.append((home + 1, away))
    return out
