"""Fitting a sport's model on the platform's finished events (pure: rows in, model out).

What each sport fits on (the score of regular time: overtime, extra time and shoot-outs
are the in-play models' business):

==========  =============================================  ====================================
sport       result used                                    fit (``shared.pricing``)
==========  =============================================  ====================================
football    goals of ``1h`` + ``2h`` (the score without    Dixon-Coles with time decay and a
            half-time periods, as imported history has)    prior on the ratings (``fit_football``)
ice hockey  goals of ``p1``-``p3``                         Poisson ratings (``fit_hockey``)
basketball  points of ``q1``-``q4``                        normal ratings (``fit_basketball``)
tennis      games of every set                             serve ratings (``fit_tennis``)
==========  =============================================  ====================================

The window is per competition: the matches within ``window_days`` of that
competition's newest one (three seasons of each imported league, all of a feed's
recent matches), and a match weighs ``exp(-ξ · days before its competition's newest
match)``. An imported league that ended years ago is thus not discounted against a
feed that runs today, and within a league old matches count less, as Dixon and Coles
weigh them.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.pricing.domain.models import FittedModel, PricingModel
from shared.enums import Sport
from shared.pricing.basketball_fit import fit_basketball
from shared.pricing.event import event_outlook
from shared.pricing.football_fit import MatchResult, fit_football
from shared.pricing.hockey_fit import fit_hockey
from shared.pricing.ratings import ScoredMatch
from shared.pricing.tennis_fit import TennisMatch, fit_tennis

REGULATION = {Sport.ICE_HOCKEY: ("p1", "p2", "p3"), Sport.BASKETBALL: ("q1", "q2", "q3", "q4")}
FOOTBALL_HALVES = ("1h", "2h")
METRICS_MAX = 2000  # in-sample scores are computed on the newest matches only
PeriodScore = tuple[str, int, int]


@dataclass(frozen=True)
class FinishedMatch:
    """A finished event as MySQL has it: who, when, where from, and its score."""

    event_id: str
    competition_id: str
    provider: str
    start: datetime
    home: str
    away: str
    home_score: int
    away_score: int
    periods: tuple[PeriodScore, ...] = ()
    best_of: int | None = None


@dataclass(frozen=True)
class FitResult:
    """A fitted model with what a stored model says about itself."""

    sport: Sport
    fitted: FittedModel
    training_from: datetime
    training_to: datetime
    training_size: int
    teams: int
    metrics: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)


def regular_score(sport: Sport, match: FinishedMatch) -> tuple[int, int] | None:
    """The score the sport's fit uses, or None when the periods cannot say it."""
    if sport is Sport.FOOTBALL:
        halves = [p for p in match.periods if p[0] in FOOTBALL_HALVES]
        if len(halves) == 2:
            return sum(p[1] for p in halves), sum(p[2] for p in halves)
        return (match.home_score, match.away_score) if not match.periods else None
    names = REGULATION.get(sport)
    if names is None:
        return None
    played = [p for p in match.periods if p[0] in names]
    if len(played) != len(names):
        return None
    return sum(p[1] for p in played), sum(p[2] for p in played)


def sets_of(match: FinishedMatch) -> tuple[tuple[int, int], ...]:
    """A tennis match's games per set, in order."""
    return tuple((h, a) for name, h, a in match.periods if name.startswith("set"))


def window(matches: Sequence[FinishedMatch], days: int, xi: float) -> list[tuple[FinishedMatch, float]]:
    """The matches within ``days`` of their competition's newest, each with its weight."""
    newest: dict[str, datetime] = {}
    for m in matches:
        if m.competition_id not in newest or m.start > newest[m.competition_id]:
            newest[m.competition_id] = m.start
    out = []
    for m in sorted(matches, key=lambda m: (m.start, m.event_id)):
        age = newest[m.competition_id] - m.start
        if age <= timedelta(days=days):
            out.append((m, math.exp(-xi * age.total_seconds() / 86_400)))
    return out


