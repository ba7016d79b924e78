"""The bookmakers' view of a football-data match, margin removed.

What the market model learns from (:func:`market_result`: a past match with its
closing prices) and what a model is scored against (:func:`fair_1x2`,
:func:`fair_over_25` of one :class:`Book`). Reads a :class:`shared.footballdata.Match`
as the project's reader returns it; removes margins with the pricing library's own
inverse, :func:`shared.pricing.margins.fair_probabilities` (the power method by default,
as the issue's baseline did): the same answer as ``remove_margin`` (tested to 1e-9
against penaltyblog's), without importing penaltyblog, and some ten times faster, which
counts when a walk-forward reads ten seasons of prices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from shared.footballdata.bookmakers import bookmaker_name
from shared.footballdata.model import MARKET_OUTCOMES, Match, OddsPhase
from shared.pricing.margins import Method, fair_probabilities
from shared.pricing.market_fit import MarketResult

LINE_25 = Decimal("2.5")
MAX_OVERROUND = 0.5  # a book with more than 50 % overround is a typo, not a price


@dataclass(frozen=True)
class Book:
    """One bookmaker's prices in one phase (``bookmaker`` is the reader's id: ``pinnacle``)."""

    bookmaker: str
    phase: OddsPhase

    @property
    def label(self) -> str:
        """``Pinnacle closing``."""
        return f"{bookmaker_name(self.bookmaker)} {self.phase.value}"

    @property
    def key(self) -> str:
        """``pinnacle_closing``: the name in JSON."""
        return f"{self.bookmaker}_{self.phase.value}"


PINNACLE_CLOSING = Book("pinnacle", OddsPhase.CLOSING)
PINNACLE_OPENING = Book("pinnacle", OddsPhase.OPENING)
BET365_CLOSING = Book("bet365", OddsPhase.CLOSING)
BET365_OPENING = Book("bet365", OddsPhase.OPENING)

MARKET_SOURCES: tuple[Book, ...] = (
    PINNACLE_CLOSING, Book("market_avg", OddsPhase.CLOSING), BET365_CLOSING,
    PINNACLE_OPENING, Book("market_avg", OddsPhase.OPENING), Book("betbrain_avg", OddsPhase.OPENING),
    BET365_OPENING,
)
"""Where a past match's market view comes from, first found first: the sharpest book
nearest kick-off. Files before 2019/20 have no closing over/under; their Betbrain
average (``BbAv>2.5``) stands in. A file with none of these falls back on any complete book."""


def book_prices(match: Match, book: Book, market: str) -> tuple[Decimal, ...] | None:
    """``book``'s complete prices of ``market`` (``1x2``, or ``totals`` at 2.5) in outcome order."""
    for prices in match.markets:
        if (prices.bookmaker == book.bookmaker and prices.phase is book.phase
                and prices.market == market and (market == "1x2" or prices.line == LINE_25)):
            return _complete(prices.prices, market)
    return None


def _complete(prices: tuple[tuple[str, Decimal], ...], market: str) -> tuple[Decimal, ...] | None:
    by_outcome = dict(prices)
    names = MARKET_OUTCOMES[market]
    if not all(name in by_outcome for name in names):
        return None
    return tuple(by_outcome[name] for name in names)


def _fair(prices: Sequence[Decimal] | None, method: Method) -> list[float] | None:
    """Fair probabilities, or None for a book that is no real book (a price <= 1, huge overround)."""
    if prices is None or any(p <= 1 for p in prices):
        return None
    overround = sum(1 / float(p) for p in prices) - 1
    if not 0 <= overround <= MAX_OVERROUND:
        return None
    try:
        fair = fair_probabilities([1 / float(p) for p in prices], method)
    except ValueError:
        return None
    return fair if all(0 < p < 1 for p in fair) else None


def fair_1x2(match: Match, book: Book, method: Method = Method.POWER) -> tuple[float, float, float] | None:
    """``book``'s fair home, draw and away probabilities (None where it has no full 1X2 book)."""
    fair = _fair(book_prices(match, book, "1x2"), method)
    return (fair[0], fair[1], fair[2]) if fair else None


def fair_over_25(match: Match, book: Book, method: Method = Method.POWER) -> float | None:
    """``book``'s fair probability of more than 2.5 goals (None where it has no such book)."""
    fair = _fair(book_prices(match, book, "totals"), method)
    return fair[0] if fair else None


def _any_book(match: Match, market: str, method: Method) -> list[float] | None:
    """The first complete book of ``market`` in the row: for files with none of the known sources."""
    for prices in match.markets:
        if prices.market == market and (market == "1x2" or prices.line == LINE_25):
            fair = _fair(_complete(prices.prices, market), method)
            if fair:
                return fair
    return None


def market_result(match: Match, sources: Sequence[Book] = MARKET_SOURCES,
                  method: Method = Method.POWER) -> MarketResult:
    """The match as the market model learns from it: result and the first source's fair prices.

    Teams are the reader's stable ids (``fd:team:arsenal``), the same in every season's file.
    """
    three: Sequence[float] | None = next(
        (p for b in sources if (p := fair_1x2(match, b, method)) is not None), None)
    if three is None:
        three = _any_book(match, "1x2", method)
    over = next((q for b in sources if (q := fair_over_25(match, b, method)) is not None), None)
    if over is None:
        fair = _any_book(match, "totals", method)
        over = fair[0] if fair else None
    return MarketResult(
        date=match.match_date, home=match.home.id, away=match.away.id,
        home_goals=match.home_goals, away_goals=match.away_goals,
        home_draw_away=(three[0], three[1], three[2]) if three else None, over_25=over,
    )
