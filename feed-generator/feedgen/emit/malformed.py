"""Broken messages, for the ``malformed`` fault: each must be refused by ingestion.

A variant is made from a real message of the match, in the match's format:

- ``syntax``: the encoded payload cut short (unreadable JSON or XML: 400);
- ``bad_price``: an outcome priced 0.5, below the minimum decimal price;
- ``draw_in_moneyline``: a moneyline with a draw (basketball, tennis, ice hockey have
  none); football gets a 1x2 without its draw instead;
- ``bad_score``: a live score that does not add up to its periods.

The invalid messages are assembled with ``model_construct`` (validation would refuse
them here already) and go through the same encoders as valid ones.
"""

from __future__ import annotations

import random
from decimal import Decimal

from feedgen.emit import Fmt, batch, encode
from shared.enums import MarketStatus, MessageKind, Sport
from shared.markets import Market, Outcome
from shared.model import FeedMessage, LiveBody, OddsBody, Score

VARIANTS = ("syntax", "bad_price", "draw_in_moneyline", "bad_score")


def variants_for(message: FeedMessage) -> tuple[str, ...]:
    """The variants that can be made from ``message``."""
    if message.kind is MessageKind.ODDS:
        return ("syntax", "bad_price", "draw_in_moneyline")
    if message.kind is MessageKind.LIVE:
        return ("syntax", "bad_score")
    return ("syntax",)


def _odds(message: FeedMessage, market: Market) -> FeedMessage:
    body = OddsBody.model_construct(markets=(market,), producer=getattr(message.body, "producer",
                                                                        None))
    return message.model_copy(update={"kind": MessageKind.ODDS, "body": body})


def broken_message(message: FeedMessage, variant: str, message_id: str) -> FeedMessage:
    """``message`` made invalid in the way ``variant`` says (not for ``syntax``)."""
    message = message.model_copy(update={"message_id": message_id})
    if variant == "bad_price":
        assert isinstance(message.body, OddsBody)
        market = message.body.markets[0]
        outcomes = tuple(Outcome.model_construct(id=o.id, price=Decimal("0.5"), active=True)
                         for o in market.outcomes)
        return _odds(message, Market.model_construct(market_key=market.market_key,
                                                     status=MarketStatus.ACTIVE,
                                                     outcomes=outcomes))
    if variant == "draw_in_moneyline":
        ids: tuple[str, ...]
        if message.sport is Sport.FOOTBALL:
            key, ids = "1x2", ("home", "away")
        else:
            key, ids = "moneyline", ("home", "draw", "away")
        outcomes = tuple(Outcome.model_construct(id=o, price=Decimal("2.9"), active=True)
                         for o in ids)
        return _odds(message, Market.model_construct(market_key=key, status=MarketStatus.ACTIVE,
                                                     outcomes=outcomes))
    if variant == "bad_score":
        assert isinstance(message.body, LiveBody)
        score = message.body.score
        wrong = Score.model_construct(home=score.home + 1, away=score.away, periods=score.periods)
        if not score.periods:  # a score without periods is not checked against them
            wrong = Score.model_construct(home=-1, away=score.away, periods=())
        body = message.body.model_copy(update={"score": wrong})
        return message.model_copy(update={"body": body})
    raise ValueError(f"unknown malformed variant {variant!r}")


def malformed_payload(fmt: Fmt, message: FeedMessage, variant: str, message_id: str,
                      rng: random.Random) -> bytes:
    """A whole request body (one message) that ingestion must refuse."""
    if variant == "syntax":
        whole = batch(fmt, [encode(fmt, message.model_copy(update={"message_id": message_id}))])
        cut = int(len(whole) * rng.uniform(0.3, 0.8))
        return whole[:cut]
    return batch(fmt, [encode(fmt, broken_message(message, variant, message_id))])


def choose_variant(message: FeedMessage, rng: random.Random) -> str:
    """A variant that fits ``message``, chosen by ``rng``."""
    return rng.choice(variants_for(message))
