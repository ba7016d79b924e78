"""Per-sport stateless rules: markets and outcomes each sport has, and score shapes."""

from __future__ import annotations

import pytest

from shared.enums import Sport
from shared.markets import MarketSettlement
from shared.model import OddsBody
from shared.rules import RULES, RuleViolation, rules_for
from tests.support.factories import live, message, odds, period


def _prices(*ids: str) -> list[dict[str, str]]:
    return [{"id": i, "price": "2.5"} for i in ids]


def test_draw_outcome_in_basketball_moneyline_is_refused() -> None:
    with pytest.raises(ValueError, match="outcome draw is not an outcome of basketball moneyline"):
        odds("basketball", {"market_key": "moneyline", "outcomes": _prices("home", "draw", "away")})


def test_football_has_no_moneyline_but_has_1x2() -> None:
    with pytest.raises(ValueError, match="'moneyline' does not exist in football"):
        odds("football", {"market_key": "moneyline", "outcomes": _prices("home", "away")})
    assert odds("football", {"market_key": "1x2", "outcomes": _prices("home", "draw", "away")})


def test_open_market_must_list_all_its_outcomes() -> None:
    with pytest.raises(ValueError, match="outcomes missing: under"):
        odds("tennis", {"market_key": "totals|total=22.5", "outcomes": _prices("over")})


def test_deactivated_market_may_omit_outcomes() -> None:
    msg = odds("football", {"market_key": "1x2", "status": "deactivated"})
    assert isinstance(msg.body, OddsBody)
    assert msg.body.markets[0].outcomes == ()


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("totals", "totals takes specifiers total"),
        ("totals|total=2.3", "not a multiple of 0.5"),
        ("totals|total=-1.5", "must be positive"),
        ("handicap|hcp=0.3", "not a multiple of 0.25"),
        ("1x2|total=2.5", "1x2 takes specifiers none"),
    ],
)
def test_market_specifiers_are_checked(key: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        odds("football", {"market_key": key, "status": "deactivated"})


def test_quarter_handicap_is_accepted() -> None:
    assert odds("ice_hockey", {"market_key": "handicap|hcp=-1.25", "outcomes": _prices("home", "away")})


def test_extension_markets_carry_any_outcomes() -> None:
    msg = odds("football", {"market_key": "uof:188", "outcomes": _prices("sr:player:1", "sr:player:2")})
    assert isinstance(msg.body, OddsBody)
    assert msg.body.markets[0].type == "uof:188"


def test_bet_stop_names_only_markets_of_the_sport() -> None:
    with pytest.raises(ValueError, match="'btts' does not exist in tennis"):
        message("tennis", "bet_stop", {"market_keys": ["btts"]})


def test_every_sport_has_a_winner_market_without_draw_where_ties_are_impossible() -> None:
    for sport in (Sport.BASKETBALL, Sport.TENNIS, Sport.ICE_HOCKEY):
        assert "draw" not in RULES[sport].markets["moneyline"].outcomes


# --- settlements ---------------------------------------------------------------------


def _settlement(sport: str, key: str, *outcomes: dict[str, str]) -> None:
    message(sport, "settlement", {"markets": [{"market_key": key, "outcomes": list(outcomes)}]})


def test_settlement_with_one_winner_is_accepted() -> None:
    _settlement("football", "1x2", {"outcome_id": "home", "result": "won"},
                {"outcome_id": "draw", "result": "lost"}, {"outcome_id": "away", "result": "lost"})


def test_settlement_with_two_winners_in_1x2_is_refused() -> None:
    with pytest.raises(ValueError, match="winning shares add up to 2, expected 1"):
        _settlement("football", "1x2", {"outcome_id": "home", "result": "won"},
                    {"outcome_id": "draw", "result": "won"})


def test_quarter_line_half_won_half_void_adds_up() -> None:
    _settlement("football", "handicap|hcp=-0.25",
                {"outcome_id": "home", "result": "won", "void_factor": "0.5"},
                {"outcome_id": "away", "result": "lost", "void_factor": "0.5"})


def test_push_is_fully_void() -> None:
    _settlement("basketball", "totals|total=200",
                {"outcome_id": "over", "result": "lost", "void_factor": "1"},
                {"outcome_id": "under", "result": "lost", "void_factor": "1"})


def test_dead_heat_shares_must_add_up() -> None:
    with pytest.raises(ValueError, match=r"add up to 1\.2"):
        _settlement("tennis", "moneyline",
                    {"outcome_id": "home", "result": "won", "dead_heat_factor": "0.6"},
                    {"outcome_id": "away", "result": "won", "dead_heat_factor": "0.6"})


def test_odd_void_factor_is_refused() -> None:
    with pytest.raises(ValueError, match=r"void_factor 0\.3 not 0, 0\.5 or 1"):
        _settlement("football", "uof:201", {"outcome_id": "863", "result": "lost", "void_factor": "0.3"})


def test_dead_heat_on_a_loss_is_refused() -> None:
    with pytest.raises(ValueError, match="dead heat applies to a win only"):
        MarketSettlement.model_validate({"market_key": "uof:535", "outcomes": [
            {"outcome_id": "x", "result": "lost", "dead_heat_factor": "0.5"}]})


# --- scores --------------------------------------------------------------------------


def test_football_score_adds_up_without_penalties() -> None:
    assert live("football", status="ended", period="pen", score={"home": 1, "away": 1, "periods": [
        period("1h", 1, 0), period("2h", 0, 1), period("et1", 0, 0), period("et2", 0, 0),
        period("pen", 5, 4)]})


def test_score_that_does_not_match_periods_is_refused() -> None:
    with pytest.raises(ValueError, match=r"score 3-0 does not match its periods \(2-0\)"):
        live("football", status="live", period="2h",
             score={"home": 3, "away": 0, "periods": [period("1h", 2, 0)]})


def test_periods_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="not in order"):
        live("basketball", status="live", score={"home": 40, "away": 40, "periods": [
            period("q2", 20, 20), period("q1", 20, 20)]})


