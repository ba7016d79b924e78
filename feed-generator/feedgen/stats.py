"""Counters of a run, the progress line, and the token bucket that paces sending."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


class TokenBucket:
    """Messages per second with a small burst allowance; the rate may change over time.

    ``rate_at(t)`` gives the rate at ``t`` seconds after the bucket was made, so a
    ``burst`` window raises it for a while (monotonic clock: immune to clock changes).
    """

    def __init__(self, rate_at: Callable[[float], float], burst_seconds: float = 0.2) -> None:
        self._rate_at = rate_at
        self._burst_seconds = burst_seconds
        self._started = time.monotonic()
        self._tokens = 0.0
        self._last = self._started

    def _refill(self, now: float) -> tuple[float, float]:
        rate = self._rate_at(now - self._started)
        cap = max(1.0, rate * self._burst_seconds)
        self._tokens = min(cap, self._tokens + (now - self._last) * rate)
        self._last = now
        return rate, cap

    async def take(self, n: int = 1) -> None:
        """Wait until ``n`` tokens are available and take them.

        A take larger than the bucket puts it into debt, which later takes wait out.
        """
        while True:
            rate, cap = self._refill(time.monotonic())
            need = min(float(n), cap)
            if self._tokens >= need:
                self._tokens -= n
                return
            await asyncio.sleep(max((need - self._tokens) / rate, 0.0005))


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values`` by nearest rank; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Stats:
    """What a run has done so far; one object per run, read by progress and /metrics."""

    planned: int = 0  # messages handed to the senders
    sent: int = 0  # messages whose request got a final answer (or gave up)
    accepted: int = 0
    refused: int = 0
    unacknowledged: int = 0
    retries: int = 0
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    recent: deque[tuple[float, int, float]] = field(default_factory=lambda: deque(maxlen=4096))
    started: float = field(default_factory=time.monotonic)
    behind: float = 0.0  # seconds the plan is behind its schedule
    latency_total: float = 0.0  # seconds of all answered requests (the summary's _sum)

    def request_done(self, status: int, latency: float, messages: int) -> None:
        """Count one answered request."""
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        self.latencies.append(latency)
        self.latency_total += latency
        self.recent.append((time.monotonic(), messages, latency))

    def rate(self, window: float = 5.0) -> float:
        """Messages per second answered over the last ``window`` seconds."""
        now = time.monotonic()
        span = min(window, max(now - self.started, 1e-3))
        return sum(n for t, n, _ in self.recent if now - t <= window) / span

    def recent_latency(self, q: float, window: float = 10.0) -> float:
        """Request latency quantile over the last ``window`` seconds."""
        now = time.monotonic()
        return percentile([lat for t, _, lat in self.recent if now - t <= window], q)

    def line(self) -> str:
        """The progress line."""
        elapsed = time.monotonic() - self.started
        return (
            f"[{elapsed:6.1f}s] sent {self.sent} accepted {self.accepted} refused {self.refused}"
            f" unacked {self.unacknowledged} retries {self.retries}"
            f" rate {self.rate():.0f}/s p50 {self.recent_latency(0.5) * 1000:.1f}ms"
            f" p99 {self.recent_latency(0.99) * 1000:.1f}ms"
            + (f" behind {self.behind:.1f}s" if self.behind > 1 else "")
        )

    def summary(self) -> dict[str, object]:
        """Totals of the run, for the summary and ``run.json``."""
        elapsed = time.monotonic() - self.started
        return {
            "elapsed_s": round(elapsed, 3), "planned": self.planned, "sent": self.sent,
            "accepted": self.accepted, "refused": self.refused,
            "unacknowledged": self.unacknowledged, "retries": self.retries,
            "requests": self.requests, "rate_per_s": round(self.sent / max(elapsed, 1e-3), 1),
            "latency_ms": {"p50": round(percentile(self.latencies, 0.5) * 1000, 2),
                           "p99": round(percentile(self.latencies, 0.99) * 1000, 2),
                           "max": round(max(self.latencies, default=0.0) * 1000, 2)},
            "http_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "faults": dict(sorted(self.faults.items())),
        }
