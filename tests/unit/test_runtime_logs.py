"""A flood of one log message (aiokafka while Kafka is down) is held back and counted."""

from __future__ import annotations

import logging

from shared.runtime import RepeatFilter


def record(msg: str, *args: object, name: str = "aiokafka.conn",
           level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_a_flood_of_one_message_is_held_back_and_counted_after_the_window() -> None:
    now = [0.0]
    quiet = RepeatFilter(burst=3, window_s=60.0, clock=lambda: now[0])
    passed = [quiet.filter(record("Unable connect to node %s: %s", i, "refused"))
              for i in range(1000)]
    assert passed.count(True) == 3
    assert passed[:3] == [True, True, True]
    now[0] = 61.0
    later = record("Unable connect to node %s: %s", 7, "refused")
    assert quiet.filter(later)
    assert later.getMessage() == (
        "Unable connect to node 7: refused [997 similar messages held back in the last 60 s]")


def test_other_messages_levels_and_loggers_are_counted_apart() -> None:
    quiet = RepeatFilter(burst=1, window_s=60.0, clock=lambda: 0.0)
    assert quiet.filter(record("a %s", 1))
    assert not quiet.filter(record("a %s", 2))
    assert quiet.filter(record("b %s", 1))
    assert quiet.filter(record("a %s", 3, level=logging.WARNING))
    assert quiet.filter(record("a %s", 4, name="services.ingestion"))


def test_information_lines_always_pass() -> None:
    quiet = RepeatFilter(burst=1, window_s=60.0, clock=lambda: 0.0)
    assert all(quiet.filter(record("batch of %d applied", i, level=logging.INFO))
               for i in range(100))