def test_unknown_period_is_refused() -> None:
    with pytest.raises(ValueError, match="period 'q5' does not exist in basketball"):
        live("basketball", status="live", period="q5")


def test_basketball_overtime_only_after_a_tie() -> None:
    with pytest.raises(ValueError, match="ot1 played although the game was not tied"):
        live("basketball", status="live", period="ot1", score={"home": 105, "away": 100, "periods": [
            period("q1", 25, 25), period("q2", 25, 25), period("q3", 25, 25), period("q4", 25, 20),
            period("ot1", 5, 5)]})


def test_ended_basketball_game_cannot_be_tied() -> None:
    with pytest.raises(ValueError, match="cannot be tied"):
        live("basketball", status="ended", score={"home": 80, "away": 80, "periods": [
            period("q1", 20, 20), period("q2", 20, 20), period("q3", 20, 20), period("q4", 20, 20)]})


def test_ice_hockey_shootout_winner_gets_one_goal() -> None:
    periods = [period("p1", 1, 0), period("p2", 0, 1), period("p3", 1, 1), period("ot1", 0, 0),
               period("so", 3, 2)]
    assert live("ice_hockey", status="ended", score={"home": 3, "away": 2, "periods": periods})
    with pytest.raises(ValueError, match="does not match"):
        live("ice_hockey", status="ended", score={"home": 5, "away": 4, "periods": periods})


def test_ice_hockey_shootout_needs_a_tie() -> None:
    with pytest.raises(ValueError, match="not tied"):
        live("ice_hockey", status="live", period="so", score={"home": 2, "away": 1, "periods": [
            period("p1", 1, 0), period("p2", 1, 1), period("p3", 0, 0), period("so", 0, 0)]})


def test_not_started_match_has_no_score() -> None:
    with pytest.raises(ValueError, match="has not started has no score"):
        live("football", status="not_started", score={"home": 1, "away": 0})


# --- tennis --------------------------------------------------------------------------


def _tennis(status: str = "live", game: dict[str, str] | None = None, **score: object) -> object:
    return live("tennis", status=status, period=None, score=score, game=game)


def test_tennis_tiebreak_set_is_accepted() -> None:
    assert _tennis(home=1, away=0, periods=[
        period("set1", 7, 6, tiebreak_home=7, tiebreak_away=5), period("set2", 6, 6)],
        game={"home": "3", "away": "2"})


@pytest.mark.parametrize(
    ("sets_won", "periods", "reason"),
    [
        (0, [period("set1", 8, 6)], "not a possible set score"),
        (0, [period("set1", 7, 3)], "not a possible set score"),
        (0, [period("set1", 5, 4), period("set2", 1, 0)], "unfinished but a later set exists"),
        (1, [period("set1", 6, 4, tiebreak_home=7, tiebreak_away=3)], "not 6-6 or 7-6"),
        (1, [period("set1", 7, 6, tiebreak_home=3, tiebreak_away=7)], "disagrees with its tie-break"),
    ],
)
def test_impossible_tennis_sets_are_refused(
    sets_won: int, periods: list[dict[str, object]], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        _tennis(home=sets_won, away=0, periods=periods)


def test_tennis_score_counts_sets() -> None:
    with pytest.raises(ValueError, match=r"does not match its periods \(2-0\)"):
        _tennis(home=1, away=0, periods=[period("set1", 6, 0), period("set2", 6, 0)])


def test_tennis_set_after_match_won_is_refused() -> None:
    sets = [period(f"set{n}", 6, 0) for n in range(1, 5)]
    with pytest.raises(ValueError, match="set4 played after the match was won"):
        _tennis(home=4, away=0, periods=sets)


def test_ended_tennis_match_needs_a_winner() -> None:
    with pytest.raises(ValueError, match="needs a winner"):
        _tennis(status="ended", home=1, away=1, periods=[period("set1", 6, 0), period("set2", 0, 6)])


@pytest.mark.parametrize(("home", "away"), [("A", "30"), ("45", "0"), ("A", "A")])
def test_impossible_game_points_are_refused(home: str, away: str) -> None:
    with pytest.raises(RuleViolation, match=f"{home}-{away}"):
        _tennis(home=0, away=0, periods=[period("set1", 2, 1)], game={"home": home, "away": away})


def test_game_points_outside_tennis_are_refused() -> None:
    with pytest.raises(ValueError, match="game points are for tennis"):
        live("football", status="live", game={"home": "15", "away": "0"})


def test_rules_cover_every_sport() -> None:
    assert set(RULES) == set(Sport)
    assert rules_for(Sport.TENNIS).periods[0] == "set1"
