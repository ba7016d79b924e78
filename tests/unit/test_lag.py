"""shared.lag: how long a consumer has been behind, from the end offsets it saw."""

from __future__ import annotations

from shared.lag import BehindSince


def test_a_consumer_that_keeps_up_with_a_steady_stream_is_never_old() -> None:
    behind = BehindSince()
    # Every 5 s the partition has grown by 10 and the consumer is 1 record short of the
    # end at each look, but applies what it saw by the next look.
    for n in range(1, 20):
        assert behind.age("p", end=n * 10, next_offset=n * 10 - 1, now=n * 5.0) == 0.0


def test_a_stuck_consumer_ages_from_when_its_next_record_was_first_seen() -> None:
    behind = BehindSince()
    assert behind.age("p", end=100, next_offset=90, now=0.0) == 0.0
    assert behind.age("p", end=120, next_offset=90, now=5.0) == 5.0
    assert behind.age("p", end=140, next_offset=90, now=30.0) == 30.0
    # It applies up to 110: the records past 100 were first seen at 5.0.
    assert behind.age("p", end=140, next_offset=110, now=31.0) == 26.0
    assert behind.age("p", end=140, next_offset=140, now=32.0) == 0.0
    behind.forget("p")
    assert behind.age("p", end=150, next_offset=140, now=40.0) == 0.0
