"""The generator's book: settlement of every market type by the rules, decided markets."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

import pytest

from feedgen.book import Book, FinalResult, MarketLine, Outlook
from shared.enums import Sport
from shared.markets import MarketSettlement
from shared.pricing.markets import LineKind
from shared.rules import rules_for


@pytest.mark.parametrize("sport", list(Sport))
def test_every_book_settles_each_market_by_the_rules(sport: Sport) -> None:
    rules = rules_for(sport)
    # The rules name their market types in data (str); the plain ones are LineKinds.
    lines = [MarketLine(cast(LineKind, kind)) for kind in rules.markets if kind not in (
        "totals", "handicap", "set_handicap")]
    lines += [MarketLine("totals", Decimal("2")), MarketLine("handicap", Decimal("-0.25"))]
    if sport is Sport.TENNIS:
        lines.append(MarketLine("set_handicap", Decimal("-1.5")))
    book = Book(sport, tuple(lines), 0.05)
    for result in (
        FinalResult(winner="home", total=2, margin=0, regular=(1, 1), set_margin=2),
        FinalResult(winner="away", total=3, margin=-1, regular=(1, 2), set_margin=-1),
    ):
        for settled in book.settle(result):
            assert rules.check_settlement(settled) == [], settled
            assert isinstance(settled, MarketSettlement)


def test_decided_markets_are_deactivated_not_priced() -> None:
    book = Book(Sport.BASKETBALL, (MarketLine("moneyline"), MarketLine("totals", Decimal("200.5"))),
                0.05)
    outlook = Outlook(winner=(0.999, 0.001), total={230: 1.0}, margin={10: 1.0})
    markets = book.markets(outlook)
    assert [m.status.value for m in markets] == ["deactivated", "deactivated"]
    assert all(not o.active and o.price is None for m in markets for o in m.outcomes)
