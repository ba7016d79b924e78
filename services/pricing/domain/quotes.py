"""A :class:`~shared.fair.ModelPrices` from the model's outlook: fair and margined prices.

For each market: every outcome's fair probability (the effective one for lines with
pushes: ``1 / fair_price``), its fair price, and its price with the configured margin
spread by the configured method (:func:`shared.pricing.margins.quote`; should a method
be unable to reach the margin for some extreme book, the proportional method is used
for that market). Probabilities are rounded to six places. An outcome whose fair price
would exceed 1,000 (a probability under 0.1 %) has no price, and an ended match has
certain probabilities and no prices at all: nothing is left to bet on.

``expected`` holds, by side, the goals (points, games) still expected (``home``,
``away``) and the expected final score (``home_final``, ``away_final``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shared.enums import Sport
from shared.fair import FairMarket, FairOutcome, ModelPrices, Phase
from shared.live import construct
from shared.pricing.dist import mean_of
from shared.pricing.margins import Method, quote
from shared.pricing.markets import MarketLine
from shared.pricing.outlook import Outlook
from shared.pricing.prices import price_from_implied
from shared.rules import rules_for

PRICE_FLOOR = 0.001  # below this probability the fair price passes 1,000: no price


def expected_scores(outlook: Outlook, score: tuple[int, int]) -> dict[str, float]:
    """Still to come and final, by side, from the outlook's total and margin."""
    total, margin = mean_of(outlook.total), mean_of(outlook.margin)
    home_final, away_final = (total + margin) / 2, (total - margin) / 2
    return {
        "home": round(max(home_final - score[0], 0.0), 4),
        "away": round(max(away_final - score[1], 0.0), 4),
        "home_final": round(home_final, 4),
        "away_final": round(away_final, 4),
    }


@dataclass(frozen=True)
class Probabilities:
    """One market's fair probabilities by outcome id (they add up to ``winners``)."""

    key: str
    outcomes: dict[str, float]
    winners: int = 1


def market_probabilities(sport: Sport, lines: Iterable[MarketLine],
                         outlook: Outlook) -> list[Probabilities]:
    """Every line's probabilities, named by the sport's rules.

    :func:`shared.pricing.markets.price_markets` without each line's settlement law,
    which the published prices do not carry: half the library's cost per line.
    """
    markets = rules_for(sport).markets
    out = []
    for line in lines:
        spec = markets[line.kind]
        out.append(Probabilities(line.key, dict(zip(spec.outcomes, line.probabilities(outlook),
                                                    strict=True)), spec.winners))
    return out


def fair_market(market: Probabilities, margin: float, method: Method, *,
                priced: bool = True) -> FairMarket:
    """One market's outcomes with fair probabilities and, unless not ``priced``, prices."""
    ids = list(market.outcomes)
    probs = [min(max(p, 0.0), 1.0) for p in market.outcomes.values()]
    margined: tuple[Decimal | None, ...] = (None,) * len(ids)
    if priced:
        try:
            margined = quote(probs, margin, method, market.winners)
        except ValueError:
            margined = quote(probs, margin, Method.MULTIPLICATIVE, market.winners)
    outcomes = []
    for oid, p, price in zip(ids, probs, margined, strict=True):
        has_price = priced and p >= PRICE_FLOOR
        # Valid by construction (ids from the rules, p clamped to [0, 1], prices from
        # price_from_implied): built without validation, the live path's largest saving.
        outcomes.append(construct(FairOutcome, {
            "id": oid, "probability": round(p, 6),
            "fair_price": price_from_implied(p) if has_price else None,
            "price": price if has_price else None,
        }))
    return construct(FairMarket, {"market_key": market.key, "outcomes": tuple(outcomes)})


def model_prices(
    *, event_id: str, sport: Sport, event_version: int, phase: Phase, model: str,
    training_size: int, outlook: Outlook, markets: Iterable[Probabilities],
    score: tuple[int, int], margin: float, method: Method, now: datetime, sides_rated: int = 0,
) -> ModelPrices:
    """The ModelPrices of one event at one moment."""
    priced = phase != "ended"
    return ModelPrices(
        event_id=event_id, sport=sport, event_version=event_version, phase=phase,
        model=model, training_size=training_size, sides_rated=sides_rated,
        expected=expected_scores(outlook, score),
        margin=Decimal(str(margin)),
        markets=tuple(fair_market(m, margin, method, priced=priced) for m in markets),
        computed_at=now,
    )
