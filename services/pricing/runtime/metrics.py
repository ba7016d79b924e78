"""Prometheus metrics of the pricing service, in its own registry (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from shared.enums import Sport

CPU_BUCKETS = (0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01,
               0.025, 0.05, 0.1)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
               30.0)


class Metrics:
    """Counters, histograms and gauges of one pricing worker."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.published = Counter(
            "sportsfeed_pricing_prices_published", "ModelPrices published", ["sport", "phase"],
            registry=r)
        self.cpu_seconds = Histogram(
            "sportsfeed_pricing_cpu_seconds",
            "CPU time per ModelPrices published, from the deltas read to the publish (the "
            "batch's CPU over the prices it published)", ["sport"], registry=r,
            buckets=CPU_BUCKETS)
        self.lag_seconds = Histogram(
            "sportsfeed_pricing_lag_seconds",
            "From a delta's applied_at (processor) to its ModelPrices being published",
            ["sport"], registry=r, buckets=LAG_BUCKETS)
        self.deltas = Counter(
            "sportsfeed_pricing_deltas", "Deltas read, by what they meant for the model",
            ["sport", "verdict"], registry=r)
        self.invalid = Counter(
            "sportsfeed_pricing_invalid_updates", "Records of the updates topics that did not decode",
            registry=r)
        self.resyncs = Counter(
            "sportsfeed_pricing_snapshot_loads", "Snapshots loaded (first sight, version gap)",
            ["sport", "source"], registry=r)
        self.events = Gauge(
            "sportsfeed_pricing_events", "Events held and priced", ["sport"], registry=r)
        self.model = Gauge(
            "sportsfeed_pricing_model_info", "The model in use (value 1), by sport and version",
            ["sport", "model"], registry=r)
        self.training_size = Gauge(
            "sportsfeed_pricing_model_training_size", "Matches the model in use was fitted on",
            ["sport"], registry=r)
        self.refits = Counter(
            "sportsfeed_pricing_refits", "Periodic refits run, by exit", ["outcome"], registry=r)
        self.publish_failures = Counter(
            "sportsfeed_pricing_publish_failures", "Sends to Kafka or writes to Redis that failed",
            ["target"], registry=r)
        for sport in Sport:
            self.events.labels(sport.value)
            self.training_size.labels(sport.value)

    def use_model(self, sport: Sport, version: str, training_size: int, previous: str | None) -> None:
        """Say which model prices ``sport``."""
        if previous is not None:
            self.model.remove(sport.value, previous)
        self.model.labels(sport.value, version).set(1)
        self.training_size.labels(sport.value).set(training_size)

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
