"""Per-provider token buckets shared by the worker processes of one ingestion run.

The supervisor creates one file per run (:meth:`SharedBuckets.create`, in the run
directory it cleans at start); every worker maps it (:meth:`SharedBuckets.open`). The
file holds one 16-byte slot per provider, ``(tokens, stamp)`` as two doubles, and the
providers' order is the sorted list of configured providers, which every process reads
from the same settings. A slot is read, refilled and charged under an exclusive
``lockf`` lock on its 16 bytes, so concurrent workers see one bucket: a provider gets
at most ``burst + rate * t`` messages in any ``t`` seconds (plus the part of one batch
beyond the burst, as with a single bucket) whatever the number of workers. The stamp is
``time.monotonic()``, one clock for every process of the machine.

Uncontended, a charge is two system calls (lock, unlock) and two 16-byte copies: a few
microseconds per request, with no network round trip and no second service to be up;
the early check before a body is read (:meth:`SharedBuckets.peek`) takes no lock.
A stamp of 0 marks a slot never used: its bucket starts full.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from services.ingestion.ratelimit import RateSpec, TokenBucket, charge, refill, wait_for_one

_SLOT = struct.Struct("dd")


class SharedBuckets:
    """The providers' buckets in a file mapped by every worker (see the module doc)."""

    def __init__(
        self, path: Path, providers: Iterable[str], default: RateSpec,
        overrides: dict[str, RateSpec] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        names = sorted(set(providers))
        self._index = {name: i for i, name in enumerate(names)}
        overrides = overrides or {}
        self._specs = [overrides.get(name, default) for name in names]
        self._clock = clock
        self._fd = os.open(path, os.O_RDWR)
        size = max(len(names), 1) * _SLOT.size
        if os.fstat(self._fd).st_size < size:
            os.close(self._fd)
            raise ValueError(f"{path} has room for fewer providers than configured")
        self._map = mmap.mmap(self._fd, size)
        # Only authenticated providers are charged, and every configured one has a slot;
        # anything else (a key table changed under a running group) gets its own bucket.
        self._default = default
        self._local: dict[str, TokenBucket] = {}

    @staticmethod
    def create(path: Path, providers: Iterable[str]) -> Path:
        """Write a fresh file with a never-used slot per provider (every bucket full)."""
        count = max(len(set(providers)), 1)
        path.write_bytes(bytes(count * _SLOT.size))
        return path

    @classmethod
    def open(
        cls, path: Path, providers: Iterable[str], default: RateSpec,
        overrides: dict[str, RateSpec] | None = None,
    ) -> SharedBuckets:
        """Map a file made by :meth:`create` for the same providers."""
        return cls(path, providers, default, overrides)

    def close(self) -> None:
        """Unmap and close the file."""
        self._map.close()
        os.close(self._fd)

    def _locked_read(self, offset: int) -> tuple[float, float]:
        """The slot at ``offset``, read under its lock (the caller unlocks)."""
        fcntl.lockf(self._fd, fcntl.LOCK_EX, _SLOT.size, offset)
        tokens, stamp = _SLOT.unpack_from(self._map, offset)
        return tokens, stamp

    def _unlock(self, offset: int) -> None:
        fcntl.lockf(self._fd, fcntl.LOCK_UN, _SLOT.size, offset)

    def _state(self, index: int, tokens: float, stamp: float, now: float) -> tuple[float, float]:
        spec = self._specs[index]
        if stamp == 0.0:  # never used: a full bucket
            return float(spec.burst), now
        return refill(tokens, stamp, now, spec.rate, float(spec.burst))

    def _unshared(self, provider: str) -> TokenBucket:
        bucket = self._local.get(provider)
        if bucket is None:
            bucket = self._local[provider] = TokenBucket(self._default, self._clock)
        return bucket

    def peek(self, provider: str) -> float:
        """Seconds until the provider may send again; 0.0 if it may now.

        Read without the lock (only :meth:`take` writes): the slot is read twice and
        used when both reads agree, so a read torn by a concurrent write is never
        used; on disagreement it is read under the lock. Only ``take`` decides.
        """
        if provider not in self._index:
            return self._unshared(provider).peek()
        index = self._index[provider]
        offset = index * _SLOT.size
        first = _SLOT.unpack_from(self._map, offset)
        if _SLOT.unpack_from(self._map, offset) != first:
            try:
                first = self._locked_read(offset)
            finally:
                self._unlock(offset)
        tokens, _ = self._state(index, first[0], first[1], self._clock())
        return wait_for_one(tokens, self._specs[index].rate)

    def take(self, provider: str, cost: int) -> float:
        """Charge ``cost`` messages; 0.0 if admitted, else the seconds to wait (nothing paid)."""
        if provider not in self._index:
            return self._unshared(provider).take(cost)
        index = self._index[provider]
        offset = index * _SLOT.size
        spec = self._specs[index]
        try:
            tokens, stamp = self._state(index, *self._locked_read(offset), self._clock())
            tokens, wait = charge(tokens, cost, spec.rate, float(spec.burst))
            _SLOT.pack_into(self._map, offset, tokens, stamp)
        finally:
            self._unlock(offset)
        return wait
