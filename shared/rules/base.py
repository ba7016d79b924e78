"""The shape every sport's rules share: a market catalogue and score checks.

Rules here are stateless: they judge one message on its own. Transitions and
staleness need the applied state and live in the processors.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from shared.enums import OPEN_MARKET_STATUSES, EventStatus, MessageKind, Sport
from shared.markets import Market, MarketSettlement, parse_market_key
from shared.model import (
    BetStopBody,
    CancelBody,
    FeedMessage,
    FixtureBody,
    LiveBody,
    OddsBody,
    PeriodScore,
    RollbackBody,
    SettlementBody,
)

VOID_FACTORS = frozenset({Decimal(0), Decimal("0.5"), Decimal(1)})
ENDED = frozenset({EventStatus.ENDED, EventStatus.CLOSED})


def is_extension_market(market_type: str) -> bool:
    """Provider-specific markets (``uof:47``) carry any outcomes; only their shape is checked."""
    return ":" in market_type


@dataclass(frozen=True)
class MarketSpec:
    """A market type a sport offers: its required specifiers and its exact outcomes."""

    type: str
    outcomes: tuple[str, ...]
    specifiers: tuple[str, ...] = ()
    winners: int = 1  # outcomes that win together in a clean settlement (double chance: 2)
    description: str = ""


def _number_error(name: str, value: str, step: Decimal | None) -> str | None:
    try:
        number = Decimal(value)
    except ArithmeticError:
        return f"specifier {name}={value} is not a number"
    if not number.is_finite():
        return f"specifier {name}={value} is not a number"
    if name == "total" and number <= 0:
        return f"specifier total={value} must be positive"
    try:
        off_step = step is not None and number % step != 0
    except ArithmeticError:  # too many digits for the decimal context
        return f"specifier {name}={value} is out of range"
    if off_step:
        return f"specifier {name}={value} is not a multiple of {step}"
    return None


class SportRules:
    """Base class of the per-sport rules; subclasses fill in periods and markets."""

    sport: ClassVar[Sport]
    markets: ClassVar[Mapping[str, MarketSpec]]
    periods: ClassVar[tuple[str, ...]]  # scoring periods in play order
    breaks: ClassVar[frozenset[str]] = frozenset()
    numeric_specifiers: ClassVar[Mapping[str, Decimal | None]] = {
        "total": Decimal("0.5"),
        "hcp": Decimal("0.25"),
    }

    # -- dispatch ----------------------------------------------------------------------

    def check_message(self, msg: FeedMessage) -> list[str]:
        """Every stateless rule the message breaks, as readable reasons (empty: fine)."""
        body = msg.body
        if isinstance(body, FixtureBody):
            return self.check_fixture(body)
        if isinstance(body, LiveBody):
            return self.check_live(body)
        if isinstance(body, OddsBody):
            return [e for m in body.markets for e in self.check_market(m)]
        if isinstance(body, SettlementBody):
            return [e for m in body.markets for e in self.check_settlement(m)]
        if isinstance(body, BetStopBody | CancelBody | RollbackBody):
            return [e for k in body.market_keys or () for e in self.check_market_key(k)]
        assert msg.kind is MessageKind.ALIVE
        return []

    # -- fixtures ----------------------------------------------------------------------

    def check_fixture(self, body: FixtureBody) -> list[str]:
        """Fixture checks; ``best_of`` is tennis-only."""
        if body.best_of is not None and self.sport is not Sport.TENNIS:
            return [f"best_of is for tennis, not {self.sport.value}"]
        return []

    # -- markets -----------------------------------------------------------------------

    def check_market_key(self, key: str) -> list[str]:
        """Is this a market the sport has, with the specifiers its type needs?"""
        return list(self._market_key_errors(key))

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one instance per sport, process-long
    def _market_key_errors(self, key: str) -> tuple[str, ...]:
        return tuple(self._check_market_key(key))

    def _check_market_key(self, key: str) -> list[str]:
        mtype, specifiers = parse_market_key(key)
        if is_extension_market(mtype):
            return []
        spec = self.markets.get(mtype)
        if spec is None:
            offered = ", ".join(sorted(self.markets))
            return [f"market type {mtype!r} does not exist in {self.sport.value} ({offered})"]
        errors = []
        if set(specifiers) != set(spec.specifiers):
            want = ",".join(spec.specifiers) or "none"
            errors.append(f"market {key}: {mtype} takes specifiers {want}")
        for name, value in specifiers.items():
            if name in self.numeric_specifiers:
                error = _number_error(name, value, self.numeric_specifiers[name])
                if error:
                    errors.append(f"market {key}: {error}")
        return errors

    def check_market(self, market: Market) -> list[str]:
        """Market key plus outcomes: an open market lists exactly its type's outcomes."""
        return list(self.market_errors(
            market.market_key, tuple([o.id for o in market.outcomes]),
            market.status in OPEN_MARKET_STATUSES,
        ))

    # Every odds message is checked here, nearly always for a market seen before with the
    # same outcomes: the answer depends only on these three values, so it is cached (and
    # bounded, since keys come from providers).
    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one instance per sport, process-long
    def market_errors(self, key: str, outcome_ids: tuple[str, ...], is_open: bool) -> tuple[str, ...]:
        """:meth:`check_market` of a market given by its key, outcome ids and openness."""
        errors = self.check_market_key(key)
        spec = self.markets.get(key.split("|", 1)[0])
        if errors or spec is None:
            return tuple(errors)
        ids = set(outcome_ids)
        unknown = sorted(ids - set(spec.outcomes))
        if unknown:
            errors.append(
                f"market {key}: outcome {', '.join(unknown)} is not an outcome "
                f"of {self.sport.value} {spec.type} ({', '.join(spec.outcomes)})"
            )
        elif is_open and ids != set(spec.outcomes):
            missing = ", ".join(o for o in spec.outcomes if o not in ids)
            errors.append(f"market {key}: outcomes missing: {missing}")
        return tuple(errors)

    def check_settlement(self, settlement: MarketSettlement) -> list[str]:
        """Outcomes belong to the market; void and dead-heat factors add up."""
        errors = self.check_market_key(settlement.market_key)
        key = settlement.market_key
        for o in settlement.outcomes:
            if o.void_factor not in VOID_FACTORS:
                errors.append(f"settlement of {key}: void_factor {o.void_factor} not 0, 0.5 or 1")
        spec = self.markets.get(settlement.market_key.split("|", 1)[0])
        if errors or spec is None:
            return errors
        unknown = sorted({o.outcome_id for o in settlement.outcomes} - set(spec.outcomes))
        if unknown:
            return [f"settlement of {key}: outcome {', '.join(unknown)} is not in {spec.type}"]
        if not settlement.fully_void() and settlement.win_weight() != spec.winners:
            errors.append(
                f"settlement of {key}: winning shares add up to {settlement.win_weight()}, "
                f"expected {spec.winners}"
            )
        return errors

    # -- scores ------------------------------------------------------------------------

    def check_live(self, body: LiveBody) -> list[str]:
        """Period names, order, totals and the sport's own score shape."""
        errors: list[str] = []
        if body.period is not None and body.period not in self.periods + tuple(self.breaks):
            errors.append(f"period {body.period!r} does not exist in {self.sport.value}")
        names = [p.period for p in body.score.periods]
        for name in names:
            if name not in self.periods:
                errors.append(f"score period {name!r} does not exist in {self.sport.value}")
        if errors:
            return errors
        if names != list(self.periods[: len(names)]):
            return [f"score periods {names} are not in order without gaps"]
        if body.status is EventStatus.NOT_STARTED and (names or body.score.home or body.score.away):
            return ["a match that has not started has no score"]
        errors.extend(self.check_score_shape(body))
        if errors:
            return errors
        if names:
            home, away = self.totals(body.score.periods, body.status)
            if (home, away) != (body.score.home, body.score.away):
                errors.append(
                    f"score {body.score.home}-{body.score.away} does not match its periods "
                    f"({home}-{away})"
                )
        return errors

    def totals(self, periods: Sequence[PeriodScore], status: EventStatus) -> tuple[int, int]:
        """The match score the periods add up to (default: plain sum)."""
        return sum(p.home for p in periods), sum(p.away for p in periods)

    def check_score_shape(self, body: LiveBody) -> list[str]:
        """Sport-specific checks beyond names and order (overridden per sport)."""
        if body.game is not None:
            return [f"game points are for tennis, not {self.sport.value}"]
        return []


def extra_periods_need_tie(
    periods: Sequence[PeriodScore], regular: int, what: str
) -> list[str]:
    """Overtime (and beyond) is played only when the score is level before it."""
    home = away = 0
    for index, period in enumerate(periods):
        if index >= regular and home != away:
            return [f"{period.period} played although the {what} was not tied ({home}-{away})"]
        home, away = home + period.home, away + period.away
    return []
