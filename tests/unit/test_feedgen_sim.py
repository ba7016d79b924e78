"""The match simulators: every message of a simulated match is valid for its sport.

Hypothesis draws seeds; each seed plays a whole match through the feed builder, and
every draft must make a :class:`FeedMessage` that validates in full (the sport's
rules run when the envelope is built), in an order the processors accept.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedgen.feed import Draft, match_feed
from feedgen.sim import make_model, make_setup
from feedgen.sim.tennis import call
from shared.enums import EventStatus, MarketStatus, MessageKind, SettlementResult, Sport
from shared.model import FeedMessage, LiveBody, OddsBody, SettlementBody
from shared.rules import rules_for
from shared.rules.tennis import set_winner

KICKOFF = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def play(sport: Sport, seed: int) -> list[FeedMessage]:
    """One whole match as validated canonical messages."""
    rng = random.Random(seed)
    setup = make_setup(sport, seed % 10_000, 11, rng)
    drafts = list(match_feed(setup, rng, margin=0.05, prematch_seconds=600.0,
                             kickoff_at=KICKOFF))
    return [_message(sport, setup.event_id, n, d) for n, d in enumerate(drafts)]


def _message(sport: Sport, event_id: str, n: int, draft: Draft) -> FeedMessage:
    ts = KICKOFF + timedelta(seconds=draft.t, milliseconds=n)
    built = FeedMessage(message_id=f"m{n}", provider="unit", sport=sport, event_id=event_id,
                        kind=draft.kind, provider_ts=ts, received_at=ts, body=draft.body)
    # Validate everything again from plain data: markets are built without validation.
    return FeedMessage.model_validate_json(built.model_dump_json())


def _lives(messages: list[FeedMessage]) -> list[LiveBody]:
    return [m.body for m in messages if isinstance(m.body, LiveBody)]


@pytest.mark.parametrize("sport", list(Sport))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS)
def test_every_message_of_a_simulated_match_is_valid_and_ordered(sport: Sport, seed: int) -> None:
    messages = play(sport, seed)
    kinds = [m.kind for m in messages]
    assert kinds[0] is MessageKind.FIXTURE
    assert kinds[-2:] == [MessageKind.SETTLEMENT, MessageKind.LIVE]
    lives = _lives(messages)
    statuses = [b.status for b in lives]
    assert statuses[-2:] == [EventStatus.ENDED, EventStatus.CLOSED]
    assert set(statuses[:-2]) == {EventStatus.LIVE}
    rules = rules_for(sport)
    for body in lives:
        assert body.period is None or body.period in (*rules.periods, *rules.breaks)
    # A period once played stays played (the processors refuse anything else).
    counts = [len(b.score.periods) for b in lives]
    assert counts == sorted(counts)
    times = [m.provider_ts for m in messages]
    assert times == sorted(times)


@pytest.mark.parametrize("sport", list(Sport))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS)
def test_markets_open_before_play_and_settle_on_the_final_score(sport: Sport, seed: int) -> None:
    messages = play(sport, seed)
    first_odds = next(m.body for m in messages if isinstance(m.body, OddsBody))
    settlement = next(m.body for m in messages if isinstance(m.body, SettlementBody))
    # Every market settled was priced before kick-off (the processor knows it).
    assert {m.market_key for m in settlement.markets} == {m.market_key for m in first_odds.markets}
    assert all(m.status is MarketStatus.ACTIVE for m in first_odds.markets)
    final = _lives(messages)[-1].score
    winner = "home" if final.home > final.away else "away"
    for market in settlement.markets:
        if market.market_key == "moneyline":
            won = [o.outcome_id for o in market.outcomes if o.result is SettlementResult.WON]
            assert won == [winner]
    if sport is not Sport.FOOTBALL:
        assert final.home != final.away


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS)
def test_tennis_sets_are_complete_and_the_winner_has_the_sets(seed: int) -> None:
    messages = play(Sport.TENNIS, seed)
    fixture = messages[0].body
    best_of = getattr(fixture, "best_of", None)
    assert best_of in (3, 5)
    final = _lives(messages)[-1].score
    assert max(final.home, final.away) == best_of // 2 + 1
    assert all(set_winner(s) is not None for s in final.periods)
    assert len(final.periods) <= best_of


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS)
def test_ice_hockey_decided_after_regulation_gets_one_goal(seed: int) -> None:
    messages = play(Sport.ICE_HOCKEY, seed)
    final = _lives(messages)[-1].score
    names = [p.period for p in final.periods]
    regulation = sum(p.home - p.away for p in final.periods if p.period in ("p1", "p2", "p3"))
    if len(names) > 3:  # overtime or shoot-out: level after 60 minutes, won by one
        assert regulation == 0
        assert abs(final.home - final.away) == 1


def test_basketball_scores_like_basketball() -> None:
    totals = []
    for seed in range(40):
        final = _lives(play(Sport.BASKETBALL, seed))[-1].score
        totals.append(final.home + final.away)
    assert 180 < sum(totals) / len(totals) < 250


def test_the_model_prices_what_it_plays() -> None:
    # Pre-match probabilities match simulated frequencies (coarsely: 300 matches).
    for sport in (Sport.FOOTBALL, Sport.ICE_HOCKEY):
        predicted, scored = 0.0, 0
        for seed in range(300):
            rng = random.Random(seed)
            setup = make_setup(sport, seed, 3, rng)
            model = make_model(setup, rng)
            outlook = model.outlook(None)
            predicted += sum(k * p for k, p in outlook.total.items())
            last = None
            for moment in model.moments():
                last = moment
            assert last is not None
            scored += model.result(last.state).total
        assert abs(predicted - scored) / scored < 0.08, sport


@pytest.mark.parametrize(("points", "tiebreak", "expected"), [
    ((0, 0), False, ("0", "0")), ((3, 1), False, ("40", "15")), ((3, 3), False, ("40", "40")),
    ((5, 4), False, ("A", "40")), ((4, 5), False, ("40", "A")), ((6, 5), True, ("6", "5")),
])
def test_tennis_points_are_called_like_an_umpire(
    points: tuple[int, int], tiebreak: bool, expected: tuple[str, str]
) -> None:
    game = call(points, tiebreak)
    assert (game.home, game.away) == expected
