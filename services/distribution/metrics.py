"""Prometheus metrics of one distribution process, on its own registry (never the global one).

HTTP requests are observed as they finish. The WebSocket side is read, not pushed: a
collector turns the hub's plain counters into metrics when ``/metrics`` is scraped,
so the fan-out's hot path never touches a Prometheus lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from services.distribution.ws.stats import LAG_BUCKETS

if TYPE_CHECKING:
    from services.distribution.ws.fanout import Fanout
    from services.distribution.ws.hub import Hub

PREFIX = "sportsfeed_distribution"
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _HubCollector(Collector):
    """Reads the hub and the consumer at scrape time."""

    def __init__(self, hub: Callable[[], Hub | None], fanout: Callable[[], Fanout | None]) -> None:
        self._hub = hub
        self._fanout = fanout

    def collect(self) -> Iterator[Metric]:
        hub, fanout = self._hub(), self._fanout()
        if hub is not None:
            stats = hub.stats
            clients = GaugeMetricFamily(f"{PREFIX}_ws_clients", "Connected WebSocket clients")
            clients.add_metric([], len(hub.clients))
            yield clients
            yield _lag_histogram(hub)
            totals = hub.totals()
            written = CounterMetricFamily(f"{PREFIX}_ws_messages_written",
                                          "Messages written to clients (every type)")
            written.add_metric([], totals["written"])
            yield written
            queued = CounterMetricFamily(f"{PREFIX}_ws_messages_queued",
                                         "Snapshots, model prices and control messages queued",
                                         labels=["type"])
            for kind in ("snapshot", "control", "model"):
                queued.add_metric([kind], totals[kind])
            yield queued
            for name, value, doc in (
                ("updates_consumed", stats.updates, "Deltas read from the updates topics"),
                ("model_prices_consumed", stats.models, "Model prices read from the model topics"),
                ("updates_old", stats.old_updates, "Deltas already seen (redeliveries), dropped"),
                ("update_gaps", stats.gaps, "Version gaps seen on the updates topics"),
                ("snapshots_fetched", stats.snapshots_fetched, "Snapshots read for clients"),
                ("snapshot_failures", stats.snapshot_failures, "Snapshot reads that failed"),
                ("resumes_from_ring", stats.resumed_from_ring, "Resumes served from retained deltas"),
                ("resumes_by_snapshot", stats.resumed_by_snapshot, "Resumes that needed a snapshot"),
                ("slow_disconnects", stats.slow_disconnects, "Clients closed with 4008"),
                ("conflated_deltas", stats.conflated + sum(c.outbox.merged for c in hub.clients),
                 "Deltas merged into others for slow clients"),
            ):
                metric = CounterMetricFamily(f"{PREFIX}_{name}", doc)
                metric.add_metric([], value)
                yield metric
        if fanout is not None:
            ready = GaugeMetricFamily(f"{PREFIX}_consumer_ready", "1 while the consumer runs")
            ready.add_metric([], 1 if fanout.running else 0)
            yield ready
            invalid = CounterMetricFamily(f"{PREFIX}_updates_invalid",
                                          "Undecodable records (updates and model prices)")
            invalid.add_metric([], fanout.invalid)
            yield invalid
            labels = ["topic", "sport", "partition"]
            records = GaugeMetricFamily(
                f"{PREFIX}_consumer_lag_records",
                "Records of the updates and model topics not handed to clients yet, behind the "
                "broker's end offset", labels=labels)
            seconds = GaugeMetricFamily(
                f"{PREFIX}_consumer_lag_seconds",
                "How long the partition has been behind the broker's end offset (0 when caught up)",
                labels=labels)
            for lag in fanout.last_lag:
                values = [lag.topic, lag.sport.value, str(lag.partition)]
                records.add_metric(values, lag.records)
                seconds.add_metric(values, round(lag.seconds, 3))
            yield records
            yield seconds


def _lag_histogram(hub: Hub) -> Metric:
    stats = hub.stats
    buckets, running = [], 0
    for bound, count in zip((*LAG_BUCKETS, float("inf")), stats.lag_counts, strict=True):
        running += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
    metric = HistogramMetricFamily(
        f"{PREFIX}_update_lag_seconds",
        "From a delta's applied_at (processor) to its dispatch here: how far behind the fan-out is",
    )
    metric.add_metric([], buckets, stats.lag_sum)
    return metric


class DistributionMetrics:
    """The process's registry and the HTTP request histogram."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.request_seconds = Histogram(
            f"{PREFIX}_http_request_seconds", "REST request duration by route and status",
            ("route", "status"), buckets=_BUCKETS, registry=self.registry,
        )
        self._children: dict[tuple[str, int], MetricWrapperBase] = {}
        self.hub: Hub | None = None
        self.fanout: Fanout | None = None
        self.registry.register(_HubCollector(lambda: self.hub, lambda: self.fanout))

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        """Record one request (label children cached: ``labels()`` is slow per call)."""
        key = (route, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.request_seconds.labels(route, str(status))
        child.observe(seconds)  # type: ignore[attr-defined]

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)
