"""The honest sanity check (issue 14, item 6): the feed generator's matches, in process, through
the trading engine, with the generator's own TRUE probabilities as the model. Not a test module.

The generator prices every market from its true model plus a margin (``--margin``, 5 %),
so on its feed

- a strategy that knows the true probabilities (``truth``: expected value, threshold 0)
  must find next to no value, and every bet it does place must be explained: its price
  was quoted from something other than the truth of that moment (a pre-match price still
  carrying the simulated news drift, or a price left stale while the truth moved);
- a strategy that backs every outcome at every price (``back-all``) must lose about the
  margin, ``m / (1 + m)`` of its stakes, give or take its luck.

A simulator that shows a profit on the second, or value on true prices, is broken.

How: each match is :func:`feedgen.feed.match_feed`, the generator's own code, with its
sport model wrapped so that every quote records what it was priced from (the moment's
state and the pre-match jitter). The drafts become the deltas a processor would publish
(one version each); after the fixture and every live moment the harness publishes model
prices from the same model's outlook of that moment, without jitter: the truth. The
engine settles every bet from the generator's settlements. ``python -m
tests.support.trading_sanity --matches 200`` prints the figures of a larger run.
"""

from __future__ import annotations

import argparse
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

from feedgen.feed import Draft, match_feed
from feedgen.sim import SportModel, make_model, make_setup
from services.trading.domain.book import Bet, Book
from services.trading.domain.engine import Engine
from services.trading.domain.models import ModelBook
from services.trading.domain.strategies import Strategy, parse_strategies
from shared.enums import EventStatus, MarketStatus, MessageKind, Sport
from shared.fair import FairMarket, FairOutcome, ModelPrices, Phase
from shared.live import AppliedSettlement, EventDelta, FixtureState, LiveState, MarketState, OutcomeState
from shared.model import BetStopBody, FixtureBody, LiveBody, OddsBody, SettlementBody
from shared.pricing.lines import LineOdds
from shared.pricing.markets import MarketLine
from shared.pricing.outlook import Outlook
from shared.rules import rules_for
from shared.trading.model import BetStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MARGIN = 0.05
STRATEGIES = parse_strategies("""
[[strategy]]
name = "truth"
kind = "expected_value"
bankroll = 1000000
threshold = 0.0
stake_share = 0.0001

[[strategy]]
name = "back-all"
kind = "expected_value"
bankroll = 1000000000
threshold = -1.0
stake_share = 0.000001
max_bets_per_outcome = 1000
""")


@dataclass(frozen=True, slots=True)
class Basis:
    """What a price or a model was computed from: a moment of the match and a jitter."""

    moment: int  # -1 before kick-off
    jitter: float = 0.0


@dataclass(frozen=True, slots=True)
class Truth:
    """The true model at one moment: each outcome's probability and settlement law."""

    basis: Basis
    probabilities: dict[str, dict[str, float]]
    laws: dict[tuple[str, str], LineOdds]


class _Recorder:
    """The generator's sport model, noting what each quote and each moment was."""

    def __init__(self, model: SportModel) -> None:
        self.model = model
        self.quote = Basis(-1)
        self.moment_index = -1
        self.state: Any = None
        self.offered: tuple[MarketLine, ...] = ()

    def outlook(self, state: Any | None, *, jitter: float = 0.0) -> Outlook:
        self.quote = Basis(self.moment_index if state is not None else -1, jitter)
        return self.model.outlook(state, jitter=jitter)

    def lines(self, outlook: Outlook) -> tuple[MarketLine, ...]:
        self.offered = self.model.lines(outlook)
        return self.offered

    def moments(self) -> Iterator[Any]:
        for n, moment in enumerate(self.model.moments()):
            self.moment_index, self.state = n, moment.state
            yield moment

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


@dataclass
class SanityRun:
    """What the run produced: the engine's book, and what every price and model was."""

    engine: Engine
    book: Book
    matches: int = 0
    deltas: int = 0
    quotes: dict[tuple[str, int], Basis] = field(default_factory=dict)  # (event, version)
    truths: dict[tuple[str, int], Truth] = field(default_factory=dict)  # (event, model version)

    def offered(self, strategy: str) -> int:
        """Price changes offered to a strategy (whatever it decided)."""
        return sum(n for (s, _), n in self.book.decisions.items() if s == strategy)

    def bets(self, strategy: str) -> list[Bet]:
        """The strategy's bets."""
        return [b for bets in self.book.bets.values() for b in bets if b.strategy == strategy]


