"""The platform's own prices: what the pricing service publishes and trading reads.

For each event it can price, the pricing service publishes a :class:`ModelPrices` to
``sportsfeed.<sport>.model`` (key = event id; :meth:`shared.topics.Topics.model`) and
keeps the latest in Redis under ``<prefix>:model:<event_id>`` (:func:`model_key`):
pre-match, and again after every applied live change. ``event_version`` names the
event's feed version the prices were computed from, so a consumer can tell fresh from
stale; ``model`` names the fitted model (its version) that produced them.

Probabilities are floats (a model's opinion, not money); prices are ``Decimal`` like
every price of the platform. For a line with pushes or half stakes, ``probability`` is
the effective one, ``1 / fair_price``: the price at which a bet on it breaks even.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.enums import Sport
from shared.markets import OutcomeId, Price
from shared.model import Identifier, UtcDatetime

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Phase = Literal["pre_match", "in_play", "ended"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FairOutcome(_Frozen):
    """One outcome's fair probability, fair price, and price with the configured margin."""

    id: OutcomeId
    probability: Probability
    fair_price: Price | None = None  # None when the probability is (about) 0
    price: Price | None = None  # fair price with the service's margin applied


class FairMarket(_Frozen):
    """The model's view of one market (canonical market key, every outcome)."""

    market_key: str
    outcomes: tuple[FairOutcome, ...]


class ModelPrices(_Frozen):
    """The model's prices of one event at one moment, for every market it can price."""

    event_id: Identifier
    sport: Sport
    event_version: Annotated[int, Field(ge=0)]
    phase: Phase
    model: Annotated[str, Field(min_length=1, max_length=128)]
    training_size: Annotated[int, Field(ge=0)]
    # How many of the event's two sides the model has a rating for (it learned them from
    # results); an unrated side is priced as the league's average side.
    sides_rated: Annotated[int, Field(ge=0, le=2)] = 0
    expected: dict[str, float] = Field(
        default_factory=dict, description="expected goals / points / games left, by side")
    margin: Decimal = Decimal(0)
    markets: tuple[FairMarket, ...] = ()
    computed_at: UtcDatetime


def model_key(prefix: str, event_id: str) -> str:
    """Redis key of an event's latest model prices."""
    return f"{prefix}:model:{event_id}"
