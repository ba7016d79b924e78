"""League tables from results: points, goal difference, form and the tie-breaks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.footballdata.standings import Result, league_table

T0 = datetime(2022, 8, 1, 15, tzinfo=UTC)


def results(*games: tuple[str, str, int, int]) -> list[Result]:
    return [Result(T0 + timedelta(days=n), h, a, hg, ag) for n, (h, a, hg, ag) in enumerate(games)]


def test_points_goal_difference_and_form_oldest_first() -> None:
    table = league_table(results(("a", "b", 2, 0), ("b", "c", 1, 1), ("c", "a", 3, 1), ("a", "b", 0, 0)))
    rows = {s.competitor_id: s for s in table}
    assert [(s.competitor_id, s.points) for s in table] == [("c", 4), ("a", 4), ("b", 2)]
    a = rows["a"]
    assert (a.played, a.won, a.drawn, a.lost, a.goals_for, a.goals_against) == (3, 1, 1, 1, 3, 3)
    assert (a.goal_difference, a.form) == (0, "WLD")
    assert rows["c"].goal_difference == 2
    assert [s.position for s in table] == [1, 2, 3]  # c and a level on 4: c's +2 beats a's 0


def test_form_keeps_only_the_last_five() -> None:
    games = [("a", "b", 1, 0)] * 3 + [("a", "b", 0, 1)] * 3
    table = {s.competitor_id: s for s in league_table(results(*games))}
    assert table["a"].form == "WWLLL"
    assert len(table["a"].results) == 6


def test_head_to_head_decides_between_clubs_level_on_points() -> None:
    # x and y finish on 7 points; y has the far better goal difference, x took 4 points off y
    games = results(("x", "y", 1, 0), ("y", "x", 0, 0), ("x", "v", 1, 0), ("v", "x", 1, 0),
                    ("y", "v", 9, 0), ("v", "y", 0, 9))
    assert [(s.competitor_id, s.points) for s in league_table(games)][:2] == [("y", 7), ("x", 7)]
    assert [s.competitor_id for s in league_table(games, "head_to_head")][:2] == ["x", "y"]


def test_head_to_head_waits_until_the_games_between_them_were_all_played() -> None:
    games = results(("x", "y", 1, 0), ("x", "v", 1, 0), ("v", "x", 1, 0), ("y", "v", 9, 0),
                    ("v", "y", 0, 9))
    assert [(s.competitor_id, s.points) for s in league_table(games, "head_to_head")][:2] == [
        ("y", 6), ("x", 6)]