def _truth(sport: Sport, recorder: _Recorder, state: Any, basis: Basis) -> Truth:
    outlook = recorder.model.outlook(state)
    rules = rules_for(sport).markets
    probabilities: dict[str, dict[str, float]] = {}
    laws: dict[tuple[str, str], LineOdds] = {}
    for line in recorder.offered:
        ids = rules[line.kind].outcomes
        probabilities[line.key] = {o: min(1.0, max(0.0, p))
                                   for o, p in zip(ids, line.probabilities(outlook), strict=True)}
        odds = line.odds(outlook)
        if odds is not None:
            laws.update(((line.key, o), law) for o, law in zip(ids, odds, strict=True))
    return Truth(basis, probabilities, laws)


def _model_prices(event_id: str, sport: Sport, version: int, truth: Truth, phase: Phase,
                  at: datetime) -> ModelPrices:
    return ModelPrices(
        event_id=event_id, sport=sport, event_version=version, phase=phase, model="generator-truth",
        training_size=0, computed_at=at, margin=Decimal(0),
        markets=tuple(FairMarket(market_key=k, outcomes=tuple(FairOutcome(id=o, probability=p)
                                                            for o, p in ps.items()))
                      for k, ps in truth.probabilities.items()))


class _Match:
    """One match's drafts as a processor's deltas, and the true model prices beside them."""

    def __init__(self, run: SanityRun, sport: Sport, event_id: str, recorder: _Recorder) -> None:
        self.run, self.sport, self.event_id, self.recorder = run, sport, event_id, recorder
        self.version = 0
        self.status = EventStatus.NOT_STARTED
        self.markets: dict[str, MarketState] = {}

    def feed(self, draft: Draft) -> None:
        at = T0 + timedelta(seconds=draft.t)
        body = draft.body
        markets: list[MarketState] = []
        extra: dict[str, Any] = {}
        if isinstance(body, FixtureBody):
            extra["fixture"] = FixtureState(competition=body.competition, start_time=body.start_time,
                                            home=body.home, away=body.away, best_of=body.best_of)
        elif isinstance(body, OddsBody):
            markets = [MarketState(market_key=m.market_key, status=m.status, outcomes=tuple(
                OutcomeState(id=o.id, price=o.price, active=o.active) for o in m.outcomes))
                for m in body.markets]
        elif isinstance(body, BetStopBody):
            markets = [m.model_copy(update={"status": MarketStatus.SUSPENDED})
                       for m in self.markets.values() if m.status is MarketStatus.ACTIVE]
        elif isinstance(body, SettlementBody):
            extra["settlements"] = tuple(AppliedSettlement(
                market_key=s.market_key, outcomes=s.outcomes, certainty=body.certainty)
                for s in body.markets)
            markets = [self.markets[s.market_key].model_copy(update={"status": MarketStatus.SETTLED})
                       for s in body.markets]
        elif isinstance(body, LiveBody):
            self.status = body.status
            extra["live"] = LiveState(status=body.status, period=body.period, clock=body.clock,
                                      score=body.score, game=body.game, server=body.server)
        self.version += 1
        self.markets.update((m.market_key, m) for m in markets)
        delta = EventDelta(event_id=self.event_id, sport=self.sport, version=self.version,
                           message_id=f"{self.event_id}-{self.version}", kind=draft.kind,
                           provider="sanity", provider_ts=at, applied_at=at, status=self.status,
                           markets=tuple(markets), **extra)
        if draft.kind is MessageKind.ODDS:
            self.run.quotes[(self.event_id, self.version)] = self.recorder.quote
        if draft.kind in (MessageKind.FIXTURE, MessageKind.LIVE):
            self._publish_truth(draft, at)
        self.run.engine.apply(self.run.book, delta, at)
        self.run.deltas += 1

    def _publish_truth(self, draft: Draft, at: datetime) -> None:
        """Model prices from the true model at this moment, at this delta's version."""
        live = draft.kind is MessageKind.LIVE
        state = self.recorder.state if live else None
        basis = Basis(self.recorder.moment_index if live else -1)
        truth = _truth(self.sport, self.recorder, state, basis)
        phase: Phase = "pre_match" if not live else "in_play" if draft.in_play else "ended"
        self.run.truths[(self.event_id, self.version)] = truth
        self.run.engine.models.add(_model_prices(self.event_id, self.sport, self.version, truth, phase, at))


