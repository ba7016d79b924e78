"""The live path over fakes: deltas in, one ModelPrices per moved event out, gaps healed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from services.pricing.domain.book import EventBook
from services.pricing.domain.models import PricingModel, prior
from services.pricing.runtime.metrics import Metrics
from services.pricing.runtime.pricer import Pricer
from shared.enums import EventStatus, Sport
from shared.live import EventDelta, EventSnapshot, LiveState
from shared.model import Clock, PeriodScore, Score
from shared.pricing.hockey_fit import FittedHockey
from shared.pricing.margins import Method
from tests.support.distribution import delta, market, snapshot
from tests.support.pricing_fakes import FakePublisher, FakeSnapshots

NOW = datetime(2026, 5, 1, 19, 0, tzinfo=UTC)


def pricer(snapshots: FakeSnapshots) -> tuple[Pricer, FakePublisher, Metrics]:
    metrics = Metrics()
    publisher = FakePublisher()
    book = EventBook({s: prior(s) for s in Sport}, margin=0.05, method=Method.POWER)
    return Pricer(book, snapshots, publisher, metrics, clock=lambda: NOW), publisher, metrics


def raw(*deltas: EventDelta) -> list[bytes]:
    return [d.model_dump_json(exclude_none=True).encode() for d in deltas]


def goal(minute: int, home: int) -> LiveState:
    return LiveState(status=EventStatus.LIVE, period="1h", clock=Clock(seconds=minute * 60),
                     score=Score(home=home, away=0, periods=(PeriodScore(period="1h", home=home,
                                                                         away=0),)))


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_an_event_first_seen_is_loaded_and_priced_at_its_newest_version() -> None:
    snaps = FakeSnapshots(snapshot("e1", version=3))
    p, out, metrics = pricer(snaps)
    assert await p.process(raw(delta("e1", 3, live=goal(10, 0)))) == 1
    assert snaps.loads == [["e1"]]
    assert [(m.event_id, m.event_version) for m in out.published] == [("e1", 3)]
    assert out.raw[0] == out.published[0].model_dump_json().encode()
    assert sample(metrics, "sportsfeed_pricing_prices_published_total", sport="football",
                  phase="in_play") == 1
    assert sample(metrics, "sportsfeed_pricing_cpu_seconds_count", sport="football") == 1


async def test_several_changes_of_an_event_in_one_batch_give_one_price_at_the_last() -> None:
    snaps = FakeSnapshots(snapshot("e1", version=1))
    p, out, _ = pricer(snaps)
    await p.process(raw(delta("e1", 1)))
    out.published.clear()
    sent = await p.process(raw(delta("e1", 2, live=goal(10, 0)), delta("e1", 3, live=goal(11, 1)),
                               delta("e1", 4, market("1x2", "1.5", "4", "6"))))
    assert sent == 1
    assert [m.event_version for m in out.published] == [4]


async def test_odds_alone_publish_nothing_and_junk_is_skipped() -> None:
    snaps = FakeSnapshots(snapshot("e1", version=1, markets=[market("1x2", "2", "3.4", "3.8")]))
    p, out, metrics = pricer(snaps)
    await p.process(raw(delta("e1", 1)))
    out.published.clear()
    assert await p.process([b"not json", *raw(delta("e1", 2, market("1x2", "2.1", "3.3", "3.6")))]) == 0
    assert out.published == []
    assert sample(metrics, "sportsfeed_pricing_invalid_updates_total") == 1
    assert sample(metrics, "sportsfeed_pricing_deltas_total", sport="football", verdict="skip") == 1


async def test_a_version_gap_reloads_the_snapshot() -> None:
    snaps = FakeSnapshots(snapshot("e1", version=1))
    p, out, _ = pricer(snaps)
    await p.process(raw(delta("e1", 1)))
    snaps.put(snapshot("e1", version=5, score=(2, 0)))
    await p.process(raw(delta("e1", 5, live=goal(30, 2))))
    assert snaps.loads[-1] == ["e1"]
    assert out.published[-1].event_version == 5


async def test_unknown_events_are_skipped_and_void_ones_dropped() -> None:
    snaps = FakeSnapshots(snapshot("e1", version=1))
    p, out, _ = pricer(snaps)
    assert await p.process(raw(delta("ghost", 2, live=goal(1, 0)))) == 0
    await p.process(raw(delta("e1", 1)))
    await p.process(raw(delta("e1", 2, status=EventStatus.CANCELLED)))
    assert out.dropped == ["e1"]


async def test_priming_prices_what_redis_holds_but_finished_events() -> None:
    snaps = FakeSnapshots(snapshot("live", version=2), snapshot("closed", version=9,
                                                                status=EventStatus.CLOSED),
                          snapshot("hockey", Sport.ICE_HOCKEY, version=1))
    p, out, metrics = pricer(snaps)
    assert await p.prime() == 2
    assert {m.event_id for m in out.published} == {"live", "hockey"}
    assert sample(metrics, "sportsfeed_pricing_cpu_seconds_count", sport="football") == 0
    assert sample(metrics, "sportsfeed_pricing_events", sport="ice_hockey") == 1


async def test_a_new_model_reprices_its_sports_events() -> None:
    snaps = FakeSnapshots(snapshot("hockey", Sport.ICE_HOCKEY, version=1),
                          snapshot("football", version=1))
    p, out, _ = pricer(snaps)
    await p.prime()
    out.published.clear()
    model = PricingModel(Sport.ICE_HOCKEY, FittedHockey(1.1, 0.07, {}, {}, 0.15, 40, 0.0), 4, 40)
    assert await p.switch_model(model) == 1
    assert [(m.event_id, m.model) for m in out.published] == [("hockey", "ice_hockey:poisson_ratings:4")]


async def test_a_failure_pricing_one_batch_does_not_escape() -> None:
    class Broken(FakeSnapshots):
        async def load(self, event_ids: Sequence[str]) -> list[EventSnapshot]:
            raise RuntimeError("boom")

    p, out, _ = pricer(Broken())
    assert await p.process(raw(delta("e1", 1))) == 0
    assert out.published == []
