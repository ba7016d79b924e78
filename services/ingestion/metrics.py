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
"""

from __future__ import annotations

import os
from pathlib import Path

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

    def _child(self, metric: MetricWrapperBase, *values: str) -> MetricWrapperBase:
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def count_received(self, provider: str, sport: str, fmt: str, n: int = 1) -> None:
        """Count ``n`` messages received."""
        if n:
            self._child(self.received, provider, sport, fmt).inc(n)  # type: ignore[attr-defined]

    def count_accepted(self, provider: str, sport: str, fmt: str, n: int = 1) -> None:
        """Count ``n`` messages Kafka acknowledged."""
        if n:
            self._child(self.accepted, provider, sport, fmt).inc(n)  # type: ignore[attr-defined]

    def count_refused(
        self, provider: str, sport: str, fmt: str, reason: ReasonClass, n: int = 1
    ) -> None:
        """Count ``n`` messages refused for ``reason``."""
        if n:
            child = self._child(self.refused, provider, sport, fmt, reason.value)
            child.inc(n)  # type: ignore[attr-defined]

    def refuse_unread(self, provider: str, fmt: str, reason: ReasonClass) -> None:
        """A request refused before its payload was read: received and refused once."""
        self.count_received(provider, UNKNOWN, fmt)
        self.count_refused(provider, UNKNOWN, fmt, reason)

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        """Record one request's duration."""
        child = self._child(self.request_seconds, route, str(status))
        child.observe(seconds)  # type: ignore[attr-defined]

    def render(self) -> bytes:
        """The Prometheus text exposition: this registry, or in a group every worker's sum."""
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
