"""Prometheus metrics: per-app registry, bounded labels, received = accepted + refused."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from services.ingestion.errors import ReasonClass
from services.ingestion.metrics import IngestionMetrics
from services.ingestion.ratelimit import RateLimiter, RateSpec
from tests.support.ingestion_client import AUTH, JSON_HEADERS, harness
from tests.support.ingestion_fakes import FakeProducer, odds_message


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def test_two_apps_have_separate_registries() -> None:
    one, two = IngestionMetrics(), IngestionMetrics()
    one.count_accepted("acme", "football", "json", 3)
    assert one.registry is not two.registry
    assert two.accepted.labels("acme", "football", "json")._value.get() == 0


async def test_received_equals_accepted_plus_refused_by_label() -> None:
    bad = odds_message("m-bad")
    bad["body"]["markets"][0]["outcomes"][0]["price"] = "0.2"
    limiter = RateLimiter(RateSpec(rate=0.001, burst=6))
    async with harness(limiter=limiter) as h:
        await h.post_json({"messages": [odds_message("m-1"), bad, odds_message("m-2")]})
        await h.client.post("/v1/feed/json", data=b"{broken", headers=JSON_HEADERS)
        await h.client.post("/v1/feed/json", json=odds_message())  # no key
        await h.post_json({"messages": [odds_message(f"r-{i}") for i in range(5)]})  # 429
        response = await h.client.get("/metrics")
        text = await response.text()
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = _samples(text)
    received = _total(samples, "sportsfeed_ingestion_messages_received_total")
    accepted = _total(samples, "sportsfeed_ingestion_messages_accepted_total")
    refused = _total(samples, "sportsfeed_ingestion_messages_refused_total")
    assert accepted == 2
    assert received == accepted + refused == 3 + 1 + 1 + 5
    key = ("sportsfeed_ingestion_messages_accepted_total",
           (("format", "json"), ("provider", "acme"), ("sport", "football")))
    assert samples[key] == 2
    classes = {
        dict(labels)["reason_class"]: v for (n, labels), v in samples.items()
        if n == "sportsfeed_ingestion_messages_refused_total"
    }
    assert classes == {"schema": 1, "malformed": 1, "auth": 1, "rate_limit": 5}
    assert set(classes) <= {c.value for c in ReasonClass}


async def test_request_histogram_is_labelled_by_route_and_status() -> None:
    async with harness() as h:
        await h.post_json(odds_message())
        await h.client.get("/healthz")
        text = await (await h.client.get("/metrics")).text()
    samples = _samples(text)
    counts = {
        (dict(labels)["route"], dict(labels)["status"]): v for (n, labels), v in samples.items()
        if n == "sportsfeed_ingestion_request_seconds_count"
    }
    assert counts[("feed_json", "202")] == 1
    assert counts[("healthz", "200")] == 1
    assert _total(samples, "sportsfeed_ingestion_kafka_publish_seconds_count") == 1


async def test_kafka_failures_are_refused_as_kafka_unavailable() -> None:
    async with harness(producer=FakeProducer(reachable=False), wait_ready=False) as h:
        await h.post_json({"messages": [odds_message("a"), odds_message("b")]})
        text = await (await h.client.get("/metrics")).text()
    samples = _samples(text)
    key = ("sportsfeed_ingestion_messages_refused_total", (
        ("format", "json"), ("provider", "acme"), ("reason_class", "kafka_unavailable"),
        ("sport", "football"),
    ))
    assert samples[key] == 2


async def test_a_failed_rejected_record_publish_is_counted() -> None:
    producer = FakeProducer(behaviour=lambda i, topic: "fail" if "rejected" in topic else "ack")
    async with harness(producer=producer) as h:
        await h.client.post("/v1/feed/json", data=b"[", headers={**AUTH,
                            "Content-Type": "application/json"})
        text = await (await h.client.get("/metrics")).text()
    samples = _samples(text)
    assert _total(samples, "sportsfeed_ingestion_rejected_publish_failures_total") == 1


def _histogram_samples(metrics: IngestionMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in metrics.registry.collect() for s in family.samples
        if not s.name.endswith("_created")
    }


async def test_writes_are_coalesced_per_loop_turn_and_equal_direct_ones() -> None:
    import asyncio

    batched, direct = IngestionMetrics(), IngestionMetrics()
    durations = [0.0004, 0.001, 0.003, 0.003, 0.02, 0.7, 12.0, 0.0025]
    for i, seconds in enumerate(durations):
        batched.observe_request("feed_json", 202, seconds)
        batched.observe_publish(seconds / 2)
        batched.count_received("acme", "football", "json", i + 1)
        batched.count_accepted("acme", "football", "json", i)
        batched.count_refused("acme", "football", "json", ReasonClass.SCHEMA)
        direct.request_seconds.labels("feed_json", "202").observe(seconds)
        direct.kafka_publish_seconds.observe(seconds / 2)
        direct.received.labels("acme", "football", "json").inc(i + 1)
        direct.accepted.labels("acme", "football", "json").inc(i)
        direct.refused.labels("acme", "football", "json", "schema").inc()
    # Nothing written yet: one write per value at the end of this turn of the loop.
    assert batched.received.labels("acme", "football", "json")._value.get() == 0
    await asyncio.sleep(0)
    assert _histogram_samples(batched) == _histogram_samples(direct)
    assert batched.received.labels("acme", "football", "json")._value.get() == 36


async def test_render_writes_out_what_is_pending() -> None:
    metrics = IngestionMetrics()
    metrics.count_accepted("acme", "football", "json", 4)
    metrics.observe_request("feed_json", 202, 0.002)
    samples = _samples(metrics.render().decode())
    assert _total(samples, "sportsfeed_ingestion_messages_accepted_total") == 4
    assert _total(samples, "sportsfeed_ingestion_request_seconds_count") == 1


def test_without_a_running_loop_writes_are_immediate() -> None:
    metrics = IngestionMetrics()
    metrics.count_received("acme", "football", "json", 2)
    metrics.observe_publish(0.01)
    assert metrics.received.labels("acme", "football", "json")._value.get() == 2
    assert _total(_histogram_samples(metrics), "sportsfeed_ingestion_kafka_publish_seconds_count") == 1
