"""Wire formats: native JSON, native XML and UOF XML, and how each is posted.

Every planned message is encoded once (:func:`encode`); a request is a batch of
encodings of one format (:func:`batch`). UOF has no batches: one document per POST,
with the sport in the query string as ``sport_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from feedgen.emit.native import json_batch, json_message, xml_batch, xml_message
from feedgen.emit.uof import SPORT_IDS, uof_document, uof_view
from shared.enums import Sport
from shared.model import FeedMessage


class Fmt(StrEnum):
    """A wire format the generator speaks."""

    JSON = "json"
    XML = "xml"
    UOF = "uof"


PATHS = {Fmt.JSON: "/v1/feed/json", Fmt.XML: "/v1/feed/xml", Fmt.UOF: "/v1/feed/uof"}
CONTENT_TYPES = {Fmt.JSON: "application/json", Fmt.XML: "application/xml",
                 Fmt.UOF: "application/xml"}


def encode(fmt: Fmt, message: FeedMessage) -> bytes:
    """One message in ``fmt``: a batch item (JSON, XML) or a whole document (UOF)."""
    if fmt is Fmt.JSON:
        return json_message(message)
    if fmt is Fmt.XML:
        return xml_message(message)
    return uof_document(message)


def batch(fmt: Fmt, parts: Sequence[bytes]) -> bytes:
    """The request body for encodings of one format (UOF: exactly one)."""
    if fmt is Fmt.JSON:
        return json_batch(parts)
    if fmt is Fmt.XML:
        return xml_batch(parts)
    if len(parts) != 1:
        raise ValueError("UOF carries one message per request")
    return parts[0]


def target(fmt: Fmt, sport: Sport) -> str:
    """The path (and query) a payload of ``fmt`` about ``sport`` is posted to."""
    if fmt is Fmt.UOF:
        return f"{PATHS[fmt]}?sport_id={SPORT_IDS[sport]}"
    return PATHS[fmt]


__all__ = ["CONTENT_TYPES", "PATHS", "Fmt", "batch", "encode", "target", "uof_view"]
