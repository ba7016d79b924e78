"""In play: the score, the clock and the period move the prices, and the end makes them certain."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedgen.book import Book
from feedgen.sim import make_model, make_setup
from shared.enums import EventStatus, SettlementResult, Sport
from shared.markets import MarketSettlement
from shared.model import Clock, LiveBody, PeriodScore, Score
from shared.pricing.basketball import BasketballParams, BasketballState, basketball_outlook
from shared.pricing.event import event_outlook, price_event, state_from_live
from shared.pricing.football import FootballParams, FootballState, football_outlook
from shared.pricing.ice_hockey import HockeyParams, HockeyState, hockey_outlook
from shared.pricing.lines import LineOdds
from shared.pricing.markets import MarketLine, MarketPrice, price_markets
from shared.pricing.tennis import TennisParams, TennisState, tennis_outlook
from shared.pricing.tennis_chain import next_set_server
from tests.support.pricing import sim_params

# The Premier League's mean goals per match, 2019/20-2022/23 (the shared files): 1.50 and 1.27.
# (A fit on those seasons gives rho -0.01 to -0.02.)
EPL = FootballParams(1.50, 1.27, -0.02)


def _football(half: int, minute: float, score: tuple[int, int]) -> tuple[float, float, float]:
    second = minute * 60 - half * 2700
    three = football_outlook(EPL, FootballState(half, second, score)).three_way
    assert three is not None
    return three


def test_two_nil_at_85_minutes_is_won() -> None:
    home, _, _ = _football(1, 85, (2, 0))
    assert home >= 0.95


def test_nil_nil_at_89_minutes_is_drawn() -> None:
    _, draw, _ = _football(1, 89, (0, 0))
    assert draw >= 0.8


def test_football_prices_follow_the_clock() -> None:
    draws = [_football(h, m, (0, 0))[1] for h, m in ((0, 0), (0, 30), (1, 45), (1, 70), (1, 88))]
    assert draws == sorted(draws)
    leads = [_football(h, m, (1, 0))[0] for h, m in ((0, 10), (0, 44), (1, 60), (1, 80), (1, 92))]
    assert leads == sorted(leads)


halves = st.integers(0, 1)
seconds = st.floats(0.0, 2700.0 + 400.0)
goals = st.integers(0, 5)
rates = st.floats(0.2, 3.5)


@settings(max_examples=200, deadline=None)
@given(lam_home=rates, lam_away=rates, rho=st.floats(-0.15, 0.1), half=halves, second=seconds,
       home=goals, away=goals)
def test_a_home_goal_never_lowers_homes_chances_in_football(
    lam_home: float, lam_away: float, rho: float, half: int, second: float, home: int, away: int
) -> None:
    params = FootballParams(lam_home, lam_away, rho)
    before = football_outlook(params, FootballState(half, second, (home, away)))
    after = football_outlook(params, FootballState(half, second, (home + 1, away)))
    assert before.three_way is not None
    assert after.three_way is not None
    assert after.three_way[0] >= before.three_way[0] - 1e-12
    assert after.three_way[2] <= before.three_way[2] + 1e-12
    line = MarketLine("handicap", Decimal("-0.5"))
    assert line.probabilities(after)[0] >= line.probabilities(before)[0] - 1e-12


@settings(max_examples=200, deadline=None)
@given(lam_home=rates, lam_away=rates, period=st.integers(-1, 4), second=st.floats(0, 1200),
       home=goals, away=goals, knockout=st.booleans(),
       shootout=st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 8)))
def test_a_home_goal_never_lowers_homes_chances_in_ice_hockey(
    lam_home: float, lam_away: float, period: int, second: float, home: int, away: int,
    knockout: bool, shootout: tuple[int, int, int],
) -> None:
    params = HockeyParams(lam_home, lam_away, knockout=knockout)
    if period < 0:  # a goal in the shoot-out: home's tally, home having shot
        so_home, so_away, kicks = shootout
        before = hockey_outlook(params, HockeyState(-1, 0.0, (home, home), (so_home, so_away, kicks)))
        after = hockey_outlook(params, HockeyState(-1, 0.0, (home, home),
                                                   (so_home + 1, so_away, kicks)))
    elif period >= 3:  # overtime is sudden death: a goal ends it
        before = hockey_outlook(params, HockeyState(period, second, (home, home)))
        after = hockey_outlook(params, HockeyState(period, second, (home + 1, home), ended=True,
                                                   regular=(home, home)))
    else:
        before = hockey_outlook(params, HockeyState(period, second, (home, away)))
        after = hockey_outlook(params, HockeyState(period, second, (home + 1, away)))
    assert after.winner[0] >= before.winner[0] - 1e-12
    assert before.three_way is not None
    assert after.three_way is not None
    assert after.three_way[0] >= before.three_way[0] - 1e-12


@settings(max_examples=200, deadline=None)
@given(points=st.tuples(st.floats(95, 125), st.floats(95, 125)), period=st.integers(0, 5),
       second=st.floats(0, 720), home=st.integers(0, 150), away=st.integers(0, 150),
       basket=st.integers(1, 3))
def test_a_home_basket_never_lowers_homes_chances_in_basketball(
    points: tuple[float, float], period: int, second: float, home: int, away: int, basket: int
) -> None:
    params = BasketballParams.from_points(*points)
    second = min(second, 720.0 if period < 4 else 300.0)
    before = basketball_outlook(params, BasketballState(period, second, (home, away)))
    after = basketball_outlook(params, BasketballState(period, second, (home + basket, away)))
    assert after.winner[0] >= before.winner[0] - 1e-12


def _tennis_states() -> st.SearchStrategy[TennisState]:
    def build(sets: tuple[int, int], games: tuple[int, int], points: tuple[int, int],
              first: str) -> TennisState:
        if games == (6, 6):
            return TennisState(sets, games, points, first)
        points = (min(points[0], 4), min(points[1], 4))
        if min(points) >= 3:  # deuce and advantage only
            points = (3 + (points[0] > points[1]), 3 + (points[1] > points[0]))
        games = (min(games[0], 5), min(games[1], 5))
        return TennisState(sets, games, points, first)

    return st.builds(build, st.tuples(st.integers(0, 1), st.integers(0, 1)),
                     st.tuples(st.integers(0, 6), st.integers(0, 6)),
                     st.tuples(st.integers(0, 6), st.integers(0, 6)),
                     st.sampled_from(["home", "away"]))


def _point_to_home(state: TennisState) -> TennisState:
    home, away = state.points
    sets, games, first = state.sets, state.games, state.set_first_server
    if games == (6, 6):
        if home + 1 < 7 or home + 1 - away < 2:
            return TennisState(sets, games, (home + 1, away), first)
        games = (7, 6)
    elif home == 3 and away == 4:  # advantage away: back to deuce
        return TennisState(sets, games, (3, 3), first)
    elif (home == 3 and away <= 2) or (home == 4 and away == 3):  # home wins the game
        games = (games[0] + 1, games[1])
    else:
        return TennisState(sets, games, (home + 1, away), first)
    if games[0] == 7 or (games[0] == 6 and games[1] <= 4):  # home wins the set
        return TennisState((sets[0] + 1, sets[1]), (0, 0), (0, 0),
                           next_set_server(first, sum(games)), games)
    return TennisState(sets, games, (0, 0), first)


@settings(max_examples=300, deadline=None)
@given(serve=st.tuples(st.floats(0.5, 0.8), st.floats(0.5, 0.8)), state=_tennis_states())
def test_a_point_for_home_never_lowers_homes_chances_in_tennis(
    serve: tuple[float, float], state: TennisState
) -> None:
    params = TennisParams(round(serve[0], 3), round(serve[1], 3))
    before = tennis_outlook(params, state)
    after = tennis_outlook(params, _point_to_home(state))
    assert after.winner[0] >= before.winner[0] - 1e-12


def _law(settled: MarketSettlement) -> dict[str, LineOdds]:
    """What each outcome's settlement means as a settlement law (all mass on one result)."""
    out = {}
    for o in settled.outcomes:
        won = o.result is SettlementResult.WON
        void = float(o.void_factor)
        law = {(True, 0.0): (1, 0, 0, 0, 0), (True, 0.5): (0, 1, 0, 0, 0), (False, 1.0): (0, 0, 1, 0, 0),
               (False, 0.5): (0, 0, 0, 1, 0), (False, 0.0): (0, 0, 0, 0, 1)}[(won, void)]
        out[o.outcome_id] = LineOdds(*(float(x) for x in law))
    return out


