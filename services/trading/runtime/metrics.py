"""Prometheus metrics of the trading service, in its own registry (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from services.trading.domain.book import Book


class Metrics:
    """Counters of records, decisions and settlements; balances; batch timings."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.records = Counter("sportsfeed_trading_records", "Kafka records read, by topic kind",
                               ["kind"], registry=r)
        self.bad_records = Counter("sportsfeed_trading_bad_records",
                                   "Records that did not decode (skipped)", ["kind"], registry=r)
        self.replays = Counter("sportsfeed_trading_replays",
                               "Deltas at or below their event's applied version (no effect)", registry=r)
        self.decisions = Counter(
            "sportsfeed_trading_decisions",
            "Prices offered to a strategy, by what it decided (placed, no_edge, stale_model...)",
            ["strategy", "decision"], registry=r)
        self.settlements = Counter("sportsfeed_trading_settlements",
                                   "Bets settled (or voided), by status", ["strategy", "status"],
                                   registry=r)
        self.balance = Gauge("sportsfeed_trading_balance", "Available balance after the last batch",
                             ["strategy"], registry=r)
        self.batch_seconds = Histogram(
            "sportsfeed_trading_batch_seconds", "One batch: load, decide, write and commit",
            registry=r, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.mysql_retries = Counter("sportsfeed_trading_mysql_retries",
                                     "Batches retried after a MySQL failure", registry=r)
        self.stalled_seconds = Gauge("sportsfeed_trading_stalled_seconds",
                                     "How long the current batch has failed to commit", registry=r)
        self.models_from_redis = Counter("sportsfeed_trading_models_from_redis",
                                         "Model prices read from Redis (not seen on the topic)",
                                         registry=r)

    def committed(self, book: Book) -> None:
        """Count what a committed batch did."""
        self.replays.inc(book.replays)
        for (strategy, decision), n in book.decisions.items():
            self.decisions.labels(strategy, decision).inc(n)
        for (strategy, status), n in book.settled.items():
            self.settlements.labels(strategy, status).inc(n)
        for strategy, balance in book.balances.items():
            self.balance.labels(strategy).set(float(balance))

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
