"""The backtest: a strategy on real bookmaker prices, settled by the real results (pure).

For each prediction, in kick-off order: the chosen bookmaker's pre-match prices (the
files' opening columns: collected before the match, while the closing ones are the last
before kick-off) of each market the model priced are offered to the strategy with the
same filters and staking as on the live feed (a bet is pre-match, football). Matches
that kick off together are staked from the same bankroll; each is then settled by its
score (``shared.footballdata.settle``, the same settlement vocabulary the feed uses) and
the bankroll moves. Every bet records Pinnacle's closing price of its outcome, if the
file has one: its closing line value is ``price / Pinnacle closing - 1``, and its
closing expected value ``price x p_close - 1`` with ``p_close`` Pinnacle's closing
probability with its margin taken out proportionally.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import groupby

from services.trading.backtest.walkforward import Prediction
from services.trading.domain.settle import settle_bet
from services.trading.domain.strategies import Strategy, edge
from shared.enums import Sport
from shared.footballdata.bookmakers import BOOKMAKERS
from shared.footballdata.model import MarketPrices, Match, OddsPhase
from shared.footballdata.settle import settle_1x2, settle_totals
from shared.markets import MarketSettlement
from shared.trading.model import BetPhase, BetStatus
from shared.trading.performance import BetFigures, Performance, summarise

CLOSING_BOOKMAKER = "pinnacle"


def bookmaker_id(code: str) -> str:
    """A football-data code (``B365``, ``PS``) or a bookmaker id (``bet365``) as the id."""
    known = BOOKMAKERS.get(code)
    if known is not None:
        return known.id
    ids = {b.id for b in BOOKMAKERS.values()}
    if code in ids:
        return code
    raise ValueError(f"unknown bookmaker {code!r}: a football-data code ({', '.join(BOOKMAKERS)})"
                     f" or an id ({', '.join(sorted(ids))})")


@dataclass(frozen=True, slots=True)
class BacktestBet:
    """One bet of the backtest, settled."""

    kickoff: datetime
    event_id: str
    home: str
    away: str
    market_key: str
    outcome_id: str
    price: Decimal
    probability: float
    edge: float
    stake: Decimal
    status: BetStatus
    payout: Decimal
    closing_price: Decimal | None  # Pinnacle's closing price of the outcome
    closing_probability: float | None  # ... with its margin taken out

    @property
    def profit(self) -> Decimal:
        """What the bet won or lost."""
        return self.payout - self.stake

    @property
    def clv(self) -> float | None:
        """``price / closing - 1`` against Pinnacle's closing price."""
        return float(self.price / self.closing_price) - 1 if self.closing_price else None

    @property
    def closing_ev(self) -> float | None:
        """The bet's expected value if Pinnacle's closing probability is the truth."""
        return edge(self.closing_probability, self.price) if self.closing_probability else None


@dataclass
class BacktestResult:
    """Everything the backtest found, in bet order."""

    strategy: Strategy
    bookmaker: str
    bankroll: Decimal
    matches: int = 0
    priced: int = 0  # matches with at least one of the bookmaker's prices the model priced
    bets: list[BacktestBet] = field(default_factory=list)
    equity: list[tuple[datetime, Decimal]] = field(default_factory=list)  # after each kick-off settled
    model: str = ""

    @property
    def final_bankroll(self) -> Decimal:
        """The bankroll at the end."""
        return self.bankroll + sum((b.profit for b in self.bets), Decimal(0))

    def performance(self) -> Performance:
        """The strategy's figures (shared with the live service's REST)."""
        figures = [BetFigures(b.stake, b.price, b.status, b.payout, b.closing_price) for b in self.bets]
        return summarise(figures, self.bankroll, [self.bankroll, *(v for _, v in self.equity)])


def _prices(match: Match, bookmaker: str, phase: OddsPhase) -> dict[str, MarketPrices]:
    return {m.market_key: m for m in match.markets if m.bookmaker == bookmaker and m.phase is phase}


def _fair(prices: MarketPrices) -> dict[str, float]:
    """Probabilities with the margin taken out proportionally."""
    implied = {o: 1 / float(p) for o, p in prices.prices}
    total = sum(implied.values())
    return {o: v / total for o, v in implied.items()}


def _settlement(match: Match, key: str) -> MarketSettlement:
    if key == "1x2":
        return settle_1x2(match.home_goals, match.away_goals)
    market, _, line = key.partition("|total=")
    if market != "totals":
        raise ValueError(f"the backtest settles 1x2 and totals, not {key}")
    return settle_totals(match.home_goals, match.away_goals, Decimal(line), key)


def run_backtest(predictions: Iterable[Prediction], strategy: Strategy, bookmaker: str, *,
                 closing_bookmaker: str = CLOSING_BOOKMAKER) -> BacktestResult:
    """Bet ``strategy`` on ``bookmaker``'s pre-match prices; settle every bet by the results."""
    book_id = bookmaker_id(bookmaker)
    result = BacktestResult(strategy, book_id, strategy.bankroll)
    balance = strategy.bankroll
    ordered = sorted(predictions, key=lambda p: (p.match.start_time, p.match.event_id))
    for kickoff, group in groupby(ordered, key=lambda p: p.match.start_time):
        placed: list[tuple[Prediction, str, str, Decimal, float, Decimal, MarketPrices | None]] = []
        for prediction in group:
            match = prediction.match
            result.matches += 1
            result.model = prediction.model
            offered = _prices(match, book_id, OddsPhase.OPENING)
            closing = _prices(match, closing_bookmaker, OddsPhase.CLOSING)
            seen = False
            for key, probabilities in prediction.probabilities.items():
                market = offered.get(key)
                if market is None:
                    continue
                seen = True
                for outcome, price in market.prices:
                    p = probabilities.get(outcome)
                    if p is None or strategy.refuses(Sport.FOOTBALL, key, BetPhase.PRE_MATCH, price):
                        continue
                    stake, _ = strategy.stake(p, price, balance)
                    if stake is None:
                        continue
                    balance -= stake
                    placed.append((prediction, key, outcome, price, p, stake, closing.get(key)))
            result.priced += seen
        for prediction, key, outcome, price, p, stake, close in placed:
            match = prediction.match
            settled = next(o for o in _settlement(match, key).outcomes if o.outcome_id == outcome)
            status, payout = settle_bet(stake, price, settled)
            balance += payout
            close_price = dict(close.prices).get(outcome) if close else None
            result.bets.append(BacktestBet(
                kickoff, match.event_id, match.home.name, match.away.name, key, outcome, price, p,
                edge(p, price), stake, status, payout, close_price,
                _fair(close).get(outcome) if close else None,
            ))
        if placed:
            result.equity.append((kickoff, balance))
    return result


def by_market(bets: Sequence[BacktestBet]) -> dict[str, tuple[int, Decimal, Decimal]]:
    """Bets, stakes and profit per market type."""
    out: dict[str, tuple[int, Decimal, Decimal]] = {}
    for bet in bets:
        kind = bet.market_key.split("|", 1)[0]
        n, staked, profit = out.get(kind, (0, Decimal(0), Decimal(0)))
        out[kind] = (n + 1, staked + bet.stake, profit + bet.profit)
    return out
