"""What goes on the wire: JSON payloads, market filters and pre-built WebSocket frames.

A delta is encoded once per *shape* (the market filter a client applies) and the same
bytes go to every client of that shape: the JSON is never encoded per client. The
frame header is added here too (a server's frames are unmasked, so a frame is just a
header and the payload), which lets one ``writelines`` carry many messages to a socket.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

# A market filter: exact market keys (``totals|total=2.5``) and/or market types
# (``totals``: every line). None: every market.
Shape = frozenset[str] | None

_TEXT_FIN = 0x81


def frame_of(payload: bytes) -> bytes:
    """One unfragmented, unmasked text frame carrying ``payload`` (RFC 6455 section 5.2)."""
    size = len(payload)
    if size < 126:
        header = bytes((_TEXT_FIN, size))
    elif size < 65536:
        header = struct.pack("!BBH", _TEXT_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT_FIN, 127, size)
    return header + payload


def market_matches(shape: Shape, market_key: str) -> bool:
    """True when the filter lets the market through (by exact key or by market type)."""
    if shape is None:
        return True
    return market_key in shape or market_key.split("|", 1)[0] in shape


def filter_delta(data: Mapping[str, Any], shape: Shape) -> dict[str, Any]:
    """A JSON-mode delta with only the markets (and their settlements) the filter allows.

    The delta itself always goes out, even with no market left: its version must reach
    the client, or the client would see a gap.
    """
    out = dict(data)
    if shape is None:
        return out
    out["markets"] = [m for m in data.get("markets", ()) if market_matches(shape, m["market_key"])]
    out["settlements"] = [
        s for s in data.get("settlements", ()) if market_matches(shape, s["market_key"])
    ]
    out["rolled_back"] = [k for k in data.get("rolled_back", ()) if market_matches(shape, k)]
    if "cancellations" in data:
        out["cancellations"] = [
            c for c in data["cancellations"] if market_matches(shape, c["market_key"])]
    if "refused" in data:
        out["refused"] = [r for r in data["refused"] if market_matches(shape, r["market_key"])]
    return out


def filter_snapshot(data: Mapping[str, Any], shape: Shape) -> dict[str, Any]:
    """A JSON-mode snapshot with only the markets the filter allows."""
    out = dict(data)
    if shape is not None:
        markets = data.get("markets") or {}
        out["markets"] = {k: m for k, m in markets.items() if market_matches(shape, k)}
    return out


def delta_payload(
    data: Mapping[str, Any], shape: Shape, *, from_version: int | None = None
) -> bytes:
    """The ``delta`` message; a merged one says ``conflated`` and where it starts."""
    body: dict[str, Any] = {"type": "delta", **filter_delta(data, shape)}
    if from_version is not None:
        body["conflated"] = True
        body["from_version"] = from_version
    return orjson.dumps(body)


def snapshot_payload(data: Mapping[str, Any], shape: Shape) -> bytes:
    """The ``snapshot`` message of one event."""
    return orjson.dumps({"type": "snapshot", **filter_snapshot(data, shape)})


def model_payload(data: Mapping[str, Any], shape: Shape) -> bytes:
    """The ``model`` message of one event's prices (``shared.fair.ModelPrices`` in JSON form),
    with only the markets the filter allows."""
    body: dict[str, Any] = {"type": "model", **data}
    if shape is not None:
        body["markets"] = [m for m in data.get("markets", ()) if market_matches(shape, m["market_key"])]
    return orjson.dumps(body)


def utc_iso(now: datetime | None = None) -> str:
    """ISO-8601 UTC with a ``Z``, as every time on the wire."""
    value = (now or datetime.now(UTC)).astimezone(UTC)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def control_payload(kind: str, **fields: Any) -> bytes:
    """A small server message (``welcome``, ``subscribed``, ``heartbeat``, ``error``...)."""
    return orjson.dumps({"type": kind, **fields})


def shape_of(markets: Iterable[str] | None) -> Shape:
    """The filter for a list of market keys or types (None or empty list: see callers)."""
    return None if markets is None else frozenset(markets)