def _certain(prices: dict[str, MarketPrice], settlements: tuple[MarketSettlement, ...]) -> None:
    """Every market is 0/1 exactly as the settlement says."""
    for settled in settlements:
        market = prices[settled.market_key]
        expected = _law(settled)
        if market.odds is not None:
            assert market.odds == expected, settled.market_key
        else:
            for outcome, law in expected.items():
                assert market.probabilities[outcome] == pytest.approx(law.win, abs=1e-12)


@pytest.mark.parametrize("sport", list(Sport))
@pytest.mark.parametrize("seed", range(6))
def test_at_the_final_whistle_every_market_is_what_the_result_says(sport: Sport, seed: int) -> None:
    rng = random.Random(f"final:{sport}:{seed}")
    model = make_model(make_setup(sport, seed, 3, rng), rng)
    lines = model.lines(model.outlook(None))
    book = Book(sport, lines, 0.05)
    last = list(model.moments())[-1]
    assert last.final
    settlements = book.settle(model.result(last.state))
    # From the simulator's own final state...
    _certain(price_markets(sport, model.outlook(last.state), lines), settlements)
    # ... and from the canonical live body the platform receives.
    state = state_from_live(sport, last.live, knockout=model.setup.knockout)
    params = sim_params(model)
    _certain(price_event(params, state, lines), settlements)


