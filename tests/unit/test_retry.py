"""shared.retry: the project's backoff on tenacity."""

from __future__ import annotations

import random

import pytest

from shared.retry import Backoff, RetryCallState, backoff_s, call_retrying, retrying


def test_waits_double_up_to_the_cap_and_jitter_stays_within_its_share() -> None:
    assert [backoff_s(n, 0.2, 1.0) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    rng = random.Random(3)
    for n in range(1, 8):
        wait = backoff_s(n, 0.2, 10.0, jitter=0.5, rng=rng)
        base = min(10.0, 0.2 * 2 ** (n - 1))
        assert 0.5 * base <= wait <= 1.5 * base
    backoff = Backoff(0.5, 2.0)
    assert [backoff.next() for _ in range(4)] == [0.5, 1.0, 2.0, 2.0]
    backoff.reset()
    assert backoff.next() == 0.5


async def test_retrying_retries_what_it_is_told_and_says_so_before_each_wait() -> None:
    tries, seen = 0, []

    def before(state: RetryCallState) -> None:
        seen.append((state.attempt_number, state.upcoming_sleep))

    async for attempt in retrying(initial_s=0.001, max_s=0.002, retry_on=ConnectionError,
                                  before_sleep=before):
        with attempt:
            tries += 1
            if tries < 3:
                raise ConnectionError("not yet")
    assert tries == 3
    assert seen == [(1, 0.001), (2, 0.002)]


async def test_other_errors_end_it_at_once_and_giving_up_reraises_the_last() -> None:
    async def fail(exc: Exception, **kwargs: object) -> int:
        tries = 0

        async def run() -> None:
            nonlocal tries
            async for attempt in retrying(initial_s=0.001, max_s=0.001, retry_on=ConnectionError,
                                          **kwargs):  # type: ignore[arg-type]
                with attempt:
                    tries += 1
                    raise exc

        with pytest.raises(type(exc)):
            await run()
        return tries

    assert await fail(ValueError("a bug")) == 1
    assert await fail(ConnectionError("down"), max_tries=3) == 3
    assert await fail(ConnectionError("down"), give_up=lambda: True) == 1


async def test_a_wait_is_never_shorter_than_what_the_server_asked() -> None:
    waits = []

    def before(state: RetryCallState) -> None:
        waits.append(state.upcoming_sleep)

    tries = 0
    async for attempt in retrying(initial_s=0.001, max_s=0.001, at_least=lambda s: 0.02,
                                  before_sleep=before):
        with attempt:
            tries += 1
            if tries == 1:
                raise ConnectionError
    assert waits == [0.02]


async def test_call_retrying_counts_its_bare_first_try_as_attempt_one() -> None:
    tries, seen = 0, []

    def before(state: RetryCallState) -> None:
        seen.append((state.attempt_number, state.upcoming_sleep, repr(state.outcome.exception()
                                                                      if state.outcome else None)))

    async def flaky() -> str:
        nonlocal tries
        tries += 1
        if tries < 3:
            raise ConnectionError(f"not yet {tries}")
        return "done"

    assert await call_retrying(flaky, initial_s=0.001, max_s=0.002, retry_on=ConnectionError,
                               before_sleep=before) == "done"
    assert tries == 3
    # The bare try's failure is the loop's first attempt: same waits, same logging.
    assert seen == [(1, 0.001, "ConnectionError('not yet 1')"),
                    (2, 0.002, "ConnectionError('not yet 2')")]


async def test_call_retrying_ends_at_once_on_other_errors_and_gives_up_like_retrying() -> None:
    tries = 0

    async def fail_with(exc: Exception) -> None:
        nonlocal tries
        tries += 1
        raise exc

    with pytest.raises(ValueError, match="a bug"):
        await call_retrying(lambda: fail_with(ValueError("a bug")), initial_s=0.001,
                            max_s=0.001, retry_on=ConnectionError)
    assert tries == 1
    tries = 0
    with pytest.raises(ConnectionError, match="down"):
        await call_retrying(lambda: fail_with(ConnectionError("down")), initial_s=0.001,
                            max_s=0.001, retry_on=ConnectionError, max_tries=3)
    assert tries == 3
