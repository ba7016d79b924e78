"""Fitted models in MySQL (``pricing_models``, migration 0007): stored by ``fit``, read by the service.

Rows are only ever inserted; the newest row of a sport (highest id) is the one in use.
A fit of a sport holds a named lock (``GET_LOCK``) while it runs, so two fits of one
sport (the service's periodic refit and an operator's) never run at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from services.pricing.domain.models import PricingModel, decode_fitted
from services.pricing.domain.training import FitResult
from shared.enums import Sport
from shared.storage.pool import from_db_datetime, to_db_datetime

COLUMNS = ("id, sport, kind, params, training_from, training_to, training_size, teams, metrics,"
           " sources, created_at")


@dataclass(frozen=True)
class StoredModel:
    """One row of ``pricing_models``."""

    id: int
    sport: Sport
    kind: str
    params: dict[str, Any]
    training_from: datetime
    training_to: datetime
    training_size: int
    teams: int
    metrics: dict[str, Any]
    sources: dict[str, Any]
    created_at: datetime

    @property
    def version(self) -> str:
        """The version id the service publishes: ``<sport>:<kind>:<id>``."""
        return f"{self.sport.value}:{self.kind}:{self.id}"

    def pricing_model(self) -> PricingModel:
        """The model to price with."""
        return PricingModel(self.sport, decode_fitted(self.sport, self.kind, self.params),
                            self.id, self.training_size)


def _stored(row: tuple[Any, ...]) -> StoredModel:
    (model_id, sport, kind, params, start, end, size, teams, metrics, sources, created) = row
    return StoredModel(
        id=int(model_id), sport=Sport(sport), kind=kind, params=orjson.loads(params),
        training_from=from_db_datetime(start), training_to=from_db_datetime(end),
        training_size=int(size), teams=int(teams), metrics=orjson.loads(metrics),
        sources=orjson.loads(sources), created_at=from_db_datetime(created),
    )


async def store_model(cur: Any, result: FitResult) -> int:
    """Insert a fitted model (the caller commits); returns its id."""
    fitted = result.fitted
    await cur.execute(
        "INSERT INTO pricing_models (sport, kind, params, training_from, training_to,"
        " training_size, teams, metrics, sources) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (result.sport.value, fitted.kind, orjson.dumps(fitted.to_dict()).decode(),
         to_db_datetime(result.training_from), to_db_datetime(result.training_to),
         result.training_size, result.teams, orjson.dumps(result.metrics).decode(),
         orjson.dumps(result.sources).decode()),
    )
    return int(cur.lastrowid)


async def newest_ids(cur: Any) -> dict[Sport, int]:
    """The id of each sport's newest model (sports without one are absent)."""
    await cur.execute("SELECT sport, MAX(id) FROM pricing_models GROUP BY sport")
    return {Sport(sport): int(model_id) for sport, model_id in await cur.fetchall()}


async def load_model(cur: Any, model_id: int) -> StoredModel | None:
    """One stored model by id."""
    await cur.execute(f"SELECT {COLUMNS} FROM pricing_models WHERE id = %s", (model_id,))
    row = await cur.fetchone()
    return _stored(row) if row else None


async def newest_model(cur: Any, sport: Sport) -> StoredModel | None:
    """The newest stored model of ``sport``."""
    await cur.execute(
        f"SELECT {COLUMNS} FROM pricing_models WHERE sport = %s ORDER BY id DESC LIMIT 1",
        (sport.value,))
    row = await cur.fetchone()
    return _stored(row) if row else None


def lock_name(database: str, sport: Sport) -> str:
    """The named lock of a sport's fits (lock names are server-wide: the database is in it)."""
    return f"{database}.pricing_fit.{sport.value}"[:64]


async def try_lock(cur: Any, name: str) -> bool:
    """Take a named lock without waiting; False when another session holds it."""
    await cur.execute("SELECT GET_LOCK(%s, 0)", (name,))
    row = await cur.fetchone()
    return bool(row and row[0] == 1)


async def unlock(cur: Any, name: str) -> None:
    """Release a named lock."""
    await cur.execute("SELECT RELEASE_LOCK(%s)", (name,))
    await cur.fetchone()
