"""Durable storage: the MySQL pool and the schema migrations (``shared.storage.migrate``).

``migrate`` is not imported here, so ``python -m shared.storage.migrate`` runs cleanly.
"""

from shared.storage.pool import Pool, create_pool, from_db_datetime, ping, to_db_datetime

__all__ = ["Pool", "create_pool", "from_db_datetime", "ping", "to_db_datetime"]
