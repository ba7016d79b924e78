"""Fitting on the platform's results: which score each sport fits on, the window, the stored facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.pricing.__main__ import COMMANDS
from services.pricing.__main__ import main as pricing_main
from services.pricing.domain.training import (
    FinishedMatch,
    fit_sport,
    outcome,
    regular_score,
    usable,
    window,
)
from services.pricing.fit import Outcome, as_json, describe, parse
from shared.enums import Sport
from tests.support.sim_results import Played, play

T0 = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)


def match(*periods: tuple[str, int, int], score: tuple[int, int] = (0, 0), comp: str = "c",
          start: datetime = T0, home: str = "h", away: str = "a") -> FinishedMatch:
    return FinishedMatch(event_id=f"{comp}-{start:%Y%m%d%H%M}-{home}", competition_id=comp,
                         provider="p", start=start, home=home, away=away, home_score=score[0],
                         away_score=score[1], periods=periods)


@pytest.mark.parametrize(("sport", "finished", "expected"), [
    (Sport.FOOTBALL, match(("1h", 1, 0), ("2h", 1, 2), score=(2, 2)), (2, 2)),
    (Sport.FOOTBALL, match(("1h", 0, 0), ("2h", 1, 1), ("et1", 1, 0), ("pen", 4, 3), score=(2, 1)),
     (1, 1)),  # extra time and penalties are not the 90 minutes
    (Sport.FOOTBALL, match(score=(3, 1)), (3, 1)),  # history without half-times
    (Sport.FOOTBALL, match(("1h", 1, 0), score=(1, 0)), None),  # the second half is missing
    (Sport.ICE_HOCKEY, match(("p1", 1, 0), ("p2", 0, 1), ("p3", 1, 1), ("ot1", 1, 0),
                             score=(3, 2)), (2, 2)),
    (Sport.ICE_HOCKEY, match(("p1", 1, 0), score=(1, 0)), None),
    (Sport.BASKETBALL, match(("q1", 25, 20), ("q2", 25, 30), ("q3", 25, 25), ("q4", 25, 25),
                             ("ot1", 10, 8), score=(110, 108)), (100, 100)),
])
def test_each_sport_fits_on_its_regular_time_score(
    sport: Sport, finished: FinishedMatch, expected: tuple[int, int] | None,
) -> None:
    assert regular_score(sport, finished) == expected


def test_the_window_is_per_competition_and_old_matches_weigh_less() -> None:
    old = [match(comp="history", start=datetime(2023, 5, 1, tzinfo=UTC) - timedelta(days=d))
           for d in (0, 365, 2000)]
    new = [match(comp="feed", start=T0 - timedelta(hours=h)) for h in (0, 5)]
    chosen = window(old + new, days=1095, xi=0.0018)
    starts = {(m.competition_id, m.start): w for m, w in chosen}
    assert len(chosen) == 4  # the 2000-day-old match is outside its league's window
    assert starts[("history", datetime(2023, 5, 1, tzinfo=UTC))] == 1.0  # its league's newest
    assert starts[("history", datetime(2022, 5, 1, tzinfo=UTC))] == pytest.approx(0.518, abs=0.001)
    assert starts[("feed", T0)] == 1.0
    assert [m.start for m, _ in chosen] == sorted(m.start for m, _ in chosen)


def finished(played: list[Played], sport: Sport) -> list[FinishedMatch]:
    out = []
    for n, p in enumerate(played):
        live = p.final
        out.append(FinishedMatch(
            event_id=f"e{n}", competition_id=p.setup.competition.id, provider="feedgen",
            start=T0 + timedelta(minutes=n), home=p.setup.home.id, away=p.setup.away.id,
            home_score=live.score.home, away_score=live.score.away,
            periods=tuple((r.period, r.home, r.away) for r in live.score.periods),
            best_of=p.setup.best_of))
    return out


@pytest.mark.parametrize("sport", [Sport.ICE_HOCKEY, Sport.BASKETBALL, Sport.TENNIS, Sport.FOOTBALL])
def test_a_fit_on_the_generators_matches_beats_the_base_rates(sport: Sport) -> None:
    matches = finished(play(sport, 250), sport)
    assert len(usable(sport, matches)) == 250
    result = fit_sport(sport, matches, window_days=1095, xi=0.0018)
    assert result.training_size == 250
    assert result.training_from == T0
    assert result.training_to == T0 + timedelta(minutes=249)
    assert result.teams == 40
    assert result.sources["providers"] == {"feedgen": 250}
    assert result.metrics["evaluated"] > 200
    assert result.metrics["logloss"] < result.metrics["base_logloss"]
    assert result.fitted.kind in {"dixon_coles", "poisson_ratings", "normal_ratings",
                                  "serve_ratings"}


def test_no_usable_result_is_an_error_and_outcomes_read_the_right_score() -> None:
    with pytest.raises(ValueError, match="no usable"):
        fit_sport(Sport.ICE_HOCKEY, [match(("p1", 1, 0))], window_days=10, xi=0.0)
    assert outcome(Sport.TENNIS, match(("set1", 6, 4), ("set2", 3, 6), ("set3", 7, 6))) == 0
    assert outcome(Sport.ICE_HOCKEY, match(("p1", 1, 1), ("p2", 0, 0), ("p3", 0, 0),
                                           ("so", 1, 0), score=(2, 1))) == 1
    assert outcome(Sport.BASKETBALL, match(score=(99, 101))) == 2


def test_fit_needs_a_sport_and_reports_in_a_line_and_as_json() -> None:
    with pytest.raises(SystemExit):
        parse([])
    args = parse(["--sport", "tennis", "--sport", "tennis", "--if-new", "5"])
    assert args.sport == ["tennis", "tennis"]
    assert args.if_new == 5
    result = fit_sport(Sport.ICE_HOCKEY, finished(play(Sport.ICE_HOCKEY, 40), Sport.ICE_HOCKEY),
                       window_days=30, xi=0.0)
    line = describe(result)
    assert line.startswith(f"40 matches 2026-05-01 → 2026-05-01, {result.teams} sides; 1x2 log-loss")
    done = as_json([Outcome(Sport.ICE_HOCKEY, "stored", line, "ice_hockey:poisson_ratings:1",
                            result)])
    assert b'"training_size": 40' in done


def test_the_dispatcher_runs_what_exists_and_says_what_does_not(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    assert pricing_main(["nope"]) == 2
    assert "usage: python -m services.pricing {fit,evaluate,run}" in capsys.readouterr().err
    monkeypatch.setitem(COMMANDS, "evaluate", "services.pricing.not_in_this_build")
    assert pricing_main(["evaluate", "--train", "a.csv"]) == 2
    assert "evaluate: not in this build" in capsys.readouterr().err