def simulate(sports: Sequence[Sport], matches: int, *, seed: int = 14, margin: float = MARGIN,
             strategies: Sequence[Strategy] = STRATEGIES) -> SanityRun:
    """``matches`` matches of each sport through the engine; returns the run."""
    engine = Engine(strategies, ModelBook(keep=4, max_age_s=3600))
    run = SanityRun(engine, Book(balances={s.name: s.bankroll for s in strategies}))
    recorders: list[_Recorder] = []

    def recording(setup: Any, rng: random.Random) -> Any:
        recorders.append(_Recorder(make_model(setup, rng)))
        return recorders[-1]

    with mock.patch("feedgen.feed.make_model", new=recording):
        for sport in sports:
            for n in range(matches):
                rng = random.Random(f"{seed}:{sport.value}:{n}")
                number = list(Sport).index(sport) * 1_000_000 + n
                setup = make_setup(sport, number, seed, rng)
                drafts = match_feed(setup, rng, margin=margin, prematch_seconds=600.0,
                                    kickoff_at=T0 + timedelta(seconds=600))
                first = next(drafts)  # the generator makes its model before the first draft
                match = _Match(run, sport, setup.event_id, recorders[-1])
                match.feed(first)
                for draft in drafts:
                    match.feed(draft)
                engine.committed(run.book)
                run.matches += 1
    return run


def truth_feed(sport: Sport, number: int, *, seed: int = 14, margin: float = MARGIN,
               computed_at: datetime | None = None) -> tuple[str, list[tuple[Draft, ModelPrices | None]]]:
    """One generator match: its event id and its drafts, each with the true model prices of
    its version (the n-th draft is version n once applied), as a perfect pricing service
    would publish them. ``computed_at``: the model's time (default: the draft's)."""
    recorders: list[_Recorder] = []

    def recording(setup: Any, rng: random.Random) -> Any:
        recorders.append(_Recorder(make_model(setup, rng)))
        return recorders[-1]

    rng = random.Random(f"{seed}:{sport.value}:{number}")
    setup = make_setup(sport, number, seed, rng)
    out: list[tuple[Draft, ModelPrices | None]] = []
    with mock.patch("feedgen.feed.make_model", new=recording):
        drafts = match_feed(setup, rng, margin=margin, prematch_seconds=600.0,
                            kickoff_at=T0 + timedelta(seconds=600))
        for version, draft in enumerate(drafts, 1):
            prices = None
            if draft.kind in (MessageKind.FIXTURE, MessageKind.LIVE):
                live = draft.kind is MessageKind.LIVE
                recorder = recorders[-1]
                truth = _truth(sport, recorder, recorder.state if live else None,
                               Basis(recorder.moment_index if live else -1))
                phase: Phase = "pre_match" if not live else "in_play" if draft.in_play else "ended"
                prices = _model_prices(setup.event_id, sport, version, truth, phase,
                                       computed_at or T0 + timedelta(seconds=draft.t))
            out.append((draft, prices))
    return setup.event_id, out


# --- the figures ---------------------------------------------------------------------


def unit_profit(truth: Truth, market_key: str, outcome_id: str, price: Decimal) -> float:
    """Expected profit of a unit stake at ``price`` if ``truth`` is right."""
    p = float(price)
    law = truth.laws.get((market_key, outcome_id))
    if law is None:
        return truth.probabilities[market_key][outcome_id] * p - 1
    return law.win * (p - 1) + law.half_win * (p - 1) / 2 - law.half_lose / 2 - law.lose


def explain(run: SanityRun, bet: Bet) -> str:
    """Why a bet found value on the generator's feed: what its price was quoted from."""
    quote = run.quotes[(bet.event_id, bet.market_version)]
    truth = run.truths[(bet.event_id, bet.model_version)]
    if quote.jitter != 0:
        return "pre-match drift"  # the price still carried the simulated news
    if quote.moment != truth.basis.moment:
        return "stale price"  # quoted at another moment than the truth it was judged by
    return "unexplained"


