"""Each sport's stateful live-score rules, through the decide layer (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.processors.domain.decide import decide
from services.processors.domain.sport_rules import stateful_rules
from services.processors.domain.state import EventState
from shared.enums import Disposition, EventStatus, Sport
from shared.model import FeedMessage
from tests.support.samples import Messages

NOW = datetime(2026, 5, 1, 13, 0, tzinfo=UTC)


def run(sport: Sport, *messages: FeedMessage) -> tuple[EventState, str | None]:
    """Apply the messages in order; returns the last state and the first refusal."""
    rules = stateful_rules(sport)
    state: EventState | None = None
    for msg in messages:
        decision = decide(state, msg, rules, NOW)
        if decision.disposition is not Disposition.APPLIED:
            assert state is not None
            return state, decision.reason
        state = decision.state
    assert state is not None
    return state, None


def test_every_sport_has_its_own_rules_object() -> None:
    assert {stateful_rules(s).sport for s in Sport} == set(Sport)


def test_a_played_period_cannot_disappear_in_any_sport() -> None:
    for sport, (p1, p2) in {
        Sport.FOOTBALL: ("1h", "2h"), Sport.BASKETBALL: ("q1", "q2"),
        Sport.ICE_HOCKEY: ("p1", "p2"),
    }.items():
        m = Messages(sport)
        _, reason = run(sport, m.fixture("e"), m.live("e", periods=[(p1, 1, 0), (p2, 0, 0)]),
                        m.live("e", periods=[(p1, 1, 0)]))
        assert reason is not None, sport
        assert "cannot disappear" in reason


def test_football_goal_correction_in_play_is_accepted() -> None:
    m = Messages(Sport.FOOTBALL)
    state, reason = run(Sport.FOOTBALL, m.fixture("e"), m.live("e", periods=[("1h", 1, 0)]),
                        m.live("e", periods=[("1h", 0, 0)]))
    assert reason is None
    assert state.live is not None
    assert state.live.score.home == 0


def test_football_periods_before_the_shootout_are_final() -> None:
    m = Messages(Sport.FOOTBALL)
    played = [("1h", 1, 0), ("2h", 0, 1), ("et1", 0, 0), ("et2", 0, 0)]
    _, reason = run(
        Sport.FOOTBALL, m.fixture("e"), m.live("e", periods=[*played, ("pen", 1, 1)]),
        m.live("e", periods=[("1h", 2, 0), ("2h", 0, 1), ("et1", 0, 0), ("et2", 0, 0),
                             ("pen", 2, 1)]),
    )
    assert reason is not None
    assert "1h was 1-0 when the pen began" in reason


def test_ice_hockey_periods_before_the_shootout_are_final() -> None:
    m = Messages(Sport.ICE_HOCKEY)
    played = [("p1", 1, 1), ("p2", 0, 0), ("p3", 1, 1), ("ot1", 0, 0)]
    _, reason = run(
        Sport.ICE_HOCKEY, m.fixture("e"), m.live("e", periods=[*played, ("so", 1, 0)]),
        m.live("e", periods=[("p1", 1, 1), ("p2", 1, 1), ("p3", 0, 0), ("ot1", 0, 0),
                             ("so", 1, 0)]),
    )
    assert reason is not None
    assert "p2 was 0-0 when the so began" in reason


def test_basketball_accepts_a_stat_correction_of_an_earlier_quarter() -> None:
    m = Messages(Sport.BASKETBALL)
    _, reason = run(Sport.BASKETBALL, m.fixture("e"),
                    m.live("e", periods=[("q1", 20, 18), ("q2", 5, 2)]),
                    m.live("e", periods=[("q1", 19, 18), ("q2", 7, 2)]))
    assert reason is None


def test_tennis_finished_set_does_not_change() -> None:
    m = Messages(Sport.TENNIS)
    _, reason = run(Sport.TENNIS, m.fixture("e"), m.live("e", periods=[("set1", 6, 4), ("set2", 1, 0)]),
                    m.live("e", periods=[("set1", 6, 3), ("set2", 1, 1)]))
    assert reason is not None
    assert "a finished set does not change" in reason


def test_tennis_set_in_progress_may_move() -> None:
    m = Messages(Sport.TENNIS)
    _, reason = run(Sport.TENNIS, m.fixture("e"), m.live("e", periods=[("set1", 6, 4), ("set2", 1, 0)]),
                    m.live("e", periods=[("set1", 6, 4), ("set2", 2, 0)]))
    assert reason is None


def test_tennis_best_of_three_has_no_fourth_set() -> None:
    m = Messages(Sport.TENNIS)
    sets = [("set1", 6, 4), ("set2", 4, 6), ("set3", 6, 7), ("set4", 1, 0)]
    # The stateless rules accept four sets (best of five exists); the fixture says three.
    _, reason = run(Sport.TENNIS, m.fixture("e"), m.live("e", periods=sets))
    assert reason is not None
    assert "best-of-3" in reason


def test_status_machine_holds_for_fixture_changes_too() -> None:
    m = Messages(Sport.FOOTBALL)
    _, reason = run(Sport.FOOTBALL, m.fixture("e"), m.live("e", EventStatus.LIVE),
                    m.fixture("e", complete=False, body={"status": "not_started"}))
    assert reason == "illegal event status transition live -> not_started"
