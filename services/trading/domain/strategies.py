"""Strategies: what each one bets on, and how much (pure).

A strategy is configured in a TOML file (``infra/trading/strategies.toml``, path from
``SPORTSFEED_TRADING_STRATEGIES_FILE``), one ``[[strategy]]`` table each:

- **expected value** (``kind = "expected_value"``): bet when ``p * price - 1 >=
  threshold``; the stake is ``stake_share`` of the bankroll;
- **fractional Kelly** (``kind = "kelly"``): bet when the edge ``p * price - 1 >=
  min_edge``; the stake is ``kelly_fraction * edge / (price - 1)`` of the bankroll (the
  Kelly share), never more than ``max_stake_share``.

``p`` is the model's probability of the outcome; for a line with pushes or half stakes
it is the effective one (``shared.fair``: ``1 / fair price``), so ``p * price - 1`` is
the expected return per unit of stake at risk, and the Kelly share is that of the
stake at risk. "Bankroll" is the strategy's available balance: its starting bankroll
plus what settled, minus the stakes of its open bets (those are reserved).

Filters: ``sports`` (empty: all), ``markets`` (market types such as ``1x2`` or exact
keys such as ``totals|total=2.5``; empty: all), ``phase`` (``pre_match``, ``in_play``
or ``any``), ``min_price``/``max_price``, and ``max_bets_per_outcome`` (1: one bet per
strategy, market and outcome of an event).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.enums import Sport
from shared.markets import normalise_market_key
from shared.trading.model import BetPhase, StrategyKind

CENT = Decimal("0.01")
Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
PhaseFilter = Literal["pre_match", "in_play", "any"]


class StrategyError(ValueError):
    """The strategies file cannot be used; the message says where and why."""


class Strategy(BaseModel):
    """One configured strategy (see the module docstring for the fields)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]
    kind: StrategyKind
    bankroll: Annotated[Decimal, Field(gt=0, le=Decimal("1e12"), decimal_places=2)]
    threshold: Annotated[float, Field(ge=-1, le=10, allow_inf_nan=False)] | None = None
    stake_share: Share | None = None
    min_edge: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] | None = None
    kelly_fraction: Share | None = None
    max_stake_share: Share | None = None
    sports: tuple[Sport, ...] = ()
    markets: tuple[str, ...] = ()
    phase: PhaseFilter = "any"
    min_price: Annotated[Decimal, Field(ge=1)] = Decimal("1.01")
    max_price: Annotated[Decimal, Field(ge=1)] = Decimal("1000")
    max_bets_per_outcome: Annotated[int, Field(ge=1, le=1000)] = 1
    # Bet only where the model knows this many of the two sides from results (0: also on
    # its league averages, e.g. a sport's prior or a side never seen).
    min_sides_rated: Annotated[int, Field(ge=0, le=2)] = 0
    min_stake: Annotated[Decimal, Field(ge=CENT)] = CENT
    description: Annotated[str, Field(max_length=500)] = ""

    @field_validator("markets")
    @classmethod
    def _canonical_markets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normalise_market_key(v) for v in value)

    @model_validator(mode="after")
    def _kind_fields(self) -> Strategy:
        needed = {
            StrategyKind.EXPECTED_VALUE: ("threshold", "stake_share"),
            StrategyKind.KELLY: ("min_edge", "kelly_fraction", "max_stake_share"),
        }
        missing = [f for f in needed[self.kind] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.kind.value} strategy needs {', '.join(missing)}")
        other = [f for kind, fields in needed.items() if kind is not self.kind for f in fields
                 if getattr(self, f) is not None]
        if other:
            raise ValueError(f"{', '.join(other)} do not apply to a {self.kind.value} strategy")
        if self.min_price > self.max_price:
            raise ValueError("min_price is above max_price")
        return self

    def refuses(self, sport: Sport, market_key: str, phase: BetPhase, price: Decimal) -> str | None:
        """Why the filters leave this price out (None: it passes them)."""
        if self.sports and sport not in self.sports:
            return "sport"
        if self.markets and market_key not in self.markets \
                and market_key.split("|", 1)[0] not in self.markets:
            return "market"
        if self.phase != "any" and self.phase != phase.value:
            return "phase"
        if not self.min_price <= price <= self.max_price:
            return "price_range"
        return None

    def stake(self, probability: float, price: Decimal, bankroll: Decimal) -> tuple[Decimal | None, str]:
        """The stake this strategy puts on ``price`` (None and why when it does not bet)."""
        gain = edge(probability, price)
        if self.kind is StrategyKind.EXPECTED_VALUE:
            assert self.threshold is not None
            assert self.stake_share is not None
            if gain < self.threshold:
                return None, "no_edge"
            share = self.stake_share
        else:
            assert self.min_edge is not None
            assert self.kelly_fraction is not None
            assert self.max_stake_share is not None
            if gain < self.min_edge or gain <= 0:
                return None, "no_edge"
            share = min(self.kelly_fraction * kelly_share(probability, price), self.max_stake_share)
        if bankroll <= 0:
            return None, "no_funds"
        amount = (bankroll * Decimal(repr(share))).quantize(CENT, rounding=ROUND_DOWN)
        if amount < self.min_stake:
            return None, "below_min_stake"
        return min(amount, bankroll), "placed"


def edge(probability: float, price: Decimal) -> float:
    """Expected return of a unit stake at ``price`` if ``probability`` is right: ``p x price - 1``."""
    return probability * float(price) - 1.0


def kelly_share(probability: float, price: Decimal) -> float:
    """The Kelly share of the bankroll, ``(p x price - 1) / (price - 1)`` (0 without an edge)."""
    odds = float(price) - 1.0
    return max(0.0, edge(probability, price) / odds) if odds > 0 else 0.0


def parse_strategies(text: str, source: str = "strategies") -> tuple[Strategy, ...]:
    """Strategies from TOML text: ``[[strategy]]`` tables with unique names."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StrategyError(f"{source}: not TOML: {exc}") from None
    tables = document.get("strategy")
    extra = sorted(set(document) - {"strategy"})
    if extra:
        raise StrategyError(f"{source}: unknown top-level keys {', '.join(extra)}")
    if not isinstance(tables, list) or not tables:
        raise StrategyError(f"{source}: no [[strategy]] tables")
    strategies: list[Strategy] = []
    for n, table in enumerate(tables, 1):
        try:
            # Money from TOML as text: a float bankroll would not be exact.
            values = {k: str(v) if k in _DECIMALS and isinstance(v, int | float) else v
                      for k, v in table.items()}
            strategies.append(Strategy.model_validate(values))
        except ValidationError as exc:
            name = table.get("name", f"#{n}")
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'strategy'}: {e['msg']}"
                                 for e in exc.errors())
            raise StrategyError(f"{source}: strategy {name}: {problems}") from None
    names = [s.name for s in strategies]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise StrategyError(f"{source}: strategy names used twice: {', '.join(twice)}")
    return tuple(strategies)


_DECIMALS = frozenset({"bankroll", "min_price", "max_price", "min_stake"})


def load_strategies(path: Path) -> tuple[Strategy, ...]:
    """The strategies of a TOML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StrategyError(f"cannot read strategies file {path}: {exc}") from None
    return parse_strategies(text, str(path))


def find(strategies: Sequence[Strategy], name: str) -> Strategy:
    """The strategy called ``name``."""
    for strategy in strategies:
        if strategy.name == name:
            return strategy
    raise StrategyError(f"no strategy {name!r} (known: {', '.join(s.name for s in strategies)})")
