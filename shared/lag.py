"""How long a consumer has been behind on a partition, from the end offsets it sees.

A consumer knows the next offset it will apply and, when it asks the broker, the
partition's end offset; it does not know when the record at its next offset was
appended without fetching it. :class:`BehindSince` remembers when each end offset was
first seen: the oldest record not applied yet (offset ``next``) existed at the first
observation whose end offset was past ``next``, so its age is at least the time since
then. Observations the consumer has applied past are dropped, so a consumer that keeps
up reports about 0 however steady the stream, and one that is stuck reports a growing
age (to within one observation interval: ``/metrics`` scrapes, ``/readyz`` probes).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Hashable, Sequence
from typing import Any

MAX_OBSERVATIONS = 1000  # per partition: a stuck consumer's end offsets, sampled
END_OFFSETS_TIMEOUT_S = 2.0


async def end_offsets(consumer: Any, partitions: Sequence[Any]) -> dict[Any, int | None]:
    """Each partition's end offset, asked of the broker (an aiokafka consumer's own high
    watermarks are only as fresh as its last fetch, and a stuck consumer fetches nothing).

    When the broker does not answer, the consumer's high watermarks stand in (None where
    it has fetched nothing yet). A partition the consumer no longer holds (the assignment
    changed while the broker was asked: a rebalance, a rejoin after a broker restart) is
    left out: aiokafka asserts "Partition is not assigned" for it, which once made
    ``/readyz`` answer 500, and it has no lag to report until the rebalance says whose
    it is.
    """
    try:
        return dict(await asyncio.wait_for(consumer.end_offsets(list(partitions)),
                                           END_OFFSETS_TIMEOUT_S))
    except Exception:
        ends: dict[Any, int | None] = {}
        for tp in partitions:
            with contextlib.suppress(Exception):
                ends[tp] = consumer.highwater(tp)
        return ends


class BehindSince:
    """Per partition, the end offsets seen and when (oldest first)."""

    def __init__(self) -> None:
        self._seen: dict[Hashable, deque[tuple[int, float]]] = {}

    def age(self, partition: Hashable, end: int, next_offset: int, now: float) -> float:
        """Seconds the record at ``next_offset`` has existed, at least (0 when caught up)."""
        seen = self._seen.setdefault(partition, deque(maxlen=MAX_OBSERVATIONS))
        if not seen or seen[-1][0] != end:
            seen.append((end, now))
        while seen and seen[0][0] <= next_offset:
            seen.popleft()
        return max(0.0, now - seen[0][1]) if seen else 0.0

    def forget(self, partition: Hashable) -> None:
        """The partition is not ours any more."""
        self._seen.pop(partition, None)
