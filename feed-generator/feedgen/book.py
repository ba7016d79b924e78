"""A match's book: which markets it offers, their prices now, and how they settle.

A sport model describes the future as an :class:`~shared.pricing.outlook.Outlook`
(probabilities of the result, distributions of total and margin; the maths is
``shared.pricing``'s); the book turns it into priced markets with the outcome ids of
``shared.rules``, and a :class:`FinalResult` into
settlements. The set of market keys is fixed before kick-off, so every odds message
of a match lists the same markets: a market whose result is already certain is
``deactivated`` rather than dropped, and stays settleable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from shared.enums import MarketStatus, SettlementResult, Sport
from shared.markets import Market, MarketSettlement, Outcome, OutcomeSettlement
from shared.pricing.lines import LineResult, settle_handicap, settle_line
from shared.pricing.markets import MarketLine
from shared.pricing.outlook import Outlook
from shared.pricing.prices import prices_with_margin
from shared.rules import rules_for

__all__ = ["DECIDED", "Book", "FinalResult", "MarketLine", "Outlook", "Quote", "settle_market"]

# A market whose favourite is this likely is treated as decided and deactivated.
DECIDED = 0.985

Quote = tuple[MarketStatus, tuple[Decimal, ...]]  # status and prices, in outcome order


@dataclass(frozen=True)
class FinalResult:
    """What the markets settle on once the match is over."""

    winner: Literal["home", "away"] | None
    total: int
    margin: int
    regular: tuple[int, int] | None = None  # the score 1x2/double chance/dnb/btts settle on
    set_margin: int | None = None


def settle_market(line: MarketLine, result: FinalResult, outcomes: tuple[str, ...]) -> MarketSettlement:
    """Settle one market on the final result (Asian rules for pushes)."""
    won, lost = SettlementResult.WON, SettlementResult.LOST
    zero = Decimal(0)
    if line.kind in ("totals", "handicap", "set_handicap"):
        assert line.line is not None
        if line.kind == "totals":
            pair = settle_line(result.total, line.line)
        else:
            value = result.margin if line.kind == "handicap" else result.set_margin
            assert value is not None
            pair = settle_handicap(value, line.line)
        return _settlement(line.key, dict(zip(outcomes, pair, strict=True)))
    if line.kind == "moneyline":
        results = {o: LineResult(won if o == result.winner else lost, zero) for o in outcomes}
        return _settlement(line.key, results)
    assert result.regular is not None
    home, away = result.regular
    if line.kind == "btts":
        yes = home > 0 and away > 0
        return _settlement(line.key, {"yes": _plain(yes), "no": _plain(not yes)})
    side = "home" if home > away else "away" if away > home else "draw"
    if line.kind == "1x2":
        return _settlement(line.key, {o: _plain(o == side) for o in outcomes})
    if line.kind == "double_chance":
        return _settlement(line.key, {o: _plain(side in o.split("_or_")) for o in outcomes})
    if side == "draw":  # draw no bet: stakes back
        void = LineResult(lost, Decimal(1))
        return _settlement(line.key, {o: void for o in outcomes})
    return _settlement(line.key, {o: _plain(o == side) for o in outcomes})


def _plain(win: bool) -> LineResult:
    return LineResult(SettlementResult.WON if win else SettlementResult.LOST, Decimal(0))


def _settlement(key: str, results: dict[str, LineResult]) -> MarketSettlement:
    return MarketSettlement(
        market_key=key,
        outcomes=tuple(
            OutcomeSettlement(outcome_id=o, result=r.result, void_factor=r.void_factor)
            for o, r in results.items()
        ),
    )


@dataclass(frozen=True)
class Book:
    """The markets one match offers, priced with one bookmaker margin."""

    sport: Sport
    lines: tuple[MarketLine, ...]
    margin: float

    def outcome_ids(self, line: MarketLine) -> tuple[str, ...]:
        """The outcome ids the sport's rules require for this market type."""
        return rules_for(self.sport).markets[line.kind].outcomes

    @property
    def keys(self) -> tuple[str, ...]:
        """Every market key of the book, in book order."""
        return tuple(line.key for line in self.lines)

    def quotes(self, outlook: Outlook) -> dict[str, Quote]:
        """Every market's status and prices from ``outlook``; decided ones are deactivated."""
        out: dict[str, Quote] = {}
        for line in self.lines:
            probs = line.probabilities(outlook)
            if max(probs) >= DECIDED:
                out[line.key] = (MarketStatus.DEACTIVATED, ())
            else:
                out[line.key] = (MarketStatus.ACTIVE, prices_with_margin(probs, self.margin))
        return out

    def market(self, key: str, quote: Quote) -> Market:
        """The market ``key`` at ``quote``.

        Built without re-validation: the book guarantees what the validators check
        (keys from :func:`market_key`, the rules' outcome ids, prices of 2 places in
        1.01..1000, a price for every active outcome). The envelope still runs the
        sport's rules on it, and tests validate every generated message in full.
        """
        status, prices = quote
        ids = self.outcome_ids(self._lines[key])
        if prices:
            outcomes = tuple(Outcome.model_construct(id=o, price=p, active=True)
                             for o, p in zip(ids, prices, strict=True))
        else:
            outcomes = tuple(Outcome.model_construct(id=o, price=None, active=False) for o in ids)
        return Market.model_construct(market_key=key, status=status, outcomes=outcomes)

    def markets(self, outlook: Outlook) -> tuple[Market, ...]:
        """Every market priced from ``outlook``."""
        return tuple(self.market(k, q) for k, q in self.quotes(outlook).items())

    @property
    def _lines(self) -> dict[str, MarketLine]:
        return {line.key: line for line in self.lines}

    def settle(self, result: FinalResult) -> tuple[MarketSettlement, ...]:
        """Settlements of every market of the book."""
        return tuple(settle_market(line, result, self.outcome_ids(line)) for line in self.lines)
