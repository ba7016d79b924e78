"""Prometheus metrics of one ingestion app, on the app's own registry (never the global one).

Counters are per ``provider, sport, format``; refusals add a ``reason_class`` from
:class:`~services.ingestion.errors.ReasonClass`. Providers are bounded by the configured
keys (an unauthenticated request counts as ``unknown``), sports by the enum, formats by
the routes. Invariant: ``received = accepted + refused`` summed over all labels.

Labelled children are cached: ``Counter.labels()`` takes a lock and builds a tuple on
every call, which shows in profiles at tens of thousands of requests per second.

Several worker processes on one port (``SPORTSFEED_INGESTION_WORKERS``) share their
metrics through prometheus_client's multiprocess mode: the supervisor sets
``PROMETHEUS_MULTIPROC_DIR`` to a directory of the run before a worker starts, every
value then lives in a memory-mapped file there, and :meth:`IngestionMetrics.render` of
any worker sums the files of all of them: one scrape shows the whole service.

Writes are coalesced per turn of the event loop. In multiprocess mode every increment is
a lock, a ``getpid`` system call (prometheus_client's fork check) and an mmap write, and
a single-message request made six of them (two counters, two histograms of two values
each). The request path now adds to a pending tally (:meth:`IngestionMetrics._add`,
:meth:`IngestionMetrics._observe`) and one callback scheduled with ``call_soon`` writes
it out at the end of the current loop iteration: one write per label set and bucket
touched in that iteration, however many requests touched it. A value is therefore
written before the loop next waits for I/O, so a scrape by this or any other worker
(a separate request, handled in a later iteration) sees every request answered before
it; :meth:`IngestionMetrics.render` and :meth:`IngestionMetrics.flush` write out what is
pending at once. Outside a running loop the writes are immediate.
"""

from __future__ import annotations

import asyncio
import os
from bisect import bisect_left
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.multiprocess import MultiProcessCollector

from services.ingestion.errors import ReasonClass

UNKNOWN = "unknown"
_LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)


class IngestionMetrics:
    """The service's metrics and cached shortcuts to increment them."""

    def __init__(
        self, registry: CollectorRegistry | None = None, multiprocess_dir: Path | None = None,
    ) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        # Set when the worker runs in a group: prometheus_client then keeps every value in
        # that directory (it read PROMETHEUS_MULTIPROC_DIR when it was imported).
        self.multiprocess_dir = multiprocess_dir
        labels = ("provider", "sport", "format")
        prefix = "sportsfeed_ingestion"
        self.received = Counter(
            f"{prefix}_messages_received", "Messages received (an unreadable payload counts 1)",
            labels, registry=self.registry,
        )
        self.accepted = Counter(
            f"{prefix}_messages_accepted", "Messages Kafka acknowledged",
            labels, registry=self.registry,
        )
        self.refused = Counter(
            f"{prefix}_messages_refused", "Messages refused, by coarse reason",
            (*labels, "reason_class"), registry=self.registry,
        )
        self.rejected_publish_failures = Counter(
            f"{prefix}_rejected_publish_failures",
            "Rejected records that could not be written to the rejected topic",
            registry=self.registry,
        )
        self.kafka_publish_seconds = Histogram(
            f"{prefix}_kafka_publish_seconds",
            "Time from handing a request's messages to the producer to Kafka's last ack",
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.request_seconds = Histogram(
            f"{prefix}_request_seconds", "HTTP request duration by route and status",
            ("route", "status"), buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.in_flight = Gauge(
            f"{prefix}_requests_in_flight", "Requests being handled", registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.kafka_ready = Gauge(
            f"{prefix}_kafka_ready",
            "1 when the producer (of every worker) is connected with fresh metadata",
            registry=self.registry, multiprocess_mode="livemin",
        )
        self._children: dict[tuple[object, ...], MetricWrapperBase] = {}
        # Coalesced writes (see the module doc): counter child -> amount; histogram
        # child -> [sum, count per bucket].
        self._pending_counts: dict[Any, float] = {}
        self._pending_hist: dict[Any, list[Any]] = {}
        self._flush_scheduled = False

    def _schedule(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: write at once
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_soon(self.flush)

    def _add(self, child: Any, n: float) -> None:
        pending = self._pending_counts
        pending[child] = pending.get(child, 0) + n
        if not self._flush_scheduled:
            self._schedule()

    def _observe(self, child: Any, seconds: float) -> None:
        pending = self._pending_hist.get(child)
        if pending is None:
            pending = self._pending_hist[child] = [0.0, [0] * len(child._upper_bounds)]
        pending[0] += seconds
        # Histogram.observe's bucket: the first upper bound >= the value (the last is +Inf).
        pending[1][bisect_left(child._upper_bounds, seconds)] += 1
        if not self._flush_scheduled:
            self._schedule()

    def flush(self) -> None:
        """Write out the increments and observations still pending (see the module doc)."""
        self._flush_scheduled = False
        counts, self._pending_counts = self._pending_counts, {}
        hists, self._pending_hist = self._pending_hist, {}
        for child, n in counts.items():
            child.inc(n)
        for child, (total, buckets) in hists.items():
            child._sum.inc(total)
            for value, n in zip(child._buckets, buckets, strict=True):
                if n:
                    value.inc(n)

    def observe_publish(self, seconds: float) -> None:
        """Record one request's wait for Kafka's acknowledgements."""
        self._observe(self.kafka_publish_seconds, seconds)

    def _child(self, metric: MetricWrapperBase, *values: str) -> MetricWrapperBase:
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def count_received(self, provider: str, sport: str, fmt: str, n: int = 1) -> None:
        """Count ``n`` messages received."""
        if n:
            self._add(self._child(self.received, provider, sport, fmt), n)

    def count_accepted(self, provider: str, sport: str, fmt: str, n: int = 1) -> None:
        """Count ``n`` messages Kafka acknowledged."""
        if n:
            self._add(self._child(self.accepted, provider, sport, fmt), n)

    def count_refused(
        self, provider: str, sport: str, fmt: str, reason: ReasonClass, n: int = 1
    ) -> None:
        """Count ``n`` messages refused for ``reason``."""
        if n:
            self._add(self._child(self.refused, provider, sport, fmt, reason.value), n)

    def refuse_unread(self, provider: str, fmt: str, reason: ReasonClass) -> None:
        """A request refused before its payload was read: received and refused once."""
        self.count_received(provider, UNKNOWN, fmt)
        self.count_refused(provider, UNKNOWN, fmt, reason)

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        """Record one request's duration."""
        self._observe(self._child(self.request_seconds, route, str(status)), seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition: this registry, or in a group every worker's sum."""
        self.flush()
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        summed = CollectorRegistry()
        MultiProcessCollector(summed, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(summed)

    @classmethod
    def for_process(cls) -> IngestionMetrics:
        """Metrics for this process: shared with the group when the supervisor said so."""
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        return cls(multiprocess_dir=Path(directory) if directory else None)
