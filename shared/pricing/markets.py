"""Markets from an outlook: every market type of ``shared.rules``, keyed and named as they are.

A :class:`MarketLine` is one market of a match (its type, and its line for totals and
handicaps); it knows its canonical key (``totals|total=2.5``) and reads its outcomes'
probabilities off an :class:`~shared.pricing.outlook.Outlook`. :func:`price_markets`
does it for a whole list of lines and names every outcome by the id the sport's rules
give it, so the caller gets ``{"totals|total=2.5": {"over": 0.52, "under": 0.48}, ...}``.

What a probability means per market type:

- ``1x2``, ``moneyline``, ``btts``: plain probabilities, adding up to one.
- ``double_chance``: each outcome is two of the 1x2's; they add up to two (winners = 2).
- ``draw_no_bet``: stakes back on a draw, so the effective probabilities are home and
  away renormalised without the draw (their fair prices have nil expected return).
- ``totals``, ``handicap``, ``set_handicap``: effective probabilities (see
  :mod:`shared.pricing.lines`), adding up to one; :attr:`MarketPrice.odds` keeps each
  outcome's whole settlement law (win, half win, push, half lose, lose).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, cast

from shared.enums import Sport
from shared.markets import market_key
from shared.pricing.dist import normalise
from shared.pricing.lines import LineOdds, handicap_odds, handicap_probabilities, line_odds
from shared.pricing.lines import line_probabilities as _line_probabilities
from shared.pricing.outlook import Outlook
from shared.rules import rules_for

LineKind = Literal[
    "1x2", "moneyline", "double_chance", "draw_no_bet", "btts", "totals", "handicap",
    "set_handicap",
]
LINE_KINDS = ("totals", "handicap", "set_handicap")


@dataclass(frozen=True)
class MarketLine:
    """One market of a match: its type and line (for totals and handicaps)."""

    kind: LineKind
    line: Decimal | None = None
    key: str = field(init=False)

    def __post_init__(self) -> None:
        spec = {"totals": "total", "handicap": "hcp", "set_handicap": "hcp"}.get(self.kind)
        specifiers = {spec: str(self.line)} if spec and self.line is not None else None
        object.__setattr__(self, "key", market_key(self.kind, specifiers))

    def probabilities(self, outlook: Outlook) -> list[float]:
        """Effective probabilities of the outcomes, in the rules' outcome order."""
        kind, line = self.kind, self.line
        three = outlook.three_way
        if kind == "1x2" and three:
            return list(three)
        if kind == "double_chance" and three:
            home, draw, away = three
            return [home + draw, home + away, draw + away]
        if kind == "draw_no_bet" and three:
            return normalise([three[0], three[2]])
        if kind == "btts" and outlook.btts is not None:
            return [outlook.btts, 1 - outlook.btts]
        if kind == "moneyline":
            return normalise(list(outlook.winner))
        if kind == "totals" and line is not None:
            return list(_line_probabilities(outlook.total, line))
        if kind == "handicap" and line is not None:
            return list(handicap_probabilities(outlook.margin, line))
        if kind == "set_handicap" and line is not None and outlook.set_margin is not None:
            return list(handicap_probabilities(outlook.set_margin, line))
        raise ValueError(f"the outlook cannot price {self.key}")

    def odds(self, outlook: Outlook) -> tuple[LineOdds, ...] | None:
        """The settlement law of each outcome where stakes can come back (lines, draw no bet)."""
        kind, line = self.kind, self.line
        if kind == "totals" and line is not None:
            return line_odds(outlook.total, line)
        if kind == "handicap" and line is not None:
            return handicap_odds(outlook.margin, line)
        if kind == "set_handicap" and line is not None and outlook.set_margin is not None:
            return handicap_odds(outlook.set_margin, line)
        if kind == "draw_no_bet" and outlook.three_way:
            home, draw, away = outlook.three_way
            return LineOdds(home, 0.0, draw, 0.0, away), LineOdds(away, 0.0, draw, 0.0, home)
        return None


@dataclass(frozen=True)
class MarketPrice:
    """The fair probabilities of one market, by the outcome ids of the sport's rules.

    ``probabilities`` add up to ``winners`` (2 for double chance, else 1); they are the
    inverses of the fair prices. ``odds`` is set for markets with pushes; a line certain
    to push reads 0.5 / 0.5 in ``probabilities`` (every stake comes back whatever the
    price) and has a NaN ``effective`` in ``odds``.
    """

    key: str
    probabilities: dict[str, float]
    winners: int = 1
    odds: dict[str, LineOdds] | None = None

    def fair_prices(self) -> dict[str, float]:
        """Decimal fair prices (no margin) as floats; inf for an impossible outcome."""
        return {o: (1 / p if p > 0 else float("inf")) for o, p in self.probabilities.items()}


def price_line(sport: Sport, line: MarketLine, outlook: Outlook) -> MarketPrice:
    """One market's fair probabilities, named by the rules' outcome ids."""
    spec = rules_for(sport).markets.get(line.kind)
    if spec is None:
        raise ValueError(f"{sport.value} has no market {line.kind}")
    probs = line.probabilities(outlook)
    laws = line.odds(outlook)
    return MarketPrice(
        key=line.key, probabilities=dict(zip(spec.outcomes, probs, strict=True)),
        winners=spec.winners,
        odds=dict(zip(spec.outcomes, laws, strict=True)) if laws is not None else None,
    )


def price_markets(sport: Sport, outlook: Outlook, lines: Iterable[MarketLine]) -> dict[str, MarketPrice]:
    """Every market of ``lines`` priced from ``outlook``, keyed by canonical market key."""
    return {line.key: price_line(sport, line, outlook) for line in lines}


def plain_markets(sport: Sport) -> tuple[MarketLine, ...]:
    """The sport's market types that take no line (1x2, moneyline, btts...)."""
    kinds = [kind for kind in rules_for(sport).markets if kind not in LINE_KINDS]
    return tuple(MarketLine(cast(LineKind, kind)) for kind in kinds)
