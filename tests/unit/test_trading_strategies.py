"""Strategies: the file format, filters, edges and stakes (expected value and fractional Kelly)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.trading.domain.strategies import (
    StrategyError,
    edge,
    find,
    kelly_share,
    load_strategies,
    parse_strategies,
)
from shared.enums import Sport
from shared.trading.model import BetPhase, StrategyKind
from tests.support.trading import strategies

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_strategies_file_has_an_expected_value_and_a_kelly_strategy() -> None:
    shipped = load_strategies(REPO / "infra" / "trading" / "strategies.toml")
    assert {s.kind for s in shipped} == {StrategyKind.EXPECTED_VALUE, StrategyKind.KELLY}
    assert all(s.bankroll > 0 for s in shipped)


def test_edge_is_probability_times_price_minus_one() -> None:
    assert edge(0.5, Decimal("2.1")) == pytest.approx(0.05)
    assert edge(0.5, Decimal("1.9")) == pytest.approx(-0.05)


def test_kelly_share_is_edge_over_net_odds_and_nil_without_edge() -> None:
    assert kelly_share(0.5, Decimal("2.2")) == pytest.approx(0.1 / 1.2)
    assert kelly_share(0.4, Decimal("2.0")) == 0.0


def test_expected_value_bets_a_flat_share_of_the_bankroll_from_the_threshold_on() -> None:
    ev = find(strategies(), "ev")  # threshold 5 %, 1 % of the bankroll
    assert ev.stake(0.5, Decimal("2.10"), Decimal("1000")) == (Decimal("10.00"), "placed")
    assert ev.stake(0.5, Decimal("2.09"), Decimal("1000")) == (None, "no_edge")
    assert ev.stake(0.9, Decimal("5"), Decimal("537.40")) == (Decimal("5.37"), "placed")


def test_kelly_stakes_the_fraction_of_the_kelly_share_capped() -> None:
    kelly = find(strategies(), "kelly")  # min edge 2 %, quarter Kelly, at most 5 %
    stake, why = kelly.stake(0.5, Decimal("2.2"), Decimal("1000"))
    assert why == "placed"
    assert stake == Decimal("20.83")  # 1000 x 0.25 x 0.1/1.2, rounded down to the cent
    assert kelly.stake(0.9, Decimal("2.0"), Decimal("1000")) == (Decimal("50.00"), "placed")  # cap
    assert kelly.stake(0.5, Decimal("2.03"), Decimal("1000")) == (None, "no_edge")


def test_no_stake_below_the_minimum_or_without_funds() -> None:
    ev = find(strategies(), "ev")
    assert ev.stake(0.6, Decimal("2"), Decimal("0.5")) == (None, "below_min_stake")
    assert ev.stake(0.6, Decimal("2"), Decimal("0")) == (None, "no_funds")


@given(p=st.floats(0.01, 0.99), price=st.decimals("1.01", "50", places=2),
       bankroll=st.decimals("0", "100000", places=2))
def test_a_stake_is_never_negative_nor_above_the_bankroll_nor_off_the_cent(
    p: float, price: Decimal, bankroll: Decimal,
) -> None:
    for strategy in strategies():
        stake, _ = strategy.stake(p, price, bankroll)
        if stake is not None:
            assert Decimal("0.01") <= stake <= bankroll
            assert stake == stake.quantize(Decimal("0.01"))
            assert edge(p, price) > 0


def test_filters_name_what_leaves_a_price_out() -> None:
    (s,) = parse_strategies("""
[[strategy]]
name = "narrow"
kind = "expected_value"
bankroll = 100
threshold = 0
stake_share = 0.1
sports = ["tennis"]
markets = ["moneyline", "totals|total=22.50"]
phase = "in_play"
min_price = 1.5
max_price = 3
""")
    ok = (Sport.TENNIS, "moneyline", BetPhase.IN_PLAY, Decimal("2"))
    assert s.refuses(*ok) is None
    assert s.refuses(Sport.TENNIS, "totals|total=22.5", BetPhase.IN_PLAY, Decimal("2")) is None
    assert s.refuses(Sport.TENNIS, "totals|total=21.5", BetPhase.IN_PLAY, Decimal("2")) == "market"
    assert s.refuses(Sport.FOOTBALL, "moneyline", BetPhase.IN_PLAY, Decimal("2")) == "sport"
    assert s.refuses(Sport.TENNIS, "moneyline", BetPhase.PRE_MATCH, Decimal("2")) == "phase"
    assert s.refuses(Sport.TENNIS, "moneyline", BetPhase.IN_PLAY, Decimal("3.01")) == "price_range"
    assert s.refuses(Sport.TENNIS, "moneyline", BetPhase.IN_PLAY, Decimal("1.49")) == "price_range"


@pytest.mark.parametrize(("text", "message"), [
    ("not toml [", "not TOML"),
    ("x = 1", "unknown top-level keys x"),
    ("[[strategy]]\nname='a'\nkind='kelly'\nbankroll=1\nmin_edge=0\nkelly_fraction=0.5",
     "needs max_stake_share"),
    ("[[strategy]]\nname='a'\nkind='expected_value'\nbankroll=1\nthreshold=0\nstake_share=0.1"
     "\nkelly_fraction=0.5", "kelly_fraction do not apply"),
    ("[[strategy]]\nname='a'\nkind='expected_value'\nbankroll=1\nthreshold=0\nstake_share=1.5",
     "stake_share"),
    ("[[strategy]]\nname='a'\nkind='expected_value'\nbankroll=1\nthreshold=0\nstake_share=0.1"
     "\n[[strategy]]\nname='a'\nkind='expected_value'\nbankroll=1\nthreshold=0\nstake_share=0.1",
     "used twice: a"),
    ("[[strategy]]\nname='a'\nkind='expected_value'\nbankroll=1\nthreshold=0\nstake_share=0.1"
     "\nmarkets=['totals|total=x y']", "markets"),
])
def test_a_bad_strategies_file_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        parse_strategies(text)


def test_a_bankroll_from_toml_is_exact() -> None:
    (s,) = parse_strategies("[[strategy]]\nname='a'\nkind='expected_value'\nbankroll=1000.10"
                            "\nthreshold=0\nstake_share=0.1")
    assert s.bankroll == Decimal("1000.10")


def test_find_names_the_known_strategies() -> None:
    with pytest.raises(StrategyError, match="known: ev, kelly"):
        find(strategies(), "nope")
