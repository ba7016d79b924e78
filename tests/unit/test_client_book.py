"""The Python client's event book: snapshots and deltas (conflated ones too) by version."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.distribution.ws.frames import delta_payload, snapshot_payload
from services.distribution.ws.merge import merge_deltas
from shared.live import apply_delta
from sportsfeed_client import EventBook
from tests.support.distribution import delta, market, snapshot


def wire_snapshot(version: int) -> dict[str, Any]:
    """A snapshot message as the server sends it."""
    import orjson

    base = snapshot("ev-1", version=version, markets=[market("1x2", "2.10", "3.40", "3.60")])
    return dict(orjson.loads(snapshot_payload(base.model_dump(mode="json", exclude_none=True), None)))


def wire_delta(version: int, home: str, *, from_version: int | None = None) -> dict[str, Any]:
    """A delta message (merged from ``from_version`` when given) as the server sends it."""
    import orjson

    d = delta("ev-1", version, market("1x2", home, "3.40", "3.60"))
    return dict(orjson.loads(delta_payload(d.model_dump(mode="json", exclude_none=True), None,
                                           from_version=from_version)))


def test_deltas_that_follow_are_applied_with_apply_delta() -> None:
    book = EventBook()
    book.snapshot(wire_snapshot(5))
    applied = book.delta(wire_delta(6, "1.90"))
    assert applied.verdict == "applied"
    assert applied.state is not None
    assert applied.state.version == 6
    assert applied.state.markets["1x2"].outcomes[0].price == Decimal("1.90")
    expected = apply_delta(snapshot("ev-1", version=5, markets=[market("1x2", "2.10", "3.40", "3.60")]),
                           applied.delta)
    assert applied.state.markets == expected.markets
    assert book.versions() == {"ev-1": 6}


def test_a_delta_already_held_is_old_and_changes_nothing() -> None:
    book = EventBook()
    book.snapshot(wire_snapshot(5))
    assert book.delta(wire_delta(5, "9.00")).verdict == "old"
    assert book.states["ev-1"].markets["1x2"].outcomes[0].price == Decimal("2.10")


def test_a_gap_asks_for_one_resync_until_the_snapshot_comes() -> None:
    book = EventBook()
    book.snapshot(wire_snapshot(5))
    first = book.delta(wire_delta(7, "1.80"))
    assert (first.verdict, first.resync) == ("gap", True)
    again = book.delta(wire_delta(8, "1.70"))
    assert (again.verdict, again.resync) == ("gap", False)  # one resync is on its way
    book.snapshot(wire_snapshot(8))
    assert book.delta(wire_delta(9, "1.60")).verdict == "applied"
    assert book.versions() == {"ev-1": 9}


def test_a_delta_of_an_event_not_held_is_a_gap() -> None:
    applied = EventBook().delta(wire_delta(3, "2.00"))
    assert (applied.verdict, applied.resync) == ("gap", True)


def test_a_conflated_delta_applies_its_whole_span_in_one_step() -> None:
    book = EventBook()
    book.snapshot(wire_snapshot(5))
    merged = merge_deltas(delta("ev-1", 6, market("1x2", "1.95", "3.40", "3.60")),
                          delta("ev-1", 7, market("totals|total=2.5", "1.85", "1.95")))
    import orjson

    message = orjson.loads(delta_payload(merged.model_dump(mode="json", exclude_none=True), None,
                                         from_version=6))
    applied = book.delta(message)
    assert (applied.verdict, applied.conflated_from) == ("applied", 6)
    assert applied.state is not None
    assert applied.state.version == 7
    assert set(applied.state.markets) == {"1x2", "totals|total=2.5"}


def test_a_conflated_delta_that_does_not_start_at_the_next_version_is_a_gap() -> None:
    book = EventBook()
    book.snapshot(wire_snapshot(5))
    applied = book.delta(wire_delta(9, "1.70", from_version=8))
    assert (applied.verdict, applied.resync) == ("gap", True)
