"""Error vocabulary of the ingestion service: reason classes and JSON error responses.

Refusal reasons are free text (they name the field); metrics only ever see the small,
fixed :class:`ReasonClass` set, so label cardinality stays bounded.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import orjson
from aiohttp import web

from services.ingestion.adapters.base import Refusal


class ConfigError(ValueError):
    """The service's configuration is missing or invalid; it must not start."""


class ReasonClass(StrEnum):
    """Why something was refused, coarsely, for metrics."""

    MALFORMED = "malformed"  # the payload could not be read at all
    SCHEMA = "schema"  # a message does not fit the canonical model
    RULES = "rules"  # a message breaks its sport's rules
    AUTH = "auth"
    RATE_LIMIT = "rate_limit"
    TOO_LARGE = "too_large"
    MEDIA_TYPE = "media_type"
    KAFKA_UNAVAILABLE = "kafka_unavailable"
    SHUTTING_DOWN = "shutting_down"


def classify_reason(refusal: Refusal) -> ReasonClass:
    """Tell a sport-rule refusal from a schema refusal, for the metric label only.

    Adapters name the field at fault for both kinds, so the reason text decides: the
    phrases below are the ones ``shared.rules`` and the envelope's kind check use.
    Anything else (pydantic's type, range and pattern errors) is a schema refusal.
    """
    reason = refusal.reason
    if any(phrase in reason for phrase in _RULE_PHRASES):
        return ReasonClass.RULES
    return ReasonClass.SCHEMA


_RULE_PHRASES = (
    "does not exist in", "takes specifiers", "is not a multiple of", "must be positive",
    "is not an outcome of", "outcomes missing", "not 0, 0.5 or 1", "winning shares",
    "is not in ", "not in order without gaps", "does not match its periods",
    "are for tennis", "is for tennis", "played although", "played after the match",
    "cannot be tied", "cannot be level", "shoot-out comes last", "is not a possible set",
    "is unfinished but", "tie-break", "disagrees with its tie-break", "body but kind is",
)

JSON_TYPE = "application/json"


def dumps(value: Any) -> bytes:
    """Serialise a response body (orjson: the hot path builds one per request)."""
    return orjson.dumps(value)


def json_response(
    body: dict[str, Any], status: int, *, retry_after: int | None = None
) -> web.Response:
    """A JSON response, with ``Retry-After`` when the client should come back later."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return web.Response(body=dumps(body), status=status, content_type=JSON_TYPE, headers=headers)


def error_response(
    status: int, error: str, *, field: str | None = None, line: int | None = None,
    retry_after: int | None = None, **extra: Any,
) -> web.Response:
    """The error body every non-2xx answer has: ``{"error", "field", "line"}``."""
    body: dict[str, Any] = {"error": error, "field": field, "line": line, **extra}
    return json_response(body, status, retry_after=retry_after)
