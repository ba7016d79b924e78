"""Well-formed messages for each sport: for the tests, the benchmark and demos.

:class:`Messages` hands out messages with fresh ids and a provider clock that moves
forward by one millisecond per message, so a sequence built with it is in order unless
a test says otherwise (``at=`` pins a provider time).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.enums import EventStatus, MarketStatus, MessageKind, Sport
from shared.markets import Market, Outcome
from shared.model import ALIVE_EVENT_ID, FeedMessage, PeriodScore
from shared.rules import rules_for

FIRST_PERIOD = {
    Sport.FOOTBALL: "1h", Sport.BASKETBALL: "q1", Sport.TENNIS: "set1", Sport.ICE_HOCKEY: "p1",
}
# The market every sample event is priced in, and a line market.
MAIN_MARKET = {
    Sport.FOOTBALL: "1x2", Sport.BASKETBALL: "moneyline", Sport.TENNIS: "moneyline",
    Sport.ICE_HOCKEY: "1x2",
}
TOTALS = {
    Sport.FOOTBALL: "totals|total=2.5", Sport.BASKETBALL: "totals|total=210.5",
    Sport.TENNIS: "totals|total=22.5", Sport.ICE_HOCKEY: "totals|total=5.5",
}


def prices(sport: Sport, market_key: str, base: str = "2.0") -> dict[str, str]:
    """One price per outcome of a catalogue market, spread around ``base``."""
    spec = rules_for(sport).markets[market_key.split("|", 1)[0]]
    step = Decimal("0.35")
    return {o: str(Decimal(base) + step * i) for i, o in enumerate(spec.outcomes)}


class Messages:
    """A source of messages of one sport and provider."""

    def __init__(
        self, sport: Sport = Sport.FOOTBALL, provider: str = "gen",
        start: datetime | None = None, prefix: str = "m",
    ) -> None:
        self.sport = sport
        self.provider = provider
        self._clock = start or datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
        self._ids = itertools.count(1)
        self._prefix = prefix

    def _next_ts(self) -> datetime:
        self._clock += timedelta(milliseconds=1)
        return self._clock

    def message(
        self, event_id: str, kind: MessageKind, body: Mapping[str, Any], *,
        at: datetime | None = None, message_id: str | None = None,
        provider: str | None = None,
    ) -> FeedMessage:
        """Any message; the body is validated by the model like any other."""
        ts = at or self._next_ts()
        return FeedMessage.model_validate({
            "message_id": message_id or f"{self._prefix}{next(self._ids)}",
            "provider": provider or self.provider,
            "sport": self.sport,
            "event_id": event_id,
            "kind": kind,
            "provider_ts": ts,
            "received_at": ts,
            "body": {**body, "kind": kind},
        })

    def fixture(self, event_id: str, *, complete: bool = True, **kw: Any) -> FeedMessage:
        """A fixture: complete (competition, start, both sides) unless told otherwise."""
        body: dict[str, Any] = {}
        if complete:
            body = {
                "competition": {"id": f"c-{self.sport.value}", "name": "Sample League"},
                "start_time": datetime(2026, 5, 1, 18, 0, tzinfo=UTC),
                "home": {"id": f"{event_id}-h", "name": f"Home {event_id}"},
                "away": {"id": f"{event_id}-a", "name": f"Away {event_id}"},
            }
            if self.sport is Sport.TENNIS:
                body["best_of"] = 3
        body.update(kw.pop("body", {}))
        return self.message(event_id, MessageKind.FIXTURE, body, **kw)

    def live(
        self, event_id: str, status: EventStatus = EventStatus.LIVE, *,
        periods: Sequence[tuple[str, int, int]] | None = None, **kw: Any,
    ) -> FeedMessage:
        """A live score; ``periods`` as (name, home, away), the total follows from them."""
        if periods is None:
            periods = [] if status is EventStatus.NOT_STARTED else [(FIRST_PERIOD[self.sport], 0, 0)]
        score_periods = [{"period": p, "home": h, "away": a} for p, h, a in periods]
        # The match score the periods add up to, by the sport's own rule.
        home, away = rules_for(self.sport).totals(
            [PeriodScore.model_validate(p) for p in score_periods], status
        )
        body = {
            "status": status,
            "period": periods[-1][0] if periods else None,
            "score": {"home": home, "away": away, "periods": score_periods},
        }
        return self.message(event_id, MessageKind.LIVE, body, **kw)

    def odds(
        self, event_id: str, markets: Mapping[str, Mapping[str, str] | None] | None = None, *,
        status: MarketStatus = MarketStatus.ACTIVE, producer: str | None = None, **kw: Any,
    ) -> FeedMessage:
        """Odds for markets ``{key: {outcome: price}}`` (None: sample prices)."""
        markets = markets or {MAIN_MARKET[self.sport]: None}
        built = [
            Market(
                market_key=key,
                status=status,
                outcomes=tuple(
                    Outcome(id=o, price=Decimal(p)) for o, p in (ps or prices(self.sport, key)).items()
                ),
            ).model_dump(mode="json")
            for key, ps in markets.items()
        ]
        body: dict[str, Any] = {"markets": built}
        if producer:
            body["producer"] = producer
        return self.message(event_id, MessageKind.ODDS, body, **kw)

    def bet_stop(self, event_id: str, keys: Sequence[str] | None = None, **kw: Any) -> FeedMessage:
        """Stop the named markets (None: all)."""
        body = {"market_keys": list(keys)} if keys is not None else {}
        return self.message(event_id, MessageKind.BET_STOP, body, **kw)

    def settlement(
        self, event_id: str, market_key: str, winner: str, *, certainty: str = "confirmed",
        **kw: Any,
    ) -> FeedMessage:
        """Settle a catalogue market with one winner, the other outcomes lost."""
        return self.settlements(event_id, {market_key: winner}, certainty=certainty, **kw)

    def settlements(
        self, event_id: str, winners: Mapping[str, str], *, certainty: str = "confirmed",
        **kw: Any,
    ) -> FeedMessage:
        """Settle several catalogue markets ``{market_key: winner}`` in one message."""
        markets = []
        for market_key, winner in winners.items():
            spec = rules_for(self.sport).markets[market_key.split("|", 1)[0]]
            markets.append({"market_key": market_key, "outcomes": [
                {"outcome_id": o, "result": "won" if o == winner else "lost"}
                for o in spec.outcomes
            ]})
        body = {"markets": markets, "certainty": certainty}
        return self.message(event_id, MessageKind.SETTLEMENT, body, **kw)

    def cancel(self, event_id: str, keys: Sequence[str] | None = None, **kw: Any) -> FeedMessage:
        """Cancel the named markets (None: all open ones)."""
        body: dict[str, Any] = {"void_reason": "sample cancellation"}
        if keys is not None:
            body["market_keys"] = list(keys)
        return self.message(event_id, MessageKind.CANCEL, body, **kw)

    def rollback(
        self, event_id: str, of: str = "settlement", keys: Sequence[str] | None = None, **kw: Any
    ) -> FeedMessage:
        """Roll back a settlement or cancellation of the named markets (None: all)."""
        body: dict[str, Any] = {"of": of}
        if keys is not None:
            body["market_keys"] = list(keys)
        return self.message(event_id, MessageKind.ROLLBACK, body, **kw)

    def alive(self, **kw: Any) -> FeedMessage:
        """A provider heartbeat."""
        return self.message(ALIVE_EVENT_ID, MessageKind.ALIVE, {}, **kw)
