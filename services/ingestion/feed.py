"""``POST /v1/feed/{json,xml,uof}``: authenticate, limit, parse, publish, answer.

The order of checks is chosen so that the cheap refusals come before the body is read:
shutting down (503), credentials (401/403), media type (415), declared length (413),
an empty rate-limit bucket (429); then the body is read (413 if it outgrows the limit
while streaming), parsed by the adapter (400 if unreadable; any adapter exception is a
400, never a 5xx), charged to the bucket per message (429), and the good messages are
published. See ``docs/ingestion.md`` for the status codes and bodies.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from services.ingestion.adapters.base import AdapterError, ParseResult, Refusal
from services.ingestion.auth import AuthFailure
from services.ingestion.context import AppContext
from services.ingestion.errors import (
    ReasonClass,
    classify_reason,
    error_response,
    json_response,
)
from services.ingestion.excerpt import message_text
from services.ingestion.metrics import UNKNOWN, IngestionMetrics
from services.ingestion.publisher import Ack, KafkaUnavailable
from shared.codec import RejectedRecord, encode_message, encode_rejected, message_key, payload_text
from shared.enums import Sport
from shared.model import utc_now

log = logging.getLogger(__name__)

_SPORTS = frozenset(s.value for s in Sport)
_JSON_TYPES = frozenset({"application/json", "text/json"})
_XML_TYPES = frozenset({"application/xml", "text/xml"})


def _media_type_ok(fmt: str, content_type: str) -> bool:
    if fmt == "json":
        return content_type in _JSON_TYPES or content_type.endswith("+json")
    return content_type in _XML_TYPES or content_type.endswith("+xml")


@dataclass
class _Request:
    """What one feed request carries through its steps."""

    ctx: AppContext
    fmt: str
    provider: str
    body: bytes = b""
    received_at: datetime | None = None
    sport: Sport | None = None  # UOF only: from the routing key


def _retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def _uof_sport(ctx: AppContext, request: web.Request) -> Sport | Refusal:
    """The sport of a UOF payload, from its routing key or sport id (header or query)."""
    sources = (
        ("X-UOF-Routing-Key", request.headers.get("X-UOF-Routing-Key")),
        ("X-UOF-Sport", request.headers.get("X-UOF-Sport")),
        ("routing_key", request.query.get("routing_key")),
        ("sport_id", request.query.get("sport_id")),
    )
    for name, value in sources:
        if value:
            if value in _SPORTS:
                return Sport(value)
            try:
                return ctx.adapters.sport_from_uof_routing(value)
            except Exception as exc:  # any failure is the client's bad value
                return Refusal(reason=f"{name}: {exc}", field=name)
    return Refusal(
        reason="UOF needs its sport: send X-UOF-Routing-Key or X-UOF-Sport "
        "(or ?routing_key= / ?sport_id=)", field="X-UOF-Routing-Key",
    )


async def handle_feed(request: web.Request, fmt: str) -> web.Response:
    """Handle one provider POST of format ``fmt`` (json, xml or uof)."""
    ctx: AppContext = request.app[AppContext.KEY]
    metrics = ctx.metrics
    provider = ctx.keys.authenticate(request.headers.get("Authorization"), fmt)
    if isinstance(provider, AuthFailure):
        metrics.refuse_unread(UNKNOWN, fmt, ReasonClass.AUTH)
        response = error_response(provider.status, provider.value)
        if provider.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="sportsfeed"'
        return response
    if not _media_type_ok(fmt, request.content_type):
        metrics.refuse_unread(provider, fmt, ReasonClass.MEDIA_TYPE)
        wanted = "application/json" if fmt == "json" else "application/xml"
        return error_response(415, f"Content-Type must be {wanted}", field="Content-Type")
    limit = ctx.settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        metrics.refuse_unread(provider, fmt, ReasonClass.TOO_LARGE)
        return error_response(413, f"body exceeds {limit} bytes", field="Content-Length")
    wait = ctx.limiter.peek(provider)
    if wait > 0:
        metrics.refuse_unread(provider, fmt, ReasonClass.RATE_LIMIT)
        return error_response(429, "rate limit exceeded", retry_after=_retry_after(wait))
    state = _Request(ctx, fmt, provider)
    try:
        state.body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        metrics.refuse_unread(provider, fmt, ReasonClass.TOO_LARGE)
        return error_response(413, f"body exceeds {limit} bytes")
    state.received_at = utc_now()
    if fmt == "uof":
        sport = _uof_sport(ctx, request)
        if isinstance(sport, Refusal):
            ctx.limiter.take(provider, 1)
            metrics.refuse_unread(provider, fmt, ReasonClass.MALFORMED)
            await _reject(state, sport)
            return error_response(400, sport.reason, field=sport.field)
        state.sport = sport
    return await _parse_and_publish(state)


def _parse(state: _Request) -> ParseResult:
    adapters, provider = state.ctx.adapters, state.provider
    received_at = state.received_at or utc_now()
    if state.fmt == "json":
        return adapters.parse_json(state.body, provider=provider, received_at=received_at)
    if state.fmt == "xml":
        return adapters.parse_xml(state.body, provider=provider, received_at=received_at)
    assert state.sport is not None  # handle_feed resolved it before parsing
    return adapters.parse_uof(
        state.body, provider=provider, received_at=received_at, sport=state.sport
    )


async def _parse_and_publish(state: _Request) -> web.Response:
    ctx, metrics = state.ctx, state.ctx.metrics
    sport_label = state.sport.value if state.sport else UNKNOWN
    try:
        result = _parse(state)
    except Exception as exc:  # any adapter failure is the payload's fault
        refusal = exc.refusal if isinstance(exc, AdapterError) else Refusal(
            reason=f"payload could not be read ({type(exc).__name__})"
        )
        if not isinstance(exc, AdapterError):
            log.warning("adapter %s raised on a payload", state.fmt, exc_info=exc)
        wait = ctx.limiter.take(state.provider, 1)
        if wait > 0:
            metrics.refuse_unread(state.provider, state.fmt, ReasonClass.RATE_LIMIT)
            return error_response(429, "rate limit exceeded", retry_after=_retry_after(wait))
        metrics.count_received(state.provider, sport_label, state.fmt)
        metrics.count_refused(state.provider, sport_label, state.fmt, ReasonClass.MALFORMED)
        await _reject(state, refusal)
        return error_response(400, refusal.reason, field=refusal.field, line=refusal.line)

    messages, refusals = result.messages, result.refusals
    total = len(messages) + len(refusals)
    if total == 0:
        metrics.refuse_unread(state.provider, state.fmt, ReasonClass.SCHEMA)
        refusal = Refusal(reason="payload holds no messages")
        await _reject(state, refusal)
        return error_response(400, refusal.reason)
    wait = ctx.limiter.take(state.provider, total)
    if wait > 0:
        metrics.count_received(state.provider, sport_label, state.fmt, total)
        metrics.count_refused(state.provider, sport_label, state.fmt, ReasonClass.RATE_LIMIT,
                              total)
        return error_response(429, "rate limit exceeded", retry_after=_retry_after(wait))

    refused = [await _refuse(state, r) for r in refusals]
    if not messages:
        return json_response(
            {"error": "no message accepted", "accepted": [], "refused": refused}, 422
        )
    return await _publish(state, result, refused)


async def _publish(
    state: _Request, result: ParseResult, refused: list[dict[str, Any]]
) -> web.Response:
    ctx, metrics, fmt, provider = state.ctx, state.ctx.metrics, state.fmt, state.provider
    feed = ctx.feed_topics
    messages = result.messages
    records = [(feed[m.sport], message_key(m), encode_message(m)) for m in messages]
    try:
        acks, error = await ctx.publisher.publish(records)
    except KafkaUnavailable as exc:
        acks, error = [None] * len(records), f"Kafka unavailable: {exc}"
    if None not in acks:  # the usual case: everything acknowledged
        # The enums are str subclasses: orjson writes them and the labels take them as is.
        accepted = [
            {"message_id": m.message_id, "event_id": m.event_id, "kind": m.kind,
             "topic": topic, "partition": ack[0], "offset": ack[1]}
            for m, (topic, _, _), ack in zip(messages, records, acks, strict=True)
            if ack is not None  # (always: narrows the type)
        ]
        _count(metrics, provider, fmt, [m.sport for m in messages], None)
        return json_response({"accepted": accepted, "refused": refused}, 202)
    accepted, failed = [], []
    for msg, (topic, _, _), ack in zip(messages, records, acks, strict=True):
        item: dict[str, Any] = {
            "message_id": msg.message_id, "event_id": msg.event_id, "kind": msg.kind,
        }
        if ack is None:
            item["reason"] = "not acknowledged by Kafka; safe to retry"
            item["retryable"] = True
            failed.append(item)
        else:
            item["topic"], item["partition"], item["offset"] = topic, ack[0], ack[1]
            accepted.append(item)
    _count(metrics, provider, fmt, [m.sport for m in messages], acks)
    body: dict[str, Any] = {"accepted": accepted, "refused": refused}
    if failed:
        body["error"] = error or "Kafka did not acknowledge every message"
        body["failed"] = failed
        return json_response(body, 503, retry_after=ctx.settings.retry_after_s)
    return json_response(body, 202)


def _count(
    metrics: IngestionMetrics, provider: str, fmt: str, sports: list[Sport],
    acks: list[Ack | None] | None,
) -> None:
    """Count a request's messages received, and accepted or refused (``acks`` None: all
    accepted), with one increment per label set."""
    if acks is None and sports.count(sports[0]) == len(sports):  # one sport, all taken
        metrics.count_received(provider, sports[0], fmt, len(sports))
        metrics.count_accepted(provider, sports[0], fmt, len(sports))
        return
    counts: dict[tuple[str, bool], int] = {}
    for sport, ack in zip(sports, acks or [None] * len(sports), strict=True):
        tally = (sport, acks is None or ack is not None)
        counts[tally] = counts.get(tally, 0) + 1
    for (label, ok), n in counts.items():
        metrics.count_received(provider, label, fmt, n)
        if ok:
            metrics.count_accepted(provider, label, fmt, n)
        else:
            metrics.count_refused(provider, label, fmt, ReasonClass.KAFKA_UNAVAILABLE, n)


async def _refuse(state: _Request, refusal: Refusal) -> dict[str, Any]:
    """Count one refused message, publish its rejected record, and describe it."""
    sport = refusal.sport if refusal.sport in _SPORTS else (
        state.sport.value if state.sport else UNKNOWN)
    reason_class = classify_reason(refusal)
    state.ctx.metrics.count_received(state.provider, sport, state.fmt)
    state.ctx.metrics.count_refused(state.provider, sport, state.fmt, reason_class)
    await _reject(state, refusal)
    return {
        "index": refusal.index, "message_id": refusal.message_id, "reason": refusal.reason,
        "field": refusal.field, "line": refusal.line,
    }


async def _reject(state: _Request, refusal: Refusal) -> None:
    """Put a rejected record on the rejected topic (best effort, failures counted)."""
    try:
        text, truncated = payload_text(message_text(state.fmt, state.body, refusal.index))
        sport = refusal.sport or (state.sport.value if state.sport else None)
        record = RejectedRecord(
            stage="ingestion", reason=refusal.reason[:2000], field=refusal.field,
            line=refusal.line, provider=state.provider, sport=sport, format=state.fmt,
            message_id=refusal.message_id, event_id=refusal.event_id,
            received_at=state.received_at or utc_now(), payload=text, truncated=truncated,
        )
        value = encode_rejected(record)
    except Exception:  # a record we cannot build must not turn a 4xx into a 500
        log.exception("could not build a rejected record for %r", refusal.reason[:200])
        state.ctx.metrics.rejected_publish_failures.inc()
        return
    await state.ctx.publisher.publish_rejected(
        state.ctx.rejected_topic, state.provider.encode(), value
    )