@dataclass(frozen=True)
class Figures:
    """One strategy's figures on the run."""

    strategy: str
    offered: int
    bets: int
    staked: Decimal
    profit: Decimal
    expected_profit: float
    standard_error: float  # of profit - expected, from its spread between matches
    explanations: dict[str, int]

    @property
    def return_on_stakes(self) -> float:
        """Profit over everything staked."""
        return float(self.profit / self.staked) if self.staked else 0.0

    @property
    def expected_return(self) -> float:
        """Expected profit over everything staked, under the truth."""
        return self.expected_profit / float(self.staked) if self.staked else 0.0

    @property
    def z(self) -> float:
        """How many standard errors the realised profit is from the expected one."""
        gap = float(self.profit) - self.expected_profit
        return gap / self.standard_error if self.standard_error else 0.0


def _clustered_error(deviations: list[float]) -> float:
    """Standard error of the total deviation from the spread of its per-match parts.

    A match's bets move together (the same goals settle them all), so the matches, not
    the bets, are the independent draws; centred on their mean, so that a bias (a bug
    paying too much in every match) shows as a large z instead of a large error.
    """
    n = len(deviations)
    if n < 2:
        return 0.0
    mean = sum(deviations) / n
    return math.sqrt(n * sum((d - mean) ** 2 for d in deviations) / (n - 1))


def figures(run: SanityRun, strategy: str, sport: Sport | None = None) -> Figures:
    """Realised and expected profit of a strategy's bets (all of them settle), of one sport
    or all (``offered`` counts every sport's price changes)."""
    bets = [b for b in run.bets(strategy) if sport is None or b.sport is sport]
    if any(b.status is BetStatus.OPEN for b in bets):
        raise AssertionError(f"{strategy}: bets left open after every match settled")
    deviations: defaultdict[str, float] = defaultdict(float)
    expected = 0.0
    for bet in bets:
        truth = run.truths[(bet.event_id, bet.model_version)]
        mean = float(bet.stake) * unit_profit(truth, bet.market_key, bet.outcome_id, bet.price)
        expected += mean
        deviations[bet.event_id] += float((bet.payout or 0) - bet.stake) - mean
    return Figures(
        strategy=strategy, offered=run.offered(strategy), bets=len(bets),
        staked=sum((b.stake for b in bets), Decimal(0)),
        profit=sum(((b.payout or Decimal(0)) - b.stake for b in bets), Decimal(0)),
        expected_profit=expected, standard_error=_clustered_error(list(deviations.values())),
        explanations=dict(Counter(explain(run, b) for b in bets)) if strategy == "truth" else {},
    )


def describe(f: Figures) -> str:
    """One strategy's figures as text."""
    return (f"{f.strategy}: {f.bets} bets on {f.offered} price changes offered, staked {f.staked:.2f},"
            f" profit {f.profit:.2f} ({f.return_on_stakes * 100:+.2f} % of stakes; expected"
            f" {f.expected_return * 100:+.2f} %, z {f.z:+.2f})"
            + (f", explained: {f.explanations}" if f.explanations else ""))


def main(argv: list[str] | None = None) -> int:
    """Print the figures of a run (``--matches`` per sport)."""
    parser = argparse.ArgumentParser(description="The trading sanity check on the generator's feed.")
    parser.add_argument("--matches", type=int, default=100, help="matches per sport (100)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--sports", default=",".join(s.value for s in Sport))
    args = parser.parse_args(argv)
    run = simulate([Sport(s) for s in args.sports.split(",")], args.matches, seed=args.seed)
    print(f"{run.matches} matches, {run.deltas} deltas, margin {MARGIN:.0%}"
          f" (a backer of everything should lose about {MARGIN / (1 + MARGIN):.2%} of stakes)")
    for name in ("truth", "back-all"):
        print(describe(figures(run, name)))
        for sport in sorted({b.sport for b in run.bets(name)}, key=list(Sport).index):
            f = figures(run, name, sport)
            print(f"  {sport.value}: {f.bets} bets, {f.return_on_stakes * 100:+.2f} % of stakes"
                  f" (expected {f.expected_return * 100:+.2f} %, z {f.z:+.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
