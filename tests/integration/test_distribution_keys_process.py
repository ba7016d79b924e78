"""``python -m services.distribution`` and its consumer keys: SIGHUP revokes, a bad or missing
configuration stops it at start (exit 2) without a key in what it prints, ``AUTH=off`` says so."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.distribution import (
    REPO,
    api_session,
    get_json,
    seed_redis,
    service_env,
    service_process,
    snapshot,
    ws_client,
)
from tests.support.ports import free_port

pytestmark = pytest.mark.integration

ALPHA = "alpha-key-abcdefghijklmnop"
BETA = "beta-key-abcdefghijklmnopq"


def env_of(kafka: KafkaSettings, mysql: MySQLSettings, redis: RedisSettings,
           **values: str) -> dict[str, str]:
    """The service's environment on free ports, with ``values`` instead of the tests' key."""
    env = service_env(kafka, mysql, redis, free_port(), free_port())
    env.pop("SPORTSFEED_DISTRIBUTION_API_KEYS")
    env.update(values)
    return env


async def test_sighup_rereads_the_keys_file_closing_a_revoked_keys_sockets(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-1", version=4)])
    keys = tmp_path / "consumer-keys"
    keys.write_text(f"alpha {ALPHA} all\nbeta {BETA} rest,ws\n")
    env = env_of(kafka_settings, mysql_settings, redis_settings,
                 SPORTSFEED_DISTRIBUTION_API_KEYS_FILE=str(keys))
    rest = f"http://127.0.0.1:{env['SPORTSFEED_DISTRIBUTION_REST_PORT']}"
    log = tmp_path / "service.log"
    with service_process(env, log) as process:
        async with ws_client(f"ws://127.0.0.1:{env['SPORTSFEED_DISTRIBUTION_WS_PORT']}/",
                             key=ALPHA) as client, api_session(ALPHA) as alpha:
            await client.send(type="subscribe", event_ids=["ev-1"])
            assert (await client.recv_until("snapshot"))["version"] == 4
            assert (await get_json(alpha, rest + "/v1/events/ev-1"))[0] == 200
            keys.write_text(f"beta {BETA} rest,ws\n")
            process.send_signal(signal.SIGHUP)
            with pytest.raises(Exception, match="4001"):
                await client.recv_until("never", within=10)
            assert client.conn.close_reason == "key revoked"
            assert (await get_json(alpha, rest + "/v1/events/ev-1"))[0] == 401
        async with api_session(BETA) as beta:
            assert (await get_json(beta, rest + "/v1/events/ev-1"))[0] == 200
        assert process.poll() is None  # SIGHUP did not stop it
    text = log.read_text()
    assert "consumer keys reloaded: 1 (beta (rest, ws)); revoked: alpha" in text
    assert ALPHA not in text
    assert BETA not in text


def run_briefly(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The service with a configuration it must refuse: its exit and what it printed."""
    return subprocess.run([sys.executable, "-m", "services.distribution"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("values", "expected", "secret"), [
    ({}, "no consumer keys configured", None),
    ({"SPORTSFEED_DISTRIBUTION_API_KEYS": f"alpha:{ALPHA}:all",
      "SPORTSFEED_DISTRIBUTION_WS_TOKENS": "old-token-that-is-secret"},
     "SPORTSFEED_DISTRIBUTION_WS_TOKENS was replaced by consumer keys", "old-token-that-is-secret"),
    # The key where the scopes go: the error describes the word, never quotes it.
    ({"SPORTSFEED_DISTRIBUTION_API_KEYS": f"alpha:{BETA}:rest|{ALPHA}"}, "unknown scope a 26-character word",
     ALPHA),
    ({"SPORTSFEED_DISTRIBUTION_API_KEYS": "alpha:too-short:all"}, "at least 16 characters", "too-short"),
])
async def test_a_bad_or_missing_key_configuration_exits_2_without_printing_a_key(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    values: dict[str, str], expected: str, secret: str | None,
) -> None:
    env = env_of(kafka_settings, mysql_settings, redis_settings, **values)
    done = await asyncio.to_thread(run_briefly, env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert expected in done.stderr
    if secret is not None:
        assert secret not in done.stderr + done.stdout


async def test_turning_the_check_off_is_explicit_and_said_in_the_log(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> None:
    await seed_redis(redis_settings, [snapshot("ev-1", version=4)])
    env = env_of(kafka_settings, mysql_settings, redis_settings, SPORTSFEED_DISTRIBUTION_AUTH="off")
    log = tmp_path / "service.log"
    with service_process(env, log):
        async with api_session(None) as http:
            url = f"http://127.0.0.1:{env['SPORTSFEED_DISTRIBUTION_REST_PORT']}/v1/events/ev-1"
            assert (await get_json(http, url))[0] == 200
    assert "CONSUMER KEY CHECK IS OFF (SPORTSFEED_DISTRIBUTION_AUTH=off)" in log.read_text()
