"""What a sport model says about the end of a match, from the state it is in now.

Every sport's model reduces to an :class:`Outlook`: the result the three-way market
settles on, the winner of the two-way one, and the distributions of the total and the
margin that totals and handicaps settle on. The markets (:mod:`shared.pricing.markets`)
read only this, so they are the same code for all four sports.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.pricing.dist import Dist


@dataclass(frozen=True)
class Outlook:
    """The end of a match as probabilities.

    ``three_way`` is the result the 1x2 market settles on (90 minutes in football,
    regulation in ice hockey); ``winner`` is the moneyline (home, away);
    ``total`` and ``margin`` (home minus away) are the quantities totals and handicaps
    settle on; ``btts`` is P(both score) in football; ``set_margin`` is tennis's sets
    won by home minus away (the set handicap).
    """

    winner: tuple[float, float]
    total: Dist
    margin: Dist
    three_way: tuple[float, float, float] | None = None
    btts: float | None = None
    set_margin: Dist | None = None
