"""The engine: each delta of the feed into bets, settlements and closing lines (pure).

For every delta, in the feed's order per event (a delta at or below the event's applied
version is a replay and changes nothing):

1. **rollbacks** (``rolled_back``): every settled or voided bet of the market gets its
   return reversed and is open again;
2. **cancellations**: bets placed within the window are void (stake back); a bet voided
   by an earlier cancellation that the new one leaves out of its window is open again;
3. **settlements**: each bet of the market is settled on its outcome's result. The same
   status and payout as in force (a ``confirmed`` re-send of the same results) changes
   nothing but the certainty; a different one (``corrected``) reverses the earlier
   return and books the new one;
4. **markets**: the closing line of every open bet follows its outcome's price while the
   market is active and is fixed when the market stops or the outcome goes inactive;
   then every changed price of an active outcome of an active market is offered to every
   strategy (filters, one bet per market and outcome unless configured otherwise, a
   recent model, the stake).

A market that is not active clears the prices remembered for it, so its reopening is a
price change even at the same prices.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from services.trading.domain.book import Bet, Book, Progress, bet_key
from services.trading.domain.models import ModelBook, ModelPick, probability
from services.trading.domain.settle import settle_bet, within_window
from services.trading.domain.strategies import Strategy, edge
from shared.enums import LIVE_EVENT_STATUSES, EventStatus, MarketStatus
from shared.live import AppliedSettlement, EventDelta, MarketState
from shared.trading.model import BetPhase, BetStatus, LedgerKind

PRE_MATCH_STATUSES = frozenset({EventStatus.NOT_STARTED, EventStatus.DELAYED})


def phase_of(status: EventStatus | None) -> BetPhase | None:
    """Pre-match or in play; None when the event takes no bets (ended, postponed...)."""
    if status in PRE_MATCH_STATUSES:
        return BetPhase.PRE_MATCH
    if status in LIVE_EVENT_STATUSES:
        return BetPhase.IN_PLAY
    return None


class Engine:
    """Applies deltas to a :class:`Book` for a set of strategies and a :class:`ModelBook`.

    It remembers the last price seen of each outcome (to tell a price change from a
    re-send), up to ``price_memory`` outcomes; a book's prices join that memory only
    through :meth:`committed`, after its transaction committed. An outcome it does not
    remember (after a restart) counts as changed. ``max_price_age_s`` (0: none) leaves
    out prices the platform applied longer ago than that when they are read: a replayed
    backlog is settled but not traded on.
    """

    def __init__(self, strategies: Sequence[Strategy], models: ModelBook, *,
                 max_price_age_s: float = 0.0, price_memory: int = 500_000) -> None:
        self.strategies = tuple(strategies)
        self.models = models
        self.max_price_age_s = max_price_age_s
        self._memory = price_memory
        self._prices: OrderedDict[tuple[str, str, str], Decimal] = OrderedDict()

    def committed(self, book: Book) -> None:
        """Remember the prices a committed book saw."""
        for key, price in book.seen.items():
            if price is None:
                self._prices.pop(key, None)
            else:
                self._prices[key] = price
                self._prices.move_to_end(key)
        while len(self._prices) > self._memory:
            self._prices.popitem(last=False)

    def apply(self, book: Book, delta: EventDelta, now: datetime) -> bool:
        """Apply one delta; False when it was applied before (a replay)."""
        progress = book.progress.get(delta.event_id)
        if progress is None:
            progress = book.progress[delta.event_id] = Progress(delta.event_id, delta.sport)
        if delta.version <= progress.version:
            book.replays += 1
            return False
        self._advance(progress, delta)
        for key in delta.rolled_back:
            for bet in book.market_bets(delta.event_id, key):
                if bet.status is not BetStatus.OPEN:
                    _reverse(book, bet, delta)
        for cancel in delta.cancellations:
            for bet in book.market_bets(delta.event_id, cancel.market_key):
                inside = within_window(bet.placed_at, cancel.start_time, cancel.end_time)
                if inside and bet.status is not BetStatus.VOID:
                    if bet.status is not BetStatus.OPEN:
                        _reverse(book, bet, delta)
                    _settle(book, bet, delta, BetStatus.VOID, bet.stake, None, None, None)
                elif not inside and bet.status is BetStatus.VOID:
                    _reverse(book, bet, delta)  # a new cancellation's window leaves it out
        for settlement in delta.settlements:
            for bet in book.market_bets(delta.event_id, settlement.market_key):
                _apply_result(book, bet, delta, settlement)
        for market in delta.markets:
            self._market(book, delta, progress, market, now)
        progress.version = delta.version
        progress.changed = True
        book.applied += 1
        return True

    @staticmethod
    def _advance(progress: Progress, delta: EventDelta) -> None:
        """Status and the version of the latest change that moves probabilities."""
        if progress.version == 0 and delta.version > 1:
            # First seen mid-feed: what came before is unknown (see models.py).
            progress.last_live_version = delta.version - 1
        status_changed = progress.status is not None and delta.status not in (None, progress.status)
        if delta.live is not None or delta.fixture is not None or status_changed:
            progress.last_live_version = delta.version
        if delta.status is not None:
            progress.status = delta.status

    def _market(self, book: Book, delta: EventDelta, progress: Progress, market: MarketState,
                now: datetime) -> None:
        key = market.market_key
        active = market.status is MarketStatus.ACTIVE
        prices = {o.id: o.price for o in market.outcomes if active and o.active and o.price is not None}
        for bet in book.market_bets(delta.event_id, key):
            if bet.closing_fixed:
                continue
            price = prices.get(bet.outcome_id)
            if price is None:  # the market stopped, or the outcome went inactive
                bet.closing_fixed = True
                bet.closing_price = bet.closing_price or bet.price
            elif price != bet.closing_price:
                bet.closing_price = price
            else:
                continue
            bet.changed = True
        changed = []
        for outcome in market.outcomes:
            memo = (delta.event_id, key, outcome.id)
            price = prices.get(outcome.id)
            before = book.seen[memo] if memo in book.seen else self._prices.get(memo)
            book.seen[memo] = price
            if price is not None and price != before:
                changed.append((outcome.id, price))
        if not changed:
            return
        phase = phase_of(progress.status)
        age = (now - delta.applied_at).total_seconds()
        if phase is None or (self.max_price_age_s and age > self.max_price_age_s):
            for strategy in self.strategies:
                book.decisions[(strategy.name, "not_tradable" if phase is None else "old_price")] += 1
            return
        pick = self.models.pick(delta.event_id, delta.version, progress.last_live_version,
                                delta.applied_at, in_play=phase is BetPhase.IN_PLAY)
        for outcome_id, price in changed:
            for strategy in self.strategies:
                decided = self._decide(book, delta, strategy, pick, phase, key, outcome_id, price)
                book.decisions[(strategy.name, decided)] += 1

    @staticmethod
    def _decide(book: Book, delta: EventDelta, strategy: Strategy, pick: ModelPick,
                phase: BetPhase, key: str, outcome_id: str, price: Decimal) -> str:
        """Offer one price to one strategy; returns what it decided (a metrics label)."""
        refused = strategy.refuses(delta.sport, key, phase, price)
        if refused is not None:
            return "filtered"
        if book.count(strategy.name, delta.event_id, key, outcome_id) >= strategy.max_bets_per_outcome:
            return "already_bet"
        if pick.prices is None:
            return pick.reason
        if pick.prices.sides_rated < strategy.min_sides_rated:
            return "sides_unrated"
        p = probability(pick.prices, key, outcome_id)
        if p is None:
            return "not_priced"
        stake, why = strategy.stake(p, price, book.balances[strategy.name])
        if stake is None:
            return why
        bet = Bet(
            key=bet_key(strategy.name, delta.event_id, delta.version, key, outcome_id),
            strategy=strategy.name, event_id=delta.event_id, sport=delta.sport, market_key=key,
            outcome_id=outcome_id, price=price, stake=stake, probability=p,
            edge=edge(p, price), phase=phase, market_version=delta.version,
            model_version=pick.prices.event_version, model=pick.prices.model,
            placed_at=delta.provider_ts, message_id=delta.message_id, closing_price=price,
        )
        book.place(bet, delta.applied_at)
        return "placed"


def _apply_result(book: Book, bet: Bet, delta: EventDelta, settlement: AppliedSettlement) -> None:
    """Settle ``bet`` on a market's results (new, confirming or correcting)."""
    result = next((o for o in settlement.outcomes if o.outcome_id == bet.outcome_id), None)
    if result is None:  # the results do not name the bet's outcome: it stays as it is
        book.decisions[(bet.strategy, "outcome_not_settled")] += 1
        return
    status, payout = settle_bet(bet.stake, bet.price, result)
    if bet.status is status and bet.payout == payout:
        if bet.certainty != settlement.certainty:  # the same results, now confirmed
            bet.certainty = settlement.certainty
            bet.changed = True
        return
    if bet.status is not BetStatus.OPEN:
        _reverse(book, bet, delta)  # corrected results (or results after a void)
    _settle(book, bet, delta, status, payout, result.void_factor, result.dead_heat_factor,
            settlement.certainty)


def _settle(book: Book, bet: Bet, delta: EventDelta, status: BetStatus, payout: Decimal,
            void_factor: Decimal | None, dead_heat: Decimal | None, certainty: str | None) -> None:
    bet.status, bet.payout = status, payout
    bet.void_factor, bet.dead_heat_factor, bet.certainty = void_factor, dead_heat, certainty
    bet.settled_at, bet.settled_by = delta.applied_at, delta.message_id
    bet.changed = True
    book.move(LedgerKind.RETURN, bet, payout, delta.version, delta.message_id, delta.applied_at)
    book.settled[(bet.strategy, status.value)] += 1


def _reverse(book: Book, bet: Bet, delta: EventDelta) -> None:
    """Take back what a settlement (or void) returned: the bet is open again."""
    book.move(LedgerKind.REVERSAL, bet, -(bet.payout or Decimal(0)), delta.version,
              delta.message_id, delta.applied_at)
    bet.status, bet.payout = BetStatus.OPEN, None
    bet.void_factor = bet.dead_heat_factor = None
    bet.certainty = bet.settled_at = bet.settled_by = None
    bet.changed = True
