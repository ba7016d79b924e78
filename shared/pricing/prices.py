"""Decimal prices: where a probability leaves the library for the canonical model.

Probabilities are floats everywhere inside the library; a price is the canonical
model's ``Price`` (a ``Decimal``, never a float, in its own spelling): rounded to cents
and clamped to 1.01..1000 so that every price the platform publishes validates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from pydantic import TypeAdapter

from shared.markets import Price

MIN_PRICE = Decimal("1.01")
MAX_PRICE = Decimal("1000")
CENT = Decimal("0.01")
_PRICE: TypeAdapter[Decimal] = TypeAdapter(Price)


def price_from_implied(implied: float) -> Decimal:
    """The price ``1 / implied``, 2 places (half-even), clamped to 1.01..1000."""
    if implied <= 0:
        return MAX_PRICE
    raw = Decimal(1 / implied).quantize(CENT, rounding=ROUND_HALF_EVEN)
    # In the canonical model's own spelling (2.70 -> 2.7), so a price reads back identical.
    return _PRICE.validate_python(min(MAX_PRICE, max(MIN_PRICE, raw)))


def price_of(probability: float, margin: float) -> Decimal:
    """The decimal price of one outcome: ``1 / (p * (1 + margin))``, 2 places, clamped.

    The proportional (multiplicative) method: every outcome's implied probability is
    inflated by the same factor, so the book's overround is ``margin`` whatever the
    favourite. Other methods: :func:`shared.pricing.margins.quote`.
    """
    if probability <= 0:
        return MAX_PRICE
    return price_from_implied(probability * (1 + margin))


def prices_with_margin(probabilities: Sequence[float], margin: float) -> tuple[Decimal, ...]:
    """Prices of a market's outcomes; their ``sum(1/price)`` is ``winners * (1 + margin)``.

    ``probabilities`` add up to the number of outcomes that win together (1 for a
    winner market, 2 for double chance); they are not renormalised here.
    """
    return tuple(price_of(p, margin) for p in probabilities)


def overround(prices: Iterable[Decimal]) -> Decimal:
    """``sum(1/price)``: 1 for a fair book, ``1 + margin`` for a priced one."""
    return sum((1 / p for p in prices), Decimal(0))