def _fit(sport: Sport, chosen: list[tuple[FinishedMatch, float]]) -> tuple[FittedModel, int]:
    """The sport's fit on the usable matches; returns the model and how many it used."""
    weights = [w for _, w in chosen]
    if sport is Sport.TENNIS:
        tennis = [TennisMatch(m.start.date(), m.home, m.away, sets_of(m), m.best_of or 3)
                  for m, _ in chosen]
        return fit_tennis(tennis, weights=weights), len(tennis)
    scores = [(m, regular_score(sport, m)) for m, _ in chosen]
    if sport is Sport.FOOTBALL:
        results = [MatchResult(m.start.date(), m.home, m.away, *s) for m, s in scores if s]
        return fit_football_model(results, weights), len(results)
    scored = [ScoredMatch(m.start.date(), m.home, m.away, *s) for m, s in scores if s]
    if sport is Sport.ICE_HOCKEY:
        return fit_hockey(scored, weights=weights), len(scored)
    return fit_basketball(scored, weights=weights), len(scored)


def fit_football_model(results: list[MatchResult], weights: list[float]) -> FittedModel:
    """The one place football is fitted: swap the model here (the decay is in ``weights``)."""
    return fit_football(results, kind="dixon_coles", xi=0.0, weights=weights)


def usable(sport: Sport, matches: Sequence[FinishedMatch]) -> list[FinishedMatch]:
    """The matches whose score the sport's fit can use."""
    if sport is Sport.TENNIS:
        return [m for m in matches if sets_of(m)]
    return [m for m in matches if regular_score(sport, m) is not None]


def fit_sport(sport: Sport, matches: Sequence[FinishedMatch], *, window_days: int,
              xi: float) -> FitResult:
    """Fit ``sport`` on its finished matches (raises ValueError when none is usable)."""
    chosen = window(usable(sport, matches), window_days, xi)
    if not chosen:
        raise ValueError(f"no usable {sport.value} results")
    began = time.process_time()
    fitted, size = _fit(sport, chosen)
    fit_cpu = time.process_time() - began
    picked = [m for m, _ in chosen]
    model = PricingModel(sport, fitted)
    metrics = {"log_likelihood": round(fitted.log_likelihood, 3), "fit_cpu_s": round(fit_cpu, 3),
               **score(model, picked[-METRICS_MAX:])}
    sources = {
        "providers": dict(Counter(m.provider for m in picked).most_common()),
        "competitions": dict(Counter(m.competition_id for m in picked).most_common()),
        "window_days": window_days, "xi": xi, "decay": "per competition",
    }
    return FitResult(sport, fitted, picked[0].start, picked[-1].start, size, _teams(fitted),
                     metrics, sources)


def _teams(fitted: FittedModel) -> int:
    teams = fitted.teams
    return len(teams) if isinstance(teams, tuple) else teams


def outcome(sport: Sport, match: FinishedMatch) -> int | None:
    """The result market's outcome: 0 home, 1 draw, 2 away (1x2); 0 or 2 (winner)."""
    if sport in (Sport.FOOTBALL, Sport.ICE_HOCKEY):
        s = regular_score(sport, match)
        if s is None:
            return None
        return 0 if s[0] > s[1] else 1 if s[0] == s[1] else 2
    if sport is Sport.TENNIS:
        sets = sets_of(match)
        won = sum(h > a for h, a in sets)
        lost = sum(a > h for h, a in sets)
        return None if won == lost else 0 if won > lost else 2
    if match.home_score == match.away_score:
        return None
    return 0 if match.home_score > match.away_score else 2


def score(model: PricingModel, matches: Sequence[FinishedMatch]) -> dict[str, Any]:
    """In-sample log-loss of the result market (1x2, or the winner) against base rates."""
    sport = model.sport
    seen: list[tuple[int, tuple[float, float, float]]] = []
    for m in matches:
        result = outcome(sport, m)
        if result is None:
            continue
        view = event_outlook(model.params_of(m.home, m.away, best_of=m.best_of))
        three = view.three_way or (view.winner[0], 0.0, view.winner[1])
        seen.append((result, three))
    if not seen:
        return {}
    counts = Counter(r for r, _ in seen)
    rates = {k: counts[k] / len(seen) for k in counts}
    model_loss = -sum(math.log(max(p[r], 1e-12)) for r, p in seen) / len(seen)
    base_loss = -sum(math.log(rates[r]) for r, _ in seen) / len(seen)
    market = "1x2" if sport in (Sport.FOOTBALL, Sport.ICE_HOCKEY) else "winner"
    return {"market": market, "evaluated": len(seen), "logloss": round(model_loss, 4),
            "base_logloss": round(base_loss, 4)}

