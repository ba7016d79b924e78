"""Prometheus metrics of one worker, in its own registry (served on ``/metrics``)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from shared.enums import Disposition, Sport

# Every 10 ms up to 0.1 s: a busy worker's records wait up to one batch interval (0.05 s
# by default) and the end-to-end goal is 0.1 s, so the quantiles read from these buckets
# (bench_e2e's stages, Prometheus' histogram_quantile) must resolve that range; with
# 0.05 / 0.075 / 0.1 alone a p99 anywhere in 50-75 ms read as about 74 ms.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.15,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)


class Metrics:
    """Counters and histograms of one processor."""

    def __init__(self, sport: Sport) -> None:
        self.sport = sport.value
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "sportsfeed_processor_messages", "Messages by disposition",
            ["sport", "disposition"], registry=r,
        )
        for disposition in Disposition:
            self.messages.labels(self.sport, disposition.value)
        self.replays = Counter(
            "sportsfeed_processor_replays", "Records already in the ledger (crash replays)",
            ["sport"], registry=r,
        ).labels(self.sport)
        self.batch_size = Histogram(
            "sportsfeed_processor_batch_size", "Records per batch", ["sport"], registry=r,
            buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000),
        ).labels(self.sport)
        self.apply_seconds = Histogram(
            "sportsfeed_processor_apply_seconds",
            "Decode, decide and MySQL commit of one batch", ["sport"], registry=r,
            buckets=LATENCY_BUCKETS,
        ).labels(self.sport)
        self.commit_delay = Histogram(
            "sportsfeed_processor_append_to_commit_seconds",
            "Kafka record timestamp to the MySQL commit that applied it", ["sport"],
            registry=r, buckets=LATENCY_BUCKETS,
        ).labels(self.sport)
        self.receive_delay = Histogram(
            "sportsfeed_processor_append_to_batch_seconds",
            "Kafka record timestamp to the batch that holds it reaching the processor",
            ["sport"], registry=r, buckets=LATENCY_BUCKETS,
        ).labels(self.sport)
        self.prepared = Counter(
            "sportsfeed_processor_prepared_batches",
            "Batches decided ahead while the batch before them was written: used (MySQL "
            "held what they were decided on), dropped (decided again), or not possible",
            ["sport", "outcome"], registry=r,
        )
        for outcome in ("used", "dropped", "not_possible"):
            self.prepared.labels(self.sport, outcome)
        self.mysql_retries = Counter(
            "sportsfeed_processor_mysql_retries", "Batches retried after a MySQL failure",
            ["sport"], registry=r,
        ).labels(self.sport)
        self.redis_failures = Counter(
            "sportsfeed_processor_redis_failures", "Failed Redis writes", ["sport"], registry=r,
        ).labels(self.sport)
        self.redis_dirty = Gauge(
            "sportsfeed_processor_redis_dirty_events",
            "Events whose Redis snapshot awaits repair", ["sport"], registry=r,
        ).labels(self.sport)
        self.deltas = Counter(
            "sportsfeed_processor_deltas", "Deltas published", ["sport"], registry=r,
        ).labels(self.sport)
        self.publish_failures = Gauge(
            "sportsfeed_processor_publish_failures", "Sends to Kafka that failed", ["sport"],
            registry=r,
        ).labels(self.sport)
        self.stalled_seconds = Gauge(
            "sportsfeed_processor_stalled_seconds",
            "How long the current batch has failed to commit (0 while batches commit)",
            ["sport"], registry=r,
        ).labels(self.sport)
        self.storage_rejections = Counter(
            "sportsfeed_processor_storage_rejections",
            "Messages rejected because the database refused their data", ["sport"], registry=r,
        ).labels(self.sport)
        self.refused_markets = Counter(
            "sportsfeed_processor_refused_markets",
            "Markets of applied or rejected messages refused one by one (ledger_refusals)",
            ["sport"], registry=r,
        ).labels(self.sport)
        self.lag_records = Gauge(
            "sportsfeed_processor_lag_records",
            "Feed records not applied yet, behind the partition's high watermark",
            ["sport", "partition"], registry=r,
        )
        self.lag_seconds = Gauge(
            "sportsfeed_processor_lag_seconds",
            "Age of the oldest feed record not applied yet (0 when caught up)",
            ["sport", "partition"], registry=r,
        )
        self.silence_suspensions = Counter(
            "sportsfeed_processor_silence_suspensions",
            "Events whose markets were suspended for a silent provider",
            ["sport", "provider"], registry=r,
        )

    def set_lag(self, lag: dict[int, tuple[int, float]]) -> None:
        """This worker's lag per owned partition (partitions it no longer owns disappear)."""
        for gauge in (self.lag_records, self.lag_seconds):
            for labels in list(gauge._metrics):  # the children: (sport, partition)
                if int(labels[1]) not in lag:
                    gauge.remove(*labels)
        for partition, (records, seconds) in lag.items():
            self.lag_records.labels(self.sport, str(partition)).set(records)
            self.lag_seconds.labels(self.sport, str(partition)).set(round(seconds, 3))

    def count(self, disposition: Disposition, n: int = 1) -> None:
        """Add ``n`` messages of one disposition."""
        self.messages.labels(self.sport, disposition.value).inc(n)

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)


def observe_many(histogram: Histogram, amounts: Iterable[float]) -> None:
    """``histogram.observe(a)`` for every amount, one increment per bucket.

    A batch of thousands of records observes each record's delay; one ``observe`` per
    record cost a few percent of the worker's CPU. Same result as observing one by one
    (each amount counts in the first bucket whose bound it does not exceed); this reads
    the histogram's bucket list, as ``Histogram.observe`` itself does.
    """
    bounds = histogram._upper_bounds
    counts = [0] * len(bounds)
    total = 0.0
    for amount in amounts:
        total += amount
        counts[bisect_left(bounds, amount)] += 1
    if not any(counts):
        return
    histogram._sum.inc(total)
    for bucket, count in zip(histogram._buckets, counts, strict=True):
        if count:
            bucket.inc(count)
