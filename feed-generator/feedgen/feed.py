"""One match as a provider would send it: fixture, odds, live, bet stops, settlement, close.

:func:`match_feed` walks a simulator's moments and decides, like a trading desk,
what goes out when:

- before kick-off: the fixture, then pre-match odds a few times while the prices
  drift towards the model's true strengths;
- in play: a live update at every moment; fresh odds at every clock tick (only the
  markets whose prices or status changed, since absent markets are unchanged);
- a goal, a scoring run, a break of serve or a break in play sends a ``bet_stop``
  first; the markets reopen with new prices once play resumes and the sport's
  ``reopen_after`` has passed;
- at the end: a bet stop, the final score (``ended``), the settlement of every
  market on the final result, and the event ``closed``.

Drafts carry simulated seconds since the match's first message; the run plan turns
them into provider timestamps and message ids.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from feedgen.book import Book, Quote
from feedgen.sim import MatchSetup, make_model
from shared.enums import EventStatus, MessageKind
from shared.model import (
    BetStopBody,
    Body,
    Competitor,
    FixtureBody,
    LiveBody,
    OddsBody,
    SettlementBody,
)

PREMATCH_ODDS = 4  # pre-match odds messages before kick-off
SETTLE_AFTER = 60.0  # simulated seconds from the final whistle to the settlement
CLOSE_AFTER = 120.0  # ... and to the event's closing
OFFER_BELOW = 0.95  # pre-match favourite's probability above which a line is not offered
FULL_REFRESH = 5  # every 5th in-play odds update carries every market


@dataclass(frozen=True)
class Draft:
    """One message of a match before it gets its envelope: when, what kind, what body."""

    t: float  # simulated seconds since the match's first message
    kind: MessageKind
    body: Body
    in_play: bool = False  # sent while the match is live (not ended or closed)


def match_feed(
    setup: MatchSetup, rng: random.Random, *, margin: float, prematch_seconds: float,
    kickoff_at: datetime,
) -> Iterator[Draft]:
    """Every message of one match, in order; ``kickoff_at`` is the fixture's start time."""
    model = make_model(setup, rng)
    outlook = model.outlook(None)
    # A line (almost) decided before kick-off is not worth offering.
    lines = tuple(line for line in model.lines(outlook)
                  if max(line.probabilities(outlook)) < OFFER_BELOW)
    book = Book(setup.sport, lines, margin)
    home, away = setup.home, setup.away
    yield Draft(0.0, MessageKind.FIXTURE, FixtureBody(
        competition=setup.competition, start_time=kickoff_at,
        home=Competitor(id=home.id, name=home.name), away=Competitor(id=away.id, name=away.name),
        status=EventStatus.NOT_STARTED, best_of=setup.best_of,
    ))
    # News moves the pre-match price; the drift shrinks to nothing by kick-off.
    drift = rng.gauss(0, 0.15)
    sent: dict[str, Quote] = {}
    for n in range(PREMATCH_ODDS):
        t = 1.0 + n * (prematch_seconds - 60) / PREMATCH_ODDS
        jitter = drift * (PREMATCH_ODDS - 1 - n) / PREMATCH_ODDS
        sent = book.quotes(model.outlook(None, jitter=jitter))
        markets = tuple(book.market(k, q) for k, q in sent.items())
        yield Draft(t, MessageKind.ODDS, OddsBody(markets=markets, producer="prematch"))
    refreshes = 0

    suspended_at: float | None = None
    for moment in model.moments():
        t = prematch_seconds + moment.t
        if moment.suspend and suspended_at is None:
            yield Draft(t, MessageKind.BET_STOP, BetStopBody(reason=moment.suspend, producer="live"),
                        in_play=True)
            suspended_at = t
        yield Draft(t, MessageKind.LIVE, moment.live, in_play=not moment.final)
        if moment.final:
            result = model.result(moment.state)
            yield Draft(t + SETTLE_AFTER, MessageKind.SETTLEMENT,
                        SettlementBody(markets=book.settle(result)))
            yield Draft(t + CLOSE_AFTER, MessageKind.LIVE, _closed(moment.live))
            return
        reopen = suspended_at is not None and t >= suspended_at + model.reopen_after
        if moment.in_play and (reopen or (suspended_at is None and moment.tick)):
            quotes = book.quotes(model.outlook(moment.state))
            refreshes += 1
            # Every market after a stop, and all of them now and then: the platform may
            # have suspended some meanwhile (provider silence) or missed a stale update.
            full = reopen or refreshes % FULL_REFRESH == 0
            changed = {k: q for k, q in quotes.items() if full or sent.get(k) != q}
            if changed:
                markets = tuple(book.market(k, q) for k, q in changed.items())
                yield Draft(t, MessageKind.ODDS, OddsBody(markets=markets, producer="live"),
                            in_play=True)
                sent.update(changed)
            suspended_at = None


def _closed(live: LiveBody) -> LiveBody:
    """The closing live message: the final score confirmed, the clock gone."""
    return LiveBody(status=EventStatus.CLOSED, score=live.score, period=None, clock=None)
