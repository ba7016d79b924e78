"""Kafka topic names, and ``python -m shared.topics`` to create them explicitly.

Topics are never auto-created (the broker has ``auto.create.topics.enable=false``):
a typo in a topic name must fail loudly, not open a topic nobody reads.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass

from shared.enums import Sport
from shared.settings import KafkaSettings


@dataclass(frozen=True)
class Topics:
    """Topic names under one prefix (``sportsfeed`` in production, fresh ones in tests)."""

    prefix: str = "sportsfeed"

    def feed(self, sport: Sport) -> str:
        """Canonical messages of one sport, keyed by event id."""
        return f"{self.prefix}.{sport.value}.feed"

    def updates(self, sport: Sport) -> str:
        """Applied deltas of one sport, with per-event versions."""
        return f"{self.prefix}.{sport.value}.updates"

    def model(self, sport: Sport) -> str:
        """The platform's own prices of one sport (``shared.fair.ModelPrices``), keyed by event id."""
        return f"{self.prefix}.{sport.value}.model"

    @property
    def rejected(self) -> str:
        """Everything refused anywhere, with its reason and original payload."""
        return f"{self.prefix}.rejected"

    def all(self) -> list[str]:
        """Every topic the platform uses."""
        return [*(self.feed(s) for s in Sport), *self.fanout(), self.rejected]

    def fanout(self) -> list[str]:
        """The topics every distribution instance reads whole: updates and model."""
        return [self.updates(s) for s in Sport] + [self.model(s) for s in Sport]


async def create_topics(settings: KafkaSettings, topics: Topics | None = None) -> list[str]:
    """Create the missing topics; returns the names created (existing ones are kept)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topics = topics or Topics(settings.topic_prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in topics.all() if name not in existing]
        if missing:
            # The updates and model topics get fanout_partitions, the others partitions.
            fanout = set(topics.fanout())
            await admin.create_topics([
                NewTopic(n, settings.fanout_partitions if n in fanout else settings.partitions,
                         settings.replication_factor)
                for n in missing
            ])
        return missing
    finally:
        await admin.close()


async def delete_topics(settings: KafkaSettings, names: list[str]) -> None:
    """Delete topics (tests clean up their fresh topics with this)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m shared.topics [--partitions N] [--fanout-partitions N]`` creates
    every missing topic (existing ones keep their partitions)."""
    parser = argparse.ArgumentParser(description="Create the SportsFeed Kafka topics.")
    parser.add_argument("--partitions", type=int,
                        help="partitions of each feed topic and of rejected (default: settings)")
    parser.add_argument("--fanout-partitions", type=int,
                        help="partitions of each updates and model topic (default: settings)")
    args = parser.parse_args(argv)
    settings = KafkaSettings()
    if args.partitions:
        settings = settings.model_copy(update={"partitions": args.partitions})
    if args.fanout_partitions:
        settings = settings.model_copy(update={"fanout_partitions": args.fanout_partitions})
    created = asyncio.run(create_topics(settings))
    topics = Topics(settings.topic_prefix).all()
    print(f"topics: {len(topics)} in place, {len(created)} created ({settings.bootstrap})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
