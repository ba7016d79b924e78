"""``python -m services.processors.rebuild [--sport S]``: Redis live state from MySQL.

Redis is a cache; this makes it hold exactly what MySQL has: every event's snapshot at
its MySQL version, and the live and all-events indexes, for one sport or all. Safe
while workers run: a snapshot never replaces a newer version in Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from services.processors.domain.sport_rules import stateful_rules
from services.processors.settings import ProcessorSettings
from services.processors.storage.store import Store
from shared.cache import open_cache
from shared.enums import Sport
from shared.storage.pool import create_pool


async def rebuild(settings: ProcessorSettings, sports: list[Sport]) -> dict[Sport, int]:
    """Rebuild the given sports; returns how many events each has in Redis now."""
    counts: dict[Sport, int] = {}
    async with create_pool(settings.mysql) as pool, open_cache(settings.redis) as cache:
        for sport in sports:
            store = Store(pool, stateful_rules(sport), cache_limit=0)
            snapshots = await store.snapshots()
            await cache.rebuild(sport, snapshots)
            counts[sport] = len(snapshots)
    return counts


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description="Rebuild the Redis live state from MySQL.")
    parser.add_argument("--sport", choices=[s.value for s in Sport], help="one sport (default: all)")
    args = parser.parse_args(argv)
    sports = [Sport(args.sport)] if args.sport else list(Sport)
    counts = asyncio.run(rebuild(ProcessorSettings(), sports))
    for sport, count in counts.items():
        print(f"rebuilt {sport.value}: {count} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