@pytest.mark.parametrize("sport", list(Sport))
def test_live_bodies_give_the_simulators_own_prices(sport: Sport) -> None:
    """The platform sees only live bodies: the state read from them prices like the simulator."""
    for seed in range(3):
        rng = random.Random(f"live:{sport}:{seed}")
        model = make_model(make_setup(sport, seed, 5, rng), rng)
        params = sim_params(model)
        worst = 0.0
        for moment in model.moments():
            if moment.final or not moment.in_play:
                continue
            ours = event_outlook(params, state_from_live(sport, moment.live,
                                                         knockout=model.setup.knockout))
            theirs = model.outlook(moment.state)
            worst = max(worst, abs(ours.winner[0] - theirs.winner[0]))
        # Tennis is exact; the others lose the clock's fraction of a second (and football
        # the announced stoppage time, which the feed does not carry).
        assert worst < (1e-9 if sport is Sport.TENNIS else 0.03), (sport, seed, worst)


def test_football_state_reads_the_45_90_clock() -> None:
    def live(period: str, seconds: int, stoppage: int | None = None) -> LiveBody:
        rows = (PeriodScore(period="1h", home=1, away=0),) + (
            (PeriodScore(period="2h", home=0, away=1),) if period != "1h" else ())
        home, away = sum(r.home for r in rows), sum(r.away for r in rows)
        return LiveBody(status=EventStatus.LIVE, period=period,
                        clock=Clock(seconds=seconds, stoppage_seconds=stoppage),
                        score=Score(home=home, away=away, periods=rows))

    assert state_from_live(Sport.FOOTBALL, live("1h", 600)) == FootballState(0, 600.0, (1, 0))
    assert state_from_live(Sport.FOOTBALL, live("2h", 5400, 95)) == FootballState(1, 2795.0, (1, 1))
    assert state_from_live(Sport.FOOTBALL, live("ht", 2700)) == FootballState(1, 0.0, (1, 1))
    assert state_from_live(Sport.FOOTBALL, live("et1", 5700)) == FootballState(2, 0.0, (1, 1))
    not_started = LiveBody(status=EventStatus.NOT_STARTED)
    assert state_from_live(Sport.FOOTBALL, not_started) is None
    # Deep into stoppage with the board unknown, a minute is still expected.
    late_state = state_from_live(Sport.FOOTBALL, live("2h", 5400, 600))
    assert isinstance(late_state, FootballState)
    late = football_outlook(EPL, late_state)
    assert late.three_way is not None
    assert 0.9 < late.three_way[1] < 1.0


def test_a_finished_football_match_settles_on_ninety_minutes() -> None:
    final = FootballState(2, 0.0, (2, 1))
    prices = price_event(EPL, final, [MarketLine("1x2"), MarketLine("btts"),
                                      MarketLine("totals", Decimal("3"))])
    assert prices["1x2"].probabilities == {"home": 1.0, "draw": 0.0, "away": 0.0}
    assert prices["btts"].probabilities["yes"] == 1.0
    odds = prices["totals|total=3"].odds
    assert odds is not None
    assert odds["over"].push == 1.0
