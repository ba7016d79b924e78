"""Markets, outcomes and prices: market-key normalisation and the price type.

A market's identity is its ``market_key``: the market type followed by its
specifiers sorted by name, each value normalised (``totals|total=2.5``). Two
providers that write ``total=2.50`` and ``total=2.5`` therefore name one market.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from shared.enums import MarketStatus, SettlementResult

MIN_PRICE = Decimal("1.001")
MAX_PRICE = Decimal("1000")

_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9_:]{0,47}$")
_SPEC_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_SPEC_VALUE_RE = re.compile(r"^[A-Za-z0-9_.:+\-]{1,64}$")
_NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")


# Validators below are pure and see the same few hundred prices and market keys over and
# over; caching them takes most of the model's cost off the ingestion and processor hot
# paths. Decimal('2.5') == Decimal('2.50') share a hash and normalise alike, so a cached
# result is right for every spelling. Failures raise and are never cached.
@lru_cache(maxsize=16384)
def _check_price(value: Decimal) -> Decimal:
    if not value.is_finite() or not MIN_PRICE <= value <= MAX_PRICE:
        raise ValueError(f"price {value} is outside {MIN_PRICE}..{MAX_PRICE}")
    if value.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValueError(f"price {value} has more than 4 decimal places")
    # One spelling per price ("2.50" and "2.5" hash and serialise alike), never "2E+2".
    return Decimal(format(value.normalize(), "f"))


# Decimal odds. Never a float: 1.1 + 2.2 must not become 3.3000000000000003 in a ledger.
Price = Annotated[Decimal, AfterValidator(_check_price)]


def normalise_specifier_value(value: str) -> str:
    """Normalise one specifier value: numbers lose redundant zeros and a leading plus."""
    value = value.strip()
    if _NUMBER_RE.match(value):
        try:
            number = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
            return value
        text = format(number.normalize(), "f")
        return "0" if text in {"-0", "+0"} else text
    return value


def market_key(market_type: str, specifiers: Mapping[str, str] | None = None) -> str:
    """Build the canonical key ``type|name=value|...`` with specifiers sorted by name."""
    mtype = market_type.strip().lower()
    if not _TYPE_RE.match(mtype):
        raise ValueError(f"market type {market_type!r} is not a valid market type")
    parts = [mtype]
    for name in sorted(specifiers or {}):
        clean_name = name.strip().lower()
        value = normalise_specifier_value(str((specifiers or {})[name]))
        if not _SPEC_NAME_RE.match(clean_name):
            raise ValueError(f"specifier name {name!r} is not valid")
        if not _SPEC_VALUE_RE.match(value):
            raise ValueError(f"specifier {clean_name} has invalid value {value!r}")
        parts.append(f"{clean_name}={value}")
    return "|".join(parts)


def parse_market_key(key: str) -> tuple[str, dict[str, str]]:
    """Split a market key into its type and specifiers (inverse of :func:`market_key`)."""
    mtype, *rest = key.split("|")
    specifiers: dict[str, str] = {}
    for part in rest:
        name, sep, value = part.partition("=")
        if not sep or not name:
            raise ValueError(f"market key {key!r}: specifier {part!r} is not name=value")
        if name.strip().lower() in specifiers:
            raise ValueError(f"market key {key!r}: specifier {name!r} appears twice")
        specifiers[name.strip().lower()] = value
    return mtype, specifiers


@lru_cache(maxsize=65536)
def normalise_market_key(key: str) -> str:
    """Return the canonical form of a possibly unnormalised market key."""
    mtype, specifiers = parse_market_key(key)
    try:
        return market_key(mtype, specifiers)
    except ValueError as error:
        raise ValueError(f"market key {key!r}: {error}") from None


MarketKey = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(normalise_market_key)]
OutcomeId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:.\-+]+$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Outcome(_Frozen):
    """One selection of a market with its decimal price (None while not priced)."""

    id: OutcomeId
    price: Price | None = None
    active: bool = True

    @model_validator(mode="after")
    def _active_needs_price(self) -> Outcome:
        if self.active and self.price is None:
            raise ValueError(f"outcome {self.id}: an active outcome needs a price")
        return self


class Market(_Frozen):
    """A market as a provider sends it: present markets list all their outcomes."""

    market_key: MarketKey
    status: MarketStatus = MarketStatus.ACTIVE
    outcomes: tuple[Outcome, ...] = ()

    @model_validator(mode="after")
    def _unique_outcomes(self) -> Market:
        ids = [o.id for o in self.outcomes]
        if len(ids) != len(set(ids)):
            raise ValueError(f"market {self.market_key}: duplicate outcome ids")
        return self

    @property
    def type(self) -> str:
        """The market type, the part of the key before the first ``|``."""
        return self.market_key.split("|", 1)[0]

    @property
    def specifiers(self) -> dict[str, str]:
        """The specifiers of the market key as a dict."""
        return parse_market_key(self.market_key)[1]

    @classmethod
    def of(cls, market_type: str, specifiers: Mapping[str, str] | None = None, **kw: Any) -> Market:
        """Build a market from its type and specifiers."""
        return cls(market_key=market_key(market_type, specifiers), **kw)


Factor = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)]


class OutcomeSettlement(_Frozen):
    """Result of one outcome: won or lost, with void and dead-heat factors (UOF semantics).

    ``void_factor`` is the share of the stake returned (0.5: half void); the rest is
    settled by ``result``; ``dead_heat_factor`` scales a win shared by several.
    """

    outcome_id: OutcomeId
    result: SettlementResult
    void_factor: Factor = Decimal(0)
    dead_heat_factor: Factor | None = None

    @model_validator(mode="after")
    def _factors(self) -> OutcomeSettlement:
        if self.dead_heat_factor is not None:
            if self.dead_heat_factor == 0:
                raise ValueError(f"outcome {self.outcome_id}: dead_heat_factor must be > 0")
            if self.result is not SettlementResult.WON:
                raise ValueError(f"outcome {self.outcome_id}: dead heat applies to a win only")
        return self


class MarketSettlement(_Frozen):
    """The settled outcomes of one market."""

    market_key: MarketKey
    outcomes: tuple[OutcomeSettlement, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_outcomes(self) -> MarketSettlement:
        ids = [o.outcome_id for o in self.outcomes]
        if len(ids) != len(set(ids)):
            raise ValueError(f"settlement of {self.market_key}: duplicate outcome ids")
        return self

    def win_weight(self) -> Decimal:
        """Sum of the won outcomes' dead-heat factors: 1 for a single clean winner."""
        return sum(
            (o.dead_heat_factor or Decimal(1)
             for o in self.outcomes if o.result is SettlementResult.WON),
            Decimal(0),
        )

    def fully_void(self) -> bool:
        """True when every outcome's stake is returned in full."""
        return all(o.void_factor == 1 for o in self.outcomes)
