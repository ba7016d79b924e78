"""The hub's counters: plain ints and a lag histogram, read by the metrics collector.

The fan-out's hot path only adds to these; Prometheus objects (with their locks) are
built from them when ``/metrics`` is scraped.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

# Update lag buckets (seconds): from a delta's ``applied_at`` to its dispatch here.
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class HubStats:
    """Counters the metrics collector reads (plain ints: the hot path pays nothing)."""

    updates: int = 0
    models: int = 0  # model prices read from the model topics
    old_updates: int = 0
    gaps: int = 0
    snapshots_fetched: int = 0
    snapshot_failures: int = 0
    resumed_from_ring: int = 0
    resumed_by_snapshot: int = 0
    slow_disconnects: int = 0
    written: int = 0
    queued_by_kind: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0, 3: 0})
    conflated: int = 0
    # Update lag: from the processor's ``applied_at`` to this hub's dispatch (seconds).
    lag_counts: list[int] = field(default_factory=lambda: [0] * (len(LAG_BUCKETS) + 1))
    lag_sum: float = 0.0

    def observe_lag(self, seconds: float) -> None:
        """Count one update's lag in its bucket."""
        self.lag_counts[bisect.bisect_left(LAG_BUCKETS, seconds)] += 1
        self.lag_sum += seconds
