"""Per-provider token buckets counted in messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ingestion.errors import ConfigError
from services.ingestion.ratelimit import RateLimiter, RateSpec, TokenBucket, parse_rate_limits
from services.ingestion.settings import IngestionSettings
from services.ingestion.sharedlimit import SharedBuckets


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_batch_costs_one_token_per_message() -> None:
    clock = Clock()
    bucket = TokenBucket(RateSpec(rate=10, burst=100), clock)
    assert bucket.take(60) == 0.0
    assert bucket.take(40) == 0.0
    wait = bucket.take(1)
    assert wait == pytest.approx(0.1)  # one token refills in 1/10 s


def test_the_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(RateSpec(rate=10, burst=100), clock)
    bucket.take(100)
    clock.now += 2.0
    assert bucket.take(20) == 0.0
    assert bucket.take(1) > 0
    clock.now += 1000
    assert bucket.take(100) == 0.0
    assert bucket.take(1) > 0  # never more than the burst


def test_a_refused_request_pays_nothing() -> None:
    clock = Clock()
    bucket = TokenBucket(RateSpec(rate=10, burst=10), clock)
    bucket.take(8)
    assert bucket.take(5) == pytest.approx(0.3)
    assert bucket.take(2) == 0.0  # the refused five were not charged


def test_a_batch_larger_than_the_burst_passes_from_a_full_bucket_then_repays() -> None:
    clock = Clock()
    bucket = TokenBucket(RateSpec(rate=100, burst=50), clock)
    assert bucket.take(150) == 0.0  # admitted from a full bucket
    assert bucket.peek() == pytest.approx(1.01)  # 100 tokens of debt plus one
    clock.now += 1.01
    assert bucket.peek() == 0.0


def test_providers_have_separate_buckets_and_overrides_apply() -> None:
    clock = Clock()
    limiter = RateLimiter(RateSpec(10, 10), {"beta": RateSpec(1, 1)}, clock)
    assert limiter.take("acme", 10) == 0.0
    assert limiter.take("acme", 1) > 0
    assert limiter.take("gamma", 10) == 0.0
    assert limiter.take("beta", 1) == 0.0
    assert limiter.take("beta", 1) == pytest.approx(1.0)


def test_overrides_are_read_from_settings() -> None:
    settings = IngestionSettings(rate_limits="beta:5:20, gamma:1.5:3")
    limits = parse_rate_limits(settings.rate_limits)
    assert limits == {"beta": RateSpec(5, 20), "gamma": RateSpec(1.5, 3)}
    limiter = RateLimiter.from_settings(settings)
    assert limiter.bucket("beta").burst == 20


@pytest.mark.parametrize("text", ["beta", "beta:5", "beta:x:1", "beta:0:1", "beta:1:0", "b:1:2:3"])
def test_invalid_overrides_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_rate_limits(text)


def test_shared_buckets_behave_as_one_bucket_for_every_process_that_maps_them(
    tmp_path: Path,
) -> None:
    clock = Clock()
    path = SharedBuckets.create(tmp_path / "ratelimit.bin", ["acme", "beta"])
    overrides = {"beta": RateSpec(1, 1)}
    one = SharedBuckets(path, ["beta", "acme"], RateSpec(10, 100), overrides, clock)
    two = SharedBuckets(path, ["acme", "beta"], RateSpec(10, 100), overrides, clock)
    assert one.take("acme", 60) == 0.0  # a never-used slot starts full
    assert two.take("acme", 40) == 0.0  # the same bucket, seen from another mapping
    assert one.take("acme", 1) == pytest.approx(0.1)
    assert two.peek("acme") == pytest.approx(0.1)
    clock.now += 2.0
    assert two.take("acme", 20) == 0.0
    assert one.take("acme", 1) > 0
    assert one.take("beta", 1) == 0.0  # its own bucket, with its override
    assert two.take("beta", 1) == pytest.approx(1.0)
    clock.now += 1000
    assert one.take("acme", 150) == 0.0  # larger than the burst: from a full bucket
    assert two.peek("acme") == pytest.approx(5.1)  # 50 tokens of debt plus one at 10/s
    assert one.take("unconfigured", 100) == 0.0  # no slot: a bucket of its own
    one.close()
    two.close()
