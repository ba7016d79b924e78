"""Fakes and builders for the distribution unit tests (this module holds no tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from services.distribution.settings import DistributionSettings
from services.distribution.snapshots import SnapshotData
from services.distribution.ws.client import ClientSession
from services.distribution.ws.outbox import Outbox
from shared.enums import MarketStatus, MessageKind, Sport
from shared.fair import FairMarket, FairOutcome, ModelPrices
from shared.live import EventDelta, EventSnapshot, MarketState, OutcomeState

T0 = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)


def market(key: str, *prices: str, status: MarketStatus = MarketStatus.ACTIVE) -> MarketState:
    """A market with outcomes home/draw/away (three prices) or home/away (two)."""
    ids = ("home", "draw", "away") if len(prices) == 3 else ("home", "away")
    return MarketState(market_key=key, status=status, outcomes=tuple(
        OutcomeState(id=i, price=Decimal(p)) for i, p in zip(ids, prices, strict=True)))


def delta(event_id: str, version: int, *markets: MarketState, sport: Sport = Sport.FOOTBALL,
          **fields: Any) -> EventDelta:
    """An odds delta."""
    return EventDelta(event_id=event_id, sport=sport, version=version, message_id=f"m{version}",
                      kind=MessageKind.ODDS, provider="acme", provider_ts=T0, applied_at=T0,
                      markets=markets, **fields)


def snapshot_data(event_id: str, version: int, *markets: MarketState,
                  sport: Sport = Sport.FOOTBALL) -> SnapshotData:
    """A snapshot in the JSON form Redis holds."""
    snap = EventSnapshot(event_id=event_id, sport=sport, version=version,
                         markets={m.market_key: m for m in markets})
    data: SnapshotData = snap.model_dump(mode="json", exclude_none=True)
    return data


def model_data(event_id: str, version: int, home: float = 0.5,
               sport: Sport = Sport.FOOTBALL) -> dict[str, Any]:
    """Model prices in the JSON form the model topics and Redis carry (1x2 and a total)."""
    data: dict[str, Any] = model_prices(event_id, version, home, sport).model_dump(mode="json")
    return data


def model_prices(event_id: str, version: int, home: float = 0.5,
                 sport: Sport = Sport.FOOTBALL) -> ModelPrices:
    """Model prices of an event: 1x2 (``home``, the rest split) and over/under 2.5."""
    def outcomes(*pairs: tuple[str, float]) -> tuple[FairOutcome, ...]:
        return tuple(FairOutcome(id=o, probability=p, fair_price=Decimal(str(round(1 / p, 2))),
                                 price=Decimal(str(round(0.95 / p, 2)))) for o, p in pairs)

    rest = (1 - home) / 2
    return ModelPrices(
        event_id=event_id, sport=sport, event_version=version, phase="pre_match",
        model=f"{sport.value}:prior", training_size=0, margin=Decimal("0.05"), computed_at=T0,
        expected={"home": 1.4, "away": 1.1, "home_final": 1.4, "away_final": 1.1},
        markets=(FairMarket(market_key="1x2", outcomes=outcomes(("home", home), ("draw", rest),
                                                                ("away", rest))),
                 FairMarket(market_key="totals|total=2.5",
                            outcomes=outcomes(("over", 0.55), ("under", 0.45)))))


def decode_frames(frames: Sequence[bytes]) -> list[dict[str, Any]]:
    """The JSON messages in unmasked text frames (several frames may share one bytes)."""
    out: list[dict[str, Any]] = []
    for frame in frames:
        view = memoryview(frame)
        while view:
            assert view[0] == 0x81
            size, offset = view[1], 2
            if size == 126:
                size, offset = int.from_bytes(view[2:4], "big"), 4
            elif size == 127:
                size, offset = int.from_bytes(view[2:10], "big"), 10
            out.append(orjson.loads(bytes(view[offset : offset + size])))
            view = view[offset + size :]
    return out


class FakeSink:
    """A socket that records frames; ``buffer`` pretends bytes are waiting in it."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.writes = 0
        self.open = True
        self.buffer = 0
        self.closed_with: tuple[int, str] | None = None

    def is_open(self) -> bool:
        return self.open

    def buffered(self) -> int:
        return self.buffer

    def write(self, frames: list[bytes]) -> None:
        if not self.open:
            return  # like the real sink: nothing after the close
        self.writes += 1
        self.frames.extend(frames)

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)
        self.open = False

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        """What was written, optionally only one type."""
        return [m for m in decode_frames(self.frames) if kind is None or m["type"] == kind]


class FakeSource:
    """Snapshots (and model prices) from dicts, counting the fetches."""

    def __init__(self, snapshots: dict[str, SnapshotData] | None = None,
                 models: dict[str, dict[str, Any]] | None = None) -> None:
        self.snapshots = snapshots or {}
        self.model_prices = models or {}
        self.fetches: list[list[str]] = []

    async def models(self, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {e: self.model_prices[e] for e in event_ids if e in self.model_prices}

    async def many(self, event_ids: Sequence[str]) -> dict[str, SnapshotData]:
        self.fetches.append(list(event_ids))
        return {e: self.snapshots[e] for e in event_ids if e in self.snapshots}

    async def event_ids(self, sport: Sport) -> list[str]:
        return [e for e, s in self.snapshots.items() if s["sport"] == sport.value]


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def session(sink: FakeSink, clock: Clock | None = None, *, conflate_at: int = 100,
            max_items: int = 1000, max_lag_s: float = 5.0) -> ClientSession:
    """A session on a fake socket."""
    return ClientSession(sink, outbox=Outbox(conflate_at, max_items), write_high=1000,
                         max_lag_s=max_lag_s, poll_s=0.001, clock=clock or Clock())


def settings(**values: object) -> DistributionSettings:
    """Settings that need no environment."""
    values.setdefault("flush_interval_ms", 0)  # flush after each batch: no timers to wait for
    return DistributionSettings(mysql={"password": "x"}, **values)  # type: ignore[arg-type]
