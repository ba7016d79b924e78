"""The backtest: bookmaker prices taken, results settled, CLV against Pinnacle's close, and a
real season (trained on 2019/20-2021/22, tested on 2022/23) accounted to the cent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from services.trading.backtest.cli import main
from services.trading.backtest.engine import bookmaker_id, run_backtest
from services.trading.backtest.walkforward import Prediction
from shared.footballdata.reader import read_file
from shared.trading.model import BetStatus
from tests.support.trading import strategies

REPO = Path(__file__).resolve().parents[2]
EXCERPT = REPO / "tests" / "fixtures" / "football-data" / "E0_1920_head.csv"
D = Decimal
BELIEVER = strategies("[[strategy]]\nname='believer'\nkind='expected_value'\nbankroll=100\n"
                      "threshold=0\nstake_share=0.1")[0]


def test_bookmakers_are_named_by_football_data_code_or_by_id() -> None:
    assert bookmaker_id("B365") == "bet365"
    assert bookmaker_id("PS") == "pinnacle"
    assert bookmaker_id("william_hill") == "william_hill"
    with pytest.raises(ValueError, match="unknown bookmaker 'XX'"):
        bookmaker_id("XX")


def test_bets_are_taken_at_the_opening_price_and_settled_by_the_score() -> None:
    matches = read_file(EXCERPT).matches
    # A model sure of home wins and goals: it backs home and over wherever the price pays.
    predictions = [Prediction(m, {"1x2": {"home": 0.9, "draw": 0.05, "away": 0.05},
                                  "totals|total=2.5": {"over": 0.9, "under": 0.1}}, "sure")
                   for m in matches]
    result = run_backtest(predictions, BELIEVER, "B365")
    assert result.matches == len(matches) == result.priced
    liverpool = [b for b in result.bets if "liverpool" in b.event_id]
    assert [(b.market_key, b.outcome_id, b.price) for b in liverpool] == [
        ("1x2", "home", D("1.14")), ("totals|total=2.5", "over", D("1.4"))]
    home, over = liverpool
    assert home.stake == D("10.00")  # 10 % of 100, the first kick-off of the file
    assert (home.status, home.payout) == (BetStatus.WON, D("11.4000"))  # 4-1
    assert over.status is BetStatus.WON
    assert home.closing_price == D("1.14")  # PSCH
    assert over.closing_price == D("1.34")  # PC>2.5
    assert home.clv == pytest.approx(0.0)
    assert over.clv == pytest.approx(1.4 / 1.34 - 1)
    assert over.closing_ev == pytest.approx(1.4 * (1 / 1.34) / (1 / 1.34 + 1 / 3.44) - 1)
    west_ham = next(b for b in result.bets if "west-ham" in b.event_id and b.market_key == "1x2")
    assert (west_ham.outcome_id, west_ham.status, west_ham.payout) == ("home", BetStatus.LOST, D(0))
    profit = sum((b.payout - b.stake for b in result.bets), D(0))
    assert result.final_bankroll == D(100) + profit
    assert result.equity[-1][1] == result.final_bankroll


def test_matches_without_the_bookmakers_prices_are_counted_but_not_bet() -> None:
    matches = read_file(EXCERPT).matches
    predictions = [Prediction(m, {"1x2": {"home": 0.9, "draw": 0.05, "away": 0.05}}, "sure")
                   for m in matches]
    result = run_backtest(predictions, BELIEVER, "BFE")  # no exchange columns in this file
    assert (result.matches, result.priced, result.bets) == (len(matches), 0, [])


def test_a_bad_invocation_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["--strategy", "value-ev", "--train", str(EXCERPT), "--test", str(empty),
                 "--bookmaker", "B365"]) == 2
    assert "the file is empty" in capsys.readouterr().err
    assert main(["--strategy", "nope", "--train", str(EXCERPT), "--test", str(EXCERPT),
                 "--bookmaker", "B365"]) == 2
    assert "no strategy 'nope'" in capsys.readouterr().err
