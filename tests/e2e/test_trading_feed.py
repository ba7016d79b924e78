"""A generator match through the real football processor into the trading service.

The processor and the trading service run as subprocesses on fresh topics, database and
Redis prefix. The test plays a perfect pricing service: it publishes the generator's true
probabilities as model prices at the versions the processor will give the fixture and each
live message. Every bet the trading service places must then be settled by the
processor's own settlement deltas, its closing line fixed, and the ledger must add up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.enums import Sport
from shared.model import FeedMessage
from shared.settings import KafkaSettings, MySQLSettings, RedisSettings
from tests.support.processors import WorkerProcess, database, produce
from tests.support.trading_sanity import truth_feed
from tests.support.trading_service import (
    balances_add_up,
    producer,
    publish,
    running,
    wait_for,
)

pytestmark = pytest.mark.e2e

STRATEGIES = """
[[strategy]]
name = "truth"
kind = "expected_value"
bankroll = 1000
threshold = 0.0
stake_share = 0.01

[[strategy]]
name = "back-first"
kind = "expected_value"
bankroll = 100000
threshold = -1.0
stake_share = 0.001
"""


async def test_a_generator_match_is_traded_and_settled_through_the_real_processor(
    kafka_settings: KafkaSettings, mysql_settings: MySQLSettings, redis_settings: RedisSettings,
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    event_id, feed = truth_feed(Sport.FOOTBALL, 3, computed_at=now)
    start = now - timedelta(hours=1)
    messages = [FeedMessage(message_id=f"{event_id}-{n}", provider="sanity", sport=Sport.FOOTBALL,
                            event_id=event_id, kind=draft.kind, body=draft.body,
                            provider_ts=start + timedelta(seconds=draft.t),
                            received_at=start + timedelta(seconds=draft.t))
                for n, (draft, _) in enumerate(feed, 1)]
    models = [prices for _, prices in feed if prices is not None]
    worker = WorkerProcess(Sport.FOOTBALL, kafka_settings, mysql_settings, redis_settings,
                           tmp_path / "football.log").start()
    try:
        await worker.wait_ready()
        # A whole match's model prices are published at once: keep every version of them.
        async with running(kafka_settings, mysql_settings, redis_settings, tmp_path,
                           strategies=STRATEGIES,
                           extra_env={"SPORTSFEED_TRADING_MODEL_VERSIONS_KEPT": "1000"}), \
                producer(kafka_settings) as p, database(mysql_settings) as db:
            await publish(p, kafka_settings, models)
            await produce(kafka_settings, messages)
            await wait_for(db, f"SELECT version FROM trading_events WHERE event_id = '{event_id}'",
                           len(messages), within=120)
            rows = await db.rows("SELECT strategy, phase, status, closing_fixed, market_version"
                                 " FROM trading_bets ORDER BY id")
            backed = [r for r in rows if r[0] == "back-first"]
            assert len(backed) >= 20  # an outcome of every market the match offered
            assert all(status != "open" for _, _, status, _, _ in rows), "a bet was not settled"
            assert all(fixed for _, _, _, fixed, _ in rows), "a closing line stayed open"
            # The truth finds value only in drifted pre-match prices.
            assert all(phase == "pre_match" for name, phase, *_ in rows if name == "truth")
            assert await balances_add_up(db)
            applied = await db.scalar(
                f"SELECT COUNT(*) FROM ledger WHERE event_id = '{event_id}' AND disposition = 'applied'")
            assert applied == len(messages)
    finally:
        worker.ensure_stopped()
