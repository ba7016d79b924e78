"""The pricing service's pure core: lines chosen, ModelPrices built, the event book's verdicts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.pricing.domain.book import EventBook, Verdict, live_body
from services.pricing.domain.lines import choose_lines, line_of
from services.pricing.domain.models import PricingModel, decode_fitted, plays_to_a_finish, prior
from services.pricing.domain.quotes import (
    Probabilities,
    expected_scores,
    fair_market,
    market_probabilities,
    model_prices,
)
from shared.enums import EventStatus, MarketStatus, Sport
from shared.fair import ModelPrices
from shared.live import FixtureState, LiveState
from shared.model import Clock, Competition, Competitor, GamePoints, PeriodScore, Score
from shared.pricing.event import event_outlook
from shared.pricing.football import FootballParams
from shared.pricing.hockey_fit import FittedHockey
from shared.pricing.margins import Method
from shared.pricing.markets import MarketLine, price_markets
from shared.pricing.outlook import Outlook
from tests.support.distribution import delta, market, snapshot

NOW = datetime(2026, 5, 1, 19, 0, tzinfo=UTC)
MODELS = {s: prior(s) for s in Sport}


def book() -> EventBook:
    return EventBook(MODELS, margin=0.05, method=Method.POWER)


def prob(prices: ModelPrices, key: str, outcome: str) -> float:
    return next(o.probability for m in prices.markets if m.market_key == key
                for o in m.outcomes if o.id == outcome)


def football_live(minute: int, home: int, away: int, *, periods: bool = True) -> LiveState:
    rows = (PeriodScore(period="1h", home=home, away=away),) if periods else ()
    return LiveState(status=EventStatus.LIVE, period="1h" if minute < 45 else "2h",
                     clock=Clock(seconds=minute * 60), score=Score(home=home, away=away, periods=rows))


# --- lines -----------------------------------------------------------------------------


@pytest.mark.parametrize(("sport", "key", "expected"), [
    (Sport.FOOTBALL, "1x2", MarketLine("1x2")),
    (Sport.FOOTBALL, "totals|total=2.5", MarketLine("totals", Decimal("2.5"))),
    (Sport.FOOTBALL, "handicap|hcp=-0.75", MarketLine("handicap", Decimal("-0.75"))),
    (Sport.TENNIS, "set_handicap|hcp=1.5", MarketLine("set_handicap", Decimal("1.5"))),
    (Sport.FOOTBALL, "totals|total=2.3", None),  # not a whole, half or quarter line
    (Sport.FOOTBALL, "1x2|period=1h", None),  # a period's market: not modelled
    (Sport.FOOTBALL, "moneyline", None),  # not a football market
    (Sport.FOOTBALL, "correct_score", None),
    (Sport.FOOTBALL, "totals", None),  # a line market without its line
    (Sport.FOOTBALL, "totals|total=x", None),
    (Sport.BASKETBALL, "handicap|hcp=-5.5", MarketLine("handicap", Decimal("-5.5"))),
])
def test_a_market_key_becomes_the_models_line_or_nothing(
    sport: Sport, key: str, expected: MarketLine | None,
) -> None:
    assert line_of(sport, key) == expected


def test_lines_are_the_standard_ones_plus_the_events_own() -> None:
    params = FootballParams(1.6, 1.1)
    outlook = event_outlook(params)
    lines = choose_lines(Sport.FOOTBALL, params, outlook,
                         ["1x2", "totals|total=4.25", "handicap|hcp=-1.75", "moneyline"])
    keys = [line.key for line in lines]
    assert len(keys) == len(set(keys))
    assert {"1x2", "double_chance", "draw_no_bet", "btts", "totals|total=2.5"} <= set(keys)
    assert keys[-2:] == ["handicap|hcp=-1.75", "totals|total=4.25"]  # the offered extras, last
    assert "moneyline" not in keys


# --- quotes ----------------------------------------------------------------------------


def test_a_market_gets_fair_prices_and_prices_with_the_margin() -> None:
    market_price = Probabilities("1x2", {"home": 0.5, "draw": 0.3, "away": 0.2})
    fair = fair_market(market_price, 0.05, Method.POWER)
    assert [o.fair_price for o in fair.outcomes] == [Decimal(2), Decimal("3.33"), Decimal(5)]
    margined = [o.price for o in fair.outcomes]
    assert all(p is not None and p < f for p, f in zip(margined, [2, 3.33, 5], strict=True))
    overround = sum(1 / p for p in margined if p is not None)
    assert overround == pytest.approx(Decimal("1.05"), abs=Decimal("0.01"))


def test_a_longshot_past_1000_and_an_ended_market_have_no_price() -> None:
    tiny = fair_market(Probabilities("btts", {"yes": 0.9995, "no": 0.0005}), 0.05, Method.POWER)
    assert tiny.outcomes[1].fair_price is None
    assert tiny.outcomes[1].price is None
    assert tiny.outcomes[0].fair_price == Decimal("1.01")
    done = fair_market(Probabilities("1x2", {"home": 1.0, "draw": 0.0, "away": 0.0}), 0.05,
                       Method.POWER, priced=False)
    assert [(o.probability, o.price, o.fair_price) for o in done.outcomes] == [
        (1.0, None, None), (0.0, None, None), (0.0, None, None)]


def test_a_method_that_cannot_reach_the_margin_falls_back_to_proportional() -> None:
    # Power cannot put 60 % on a book of one near-certain outcome; the book still prices.
    fair = fair_market(Probabilities("btts", {"yes": 0.999, "no": 0.001}), 0.5, Method.POWER)
    assert all(o.price is not None for o in fair.outcomes)


def test_expected_scores_are_the_goals_to_come_and_the_final_score() -> None:
    outlook = Outlook(winner=(0.5, 0.5), total={2: 0.5, 4: 0.5}, margin={0: 0.5, 2: 0.5})
    assert expected_scores(outlook, (1, 0)) == {"home": 1.0, "away": 1.0, "home_final": 2.0,
                                                "away_final": 1.0}


def test_model_prices_validate_and_name_the_model() -> None:
    params = FootballParams(1.5, 1.2)
    outlook = event_outlook(params)
    lines = choose_lines(Sport.FOOTBALL, params, outlook, [])
    prices = model_prices(event_id="e", sport=Sport.FOOTBALL, event_version=3, phase="pre_match",
                          model="football:prior", training_size=0, outlook=outlook,
                          markets=market_probabilities(Sport.FOOTBALL, lines, outlook),
                          score=(0, 0), margin=0.05, method=Method.POWER, now=NOW)
    again = ModelPrices.model_validate_json(prices.model_dump_json())
    assert again == prices
    assert prices.margin == Decimal("0.05")
    assert sum(o.probability for o in prices.markets[0].outcomes) == pytest.approx(1, abs=1e-5)


# --- models ----------------------------------------------------------------------------


def test_versions_name_the_prior_or_the_stored_fit() -> None:
    assert prior(Sport.TENNIS).version == "tennis:prior"
    fitted = FittedHockey(1.0, 0.1, {"a": 0.2}, {"a": 0.0}, 0.15, 10, -20.0)
    model = PricingModel(Sport.ICE_HOCKEY, fitted, 12, 10)
    assert model.version == "ice_hockey:poisson_ratings:12"
    assert decode_fitted(Sport.ICE_HOCKEY, "poisson_ratings", fitted.to_dict()) == fitted
    with pytest.raises(ValueError, match="no tennis model"):
        decode_fitted(Sport.TENNIS, "poisson_ratings", fitted.to_dict())


def test_model_prices_say_how_many_sides_the_model_has_rated() -> None:
    fitted = FittedHockey(1.0, 0.1, {"a": 0.2, "b": -0.1}, {"a": 0.0, "b": 0.1}, 0.15, 10, -20.0)
    model = PricingModel(Sport.ICE_HOCKEY, fitted, 12, 10)

    def fixture(home: str, away: str) -> FixtureState:
        return FixtureState(home=Competitor(id=home, name=home), away=Competitor(id=away, name=away))

    assert model.sides_rated(fixture("a", "b")) == 2
    assert model.sides_rated(fixture("a", "new")) == 1
    assert prior(Sport.ICE_HOCKEY).sides_rated(fixture("a", "b")) == 0
    b = book()
    b.hold(snapshot("e1", version=2, status=EventStatus.NOT_STARTED, live=False))
    priced = b.price("e1", NOW)
    assert priced is not None
    assert priced.sides_rated == 0  # the prior rates nobody


def test_hockey_play_offs_are_told_by_the_competition() -> None:
    def fixture(name: str) -> FixtureState:
        return FixtureState(competition=Competition(id="c", name=name))

    assert plays_to_a_finish(fixture("Simulated Hockey Play-offs"))
    assert plays_to_a_finish(fixture("NHL Playoffs"))
    assert not plays_to_a_finish(fixture("Simulated Hockey League"))
    assert not plays_to_a_finish(FixtureState())


# --- the book ----------------------------------------------------------------------------


def test_a_new_event_is_priced_pre_match_with_its_own_and_the_standard_lines() -> None:
    b = book()
    snap = snapshot("e1", version=2, status=EventStatus.NOT_STARTED, live=False,
                    markets=[market("totals|total=3.75", "2.5", "1.5")])
    assert b.hold(snap) is Verdict.PRICE
    prices = b.price("e1", NOW)
    assert prices is not None
    assert prices.phase == "pre_match"
    assert prices.event_version == 2
    assert prices.model == "football:prior"
    keys = [m.market_key for m in prices.markets]
    assert "totals|total=3.75" in keys
    assert "1x2" in keys
    assert b.hold(snap) is Verdict.OLD  # priced already at this version


def test_odds_alone_do_not_move_the_model_but_a_new_line_does() -> None:
    b = book()
    b.hold(snapshot("e1", version=1, markets=[market("1x2", "2", "3.4", "3.8")]))
    # Processors put the event's status in every delta: unchanged, it moves nothing.
    assert b.apply(delta("e1", 2, market("1x2", "2.1", "3.3", "3.7"),
                         status=EventStatus.LIVE)) is Verdict.SKIP
    assert b.apply(delta("e1", 3, market("handicap|hcp=-1.25", "3.1", "1.4"))) is Verdict.PRICE
    prices = b.price("e1", NOW)
    assert prices is not None
    assert prices.event_version == 3
    assert "handicap|hcp=-1.25" in {m.market_key for m in prices.markets}
    assert b.apply(delta("e1", 3, market("1x2", "2", "3", "4"))) is Verdict.OLD
    assert b.apply(delta("e1", 5, live=football_live(10, 0, 0))) is Verdict.GAP
    assert b.apply(delta("e1", 4, live=football_live(10, 0, 0))) is Verdict.PRICE
    assert b.apply(delta("other", 1)) is Verdict.UNKNOWN


def test_a_goal_raises_home_and_a_score_without_periods_counts() -> None:
    b = book()
    b.hold(snapshot("e1", version=1))
    b.apply(delta("e1", 2, live=football_live(60, 0, 0)))
    before = b.price("e1", NOW)
    b.apply(delta("e1", 3, live=football_live(61, 1, 0, periods=False)))
    after = b.price("e1", NOW)
    assert before is not None
    assert after is not None
    assert after.phase == "in_play"
    assert prob(after, "1x2", "home") > prob(before, "1x2", "home") + 0.2
    assert after.expected["home_final"] > 1.0


def test_an_ended_match_is_certain_and_a_closed_one_is_forgotten() -> None:
    b = book()
    b.hold(snapshot("e1", version=1))
    final = LiveState(status=EventStatus.ENDED, score=Score(home=2, away=1, periods=(
        PeriodScore(period="1h", home=1, away=1), PeriodScore(period="2h", home=1, away=0))))
    assert b.apply(delta("e1", 2, live=final, status=EventStatus.ENDED)) is Verdict.PRICE
    ended = b.price("e1", NOW)
    assert ended is not None
    assert ended.phase == "ended"
    assert prob(ended, "1x2", "home") == 1.0
    assert prob(ended, "btts", "yes") == 1.0
    assert b.apply(delta("e1", 3, status=EventStatus.CLOSED)) is Verdict.PRICE
    assert b.price("e1", NOW) is not None
    assert "e1" not in b


def test_a_cancelled_event_is_dropped() -> None:
    b = book()
    b.hold(snapshot("e1", version=1))
    assert b.apply(delta("e1", 2, status=EventStatus.CANCELLED)) is Verdict.DROP
    assert "e1" not in b
    assert b.hold(snapshot("e2", version=1, status=EventStatus.ABANDONED)) is Verdict.DROP


def test_a_new_model_reprices_its_sport_only() -> None:
    b = book()
    b.hold(snapshot("f", version=1))
    b.hold(snapshot("h", Sport.ICE_HOCKEY, version=1))
    strong = FittedHockey(1.0, 0.05, {"h-h": 0.5}, {"h-h": 0.3}, 0.15, 100, -1.0)
    assert b.set_model(PricingModel(Sport.ICE_HOCKEY, strong, 7, 100)) == ["h"]
    prices = b.price("h", NOW)
    assert prices is not None
    assert prices.model == "ice_hockey:poisson_ratings:7"
    assert prices.training_size == 100
    assert prob(prices, "moneyline", "home") > 0.75


def test_every_sport_prices_in_play_from_its_live_state() -> None:
    lives = {
        Sport.BASKETBALL: LiveState(status=EventStatus.LIVE, period="q3", clock=Clock(seconds=1800),
                                    score=Score(home=70, away=60, periods=(
                                        PeriodScore(period="q1", home=30, away=30),
                                        PeriodScore(period="q2", home=30, away=25),
                                        PeriodScore(period="q3", home=10, away=5)))),
        Sport.TENNIS: LiveState(status=EventStatus.LIVE, period="set2", score=Score(
            home=1, away=0, periods=(PeriodScore(period="set1", home=6, away=3),
                                     PeriodScore(period="set2", home=2, away=1))),
            game=GamePoints(home="30", away="15"), server="home"),
        Sport.ICE_HOCKEY: LiveState(status=EventStatus.LIVE, period="p2", clock=Clock(seconds=1500),
                                    score=Score(home=2, away=0, periods=(
                                        PeriodScore(period="p1", home=1, away=0),
                                        PeriodScore(period="p2", home=1, away=0)))),
    }
    for sport, live in lives.items():
        b = book()
        b.hold(snapshot("e", sport, version=1, status=EventStatus.NOT_STARTED, live=False))
        pre = b.price("e", NOW)
        assert b.apply(delta("e", 2, sport=sport, live=live, status=EventStatus.LIVE)) is Verdict.PRICE
        now = b.price("e", NOW)
        assert pre is not None
        assert now is not None
        assert now.phase == "in_play"
        assert prob(now, "moneyline", "home") > prob(pre, "moneyline", "home") + 0.15, sport


def test_live_body_takes_the_events_end_and_keeps_tennis_without_fake_periods() -> None:
    live = LiveState(status=EventStatus.LIVE, score=Score(home=1, away=0))
    assert live_body(Sport.FOOTBALL, EventStatus.ENDED, live).status is EventStatus.ENDED
    assert [p.period for p in live_body(Sport.FOOTBALL, EventStatus.LIVE, live).score.periods] == ["1h"]
    assert live_body(Sport.TENNIS, EventStatus.LIVE, live).score.periods == ()


def test_a_suspended_market_still_gets_its_fair_price() -> None:
    b = book()
    b.hold(snapshot("e", version=1, markets=[
        market("totals|total=2.5", "1.9", "1.9", status=MarketStatus.SUSPENDED)]))
    prices = b.price("e", NOW)
    assert prices is not None
    assert "totals|total=2.5" in {m.market_key for m in prices.markets}


def test_the_fixture_names_the_sides_the_model_rates() -> None:
    b = EventBook({**MODELS, Sport.ICE_HOCKEY: PricingModel(
        Sport.ICE_HOCKEY, FittedHockey(1.0, 0.05, {"star": 0.6}, {"star": 0.4}, 0.15, 50, 0.0), 3, 50)},
        margin=0.05, method=Method.MULTIPLICATIVE)
    b.hold(snapshot("e", Sport.ICE_HOCKEY, version=1, live=False, status=EventStatus.NOT_STARTED))
    plain = b.price("e", NOW)
    fixture = FixtureState(competition=Competition(id="c", name="League"), start_time=NOW,
                           home=Competitor(id="star", name="Star"), away=Competitor(id="x", name="X"))
    assert b.apply(delta("e", 2, sport=Sport.ICE_HOCKEY).model_copy(update={"fixture": fixture})) \
        is Verdict.PRICE
    rated = b.price("e", NOW)
    assert plain is not None
    assert rated is not None
    assert prob(rated, "moneyline", "home") > prob(plain, "moneyline", "home") + 0.2


def test_market_probabilities_are_the_librarys_without_the_settlement_laws() -> None:
    params = FootballParams(1.7, 0.9)
    outlook = event_outlook(params)
    lines = choose_lines(Sport.FOOTBALL, params, outlook, ["handicap|hcp=-0.75", "totals|total=3"])
    ours = {p.key: (p.outcomes, p.winners) for p in market_probabilities(Sport.FOOTBALL, lines,
                                                                           outlook)}
    library = price_markets(Sport.FOOTBALL, outlook, lines)
    assert ours == {k: (m.probabilities, m.winners) for k, m in library.items()}
