"""The backtest on real seasons (no stack needed, but the real files and a minute of CPU):
the walk-forward never sees a result before pricing its match, and a season is accounted
to the cent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from services.trading.backtest.cli import main
from services.trading.backtest.walkforward import walk_forward
from shared.footballdata.model import OddsPhase
from shared.footballdata.reader import read_file
from tests.support.football_results import data_file
from tests.support.trading import strategies

REPO = Path(__file__).resolve().parents[2]
EXCERPT = REPO / "tests" / "fixtures" / "football-data" / "E0_1920_head.csv"
D = Decimal
BELIEVER = strategies("[[strategy]]\nname='believer'\nkind='expected_value'\nbankroll=100\n"
                      "threshold=0\nstake_share=0.1")[0]


def test_the_walk_forward_never_sees_a_result_before_pricing_its_match() -> None:
    train = read_file(data_file("E0_2122.csv")).matches
    test = read_file(data_file("E0_2223.csv")).matches[:30]
    first = list(walk_forward(train, test))
    # Change the scores of every test match: no prediction of the same day may move.
    flipped = [type(m)(**{**{f: getattr(m, f) for f in m.__dataclass_fields__},
                          "home_goals": m.away_goals, "away_goals": m.home_goals}) for m in test]
    second = list(walk_forward(train, flipped))
    first_day = min(m.match_date for m in test)
    for a, b in zip(first, second, strict=True):
        assert a.match.event_id == b.match.event_id
        if a.match.match_date == first_day:
            assert a.probabilities == b.probabilities
        assert sum(a.probabilities["1x2"].values()) == pytest.approx(1.0)
        assert sum(a.probabilities["totals|total=2.5"].values()) == pytest.approx(1.0)


def test_a_real_season_backtest_is_accounted_to_the_cent(tmp_path: Path) -> None:
    files = [str(data_file(f"E0_{s}.csv")) for s in ("1920", "2021", "2122")]
    out, chart = tmp_path / "figures.json", tmp_path / "pl.png"
    assert main(["--strategy", "kelly-quarter", "--train", *files, "--test", str(data_file("E0_2223.csv")),
                 "--bookmaker", "B365", "--json", str(out), "--plot", str(chart)]) == 0
    data = json.loads(out.read_text())
    bets = data["bet_list"]
    assert data["matches"] == 380
    assert data["bets"] == len(bets) > 50
    staked = sum((D(b["stake"]) for b in bets), D(0))
    returned = sum((D(b["payout"]) for b in bets), D(0))
    assert D(data["staked"]) == staked.quantize(D("0.01"))
    assert D(data["profit"]) == (returned - staked).quantize(D("0.01"))
    assert D(data["final_bankroll"]) == (D(data["bankroll"]) + returned - staked).quantize(D("0.01"))
    assert data["clv"]["bets"] == sum(b["closing_price"] is not None for b in bets)
    # Every price is bet365's opening price of that outcome, and every bet settled.
    opening = {(m.event_id, q.market_key, q.outcome): q.price
               for m in read_file(data_file("E0_2223.csv")).matches for q in m.quotes
               if q.bookmaker == "bet365" and q.phase is OddsPhase.OPENING}
    for b in bets:
        assert D(b["price"]) == opening[(b["event_id"], b["market_key"], b["outcome_id"])]
        assert b["status"] in {"won", "lost"}  # 1X2 and over/under 2.5 never push
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
