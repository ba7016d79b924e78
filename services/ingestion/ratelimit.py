"""Per-provider token buckets, counted in messages (a batch of 100 costs 100 tokens).

A request is admitted when its provider's bucket holds at least ``min(cost, burst)``
tokens; it then pays its full cost. The bucket may go below zero, so a batch larger
than the burst is admitted only from a full bucket and its debt is repaid by waiting:
no batch size is refused forever, and the long-run rate still holds.

The arithmetic is :func:`refill` and :func:`charge`, pure functions of a bucket's
state; :class:`TokenBucket` keeps that state in one process, and
:class:`services.ingestion.sharedlimit.SharedBuckets` keeps it in memory shared by the
worker processes of one run, so a provider's limit holds whatever the worker count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from services.ingestion.errors import ConfigError
from services.ingestion.settings import IngestionSettings


@dataclass(frozen=True)
class RateSpec:
    """A sustained rate (messages per second) and a burst (bucket size)."""

    rate: float
    burst: int


def refill(tokens: float, stamp: float, now: float, rate: float, burst: float) -> tuple[float, float]:
    """A bucket's tokens and stamp at ``now``: refilled at ``rate``, never above ``burst``."""
    elapsed = now - stamp
    if elapsed > 0:
        return min(burst, tokens + elapsed * rate), now
    return tokens, stamp


def wait_for_one(tokens: float, rate: float) -> float:
    """Seconds until one token is available (0.0 when one is now)."""
    return 0.0 if tokens >= 1 else (1 - tokens) / rate


def charge(tokens: float, cost: int, rate: float, burst: float) -> tuple[float, float]:
    """``(tokens after, 0.0)`` when ``cost`` is admitted, else ``(tokens, seconds to wait)``.

    Admitted when ``min(cost, burst)`` tokens are there; then the full cost is paid.
    """
    need = min(float(cost), burst)
    if tokens >= need:
        return tokens - cost, 0.0
    return tokens, (need - tokens) / rate


class TokenBucket:
    """One provider's bucket; ``clock`` is injectable so tests need no sleeping."""

    __slots__ = ("_clock", "_stamp", "_tokens", "burst", "rate")

    def __init__(self, spec: RateSpec, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = spec.rate
        self.burst = float(spec.burst)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()

    def peek(self) -> float:
        """Seconds until one token is available (0.0 when one is now)."""
        self._tokens, self._stamp = refill(
            self._tokens, self._stamp, self._clock(), self.rate, self.burst)
        return wait_for_one(self._tokens, self.rate)

    def take(self, cost: int) -> float:
        """Pay ``cost`` tokens and return 0.0, or return the seconds to wait (nothing paid)."""
        tokens, self._stamp = refill(
            self._tokens, self._stamp, self._clock(), self.rate, self.burst)
        self._tokens, wait = charge(tokens, cost, self.rate, self.burst)
        return wait


class Limiter(Protocol):
    """What the service asks of a rate limiter (in one process or shared by several)."""

    def peek(self, provider: str) -> float: ...
    def take(self, provider: str, cost: int) -> float: ...


def parse_rate_limits(text: str) -> dict[str, RateSpec]:
    """Parse ``provider:rate:burst,...`` overrides."""
    out: dict[str, RateSpec] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        parts = item.split(":")
        try:
            provider, rate, burst = parts[0], float(parts[1]), int(parts[2])
        except (IndexError, ValueError) as exc:
            raise ConfigError(f"RATE_LIMITS entry {item!r}: expected provider:rate:burst") from exc
        if len(parts) != 3 or rate <= 0 or burst < 1 or not math.isfinite(rate):
            raise ConfigError(f"RATE_LIMITS entry {item!r}: rate must be > 0 and burst >= 1")
        out[provider] = RateSpec(rate, burst)
    return out


class RateLimiter:
    """The buckets of all providers, made on first use from the defaults or an override."""

    def __init__(
        self, default: RateSpec, overrides: dict[str, RateSpec] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._default = default
        self._overrides = overrides or {}
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    @classmethod
    def from_settings(cls, settings: IngestionSettings) -> RateLimiter:
        """The limiter the settings describe."""
        return cls(
            RateSpec(settings.rate_limit_per_second, settings.rate_limit_burst),
            parse_rate_limits(settings.rate_limits),
        )

    def bucket(self, provider: str) -> TokenBucket:
        """The bucket of one provider (providers are bounded by the configured keys)."""
        bucket = self._buckets.get(provider)
        if bucket is None:
            spec = self._overrides.get(provider, self._default)
            bucket = self._buckets[provider] = TokenBucket(spec, self._clock)
        return bucket

    def peek(self, provider: str) -> float:
        """Seconds until the provider may send again; 0.0 if it may now."""
        return self.bucket(provider).peek()

    def take(self, provider: str, cost: int) -> float:
        """Charge ``cost`` messages; 0.0 if admitted, else the seconds to wait."""
        return self.bucket(provider).take(cost)
