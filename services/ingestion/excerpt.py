"""The text of one message inside a batch payload, for its rejected record.

A refused message of a 1,000-message batch should not carry the whole batch (up to
1 MiB) onto the rejected topic once per refusal: its record carries the message's
own text. For JSON that is the exact original bytes of the array element (found with
``JSONDecoder.raw_decode``, which reports where each value ends); for native XML it is
the ``<message>`` element re-serialised by lxml. Only refusals pay for this.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from lxml import etree

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _array_spans(text: str, pos: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each element of the JSON array starting at ``pos``."""
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return
    while True:
        _, end = _DECODER.raw_decode(text, pos)
        yield pos, end
        pos = _skip(text, end)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
        else:
            return


def _messages_array(text: str) -> int | None:
    """Where the batch's array starts: the top level, or ``{"messages": [...]}``."""
    pos = _skip(text, 0)
    if text.startswith("[", pos):
        return pos
    if not text.startswith("{", pos):
        return None
    pos = _skip(text, pos + 1)
    while text.startswith('"', pos):
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if not text.startswith(":", pos):
            return None
        pos = _skip(text, pos + 1)
        if key == "messages":
            return pos if text.startswith("[", pos) else None
        _, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
    return None


def json_message(raw: bytes, index: int) -> bytes | None:
    """The original text of element ``index`` of a JSON batch, or None."""
    try:
        text = raw.decode("utf-8-sig")
        start = _messages_array(text)
        if start is None:
            return None
        for i, (begin, end) in enumerate(_array_spans(text, start)):
            if i == index:
                return text[begin:end].encode()
    except (ValueError, RecursionError):
        return None
    return None


def xml_message(raw: bytes, index: int) -> bytes | None:
    """The ``index``-th ``<message>`` of a native XML ``<feed>``, or None."""
    from services.ingestion.adapters.xmlsafe import parse_untrusted_xml

    try:
        root = parse_untrusted_xml(raw)
    except Exception:  # the adapter read it once; any failure now just means "whole payload"
        return None
    messages = [child for child in root if isinstance(child.tag, str)]
    if index >= len(messages):
        return None
    return bytes(etree.tostring(messages[index], with_tail=False))


def message_text(fmt: str, raw: bytes, index: int | None) -> bytes:
    """The refused message's own text where it can be cut out, else the whole payload."""
    if index is None:
        return raw
    excerpt = json_message(raw, index) if fmt == "json" else (
        xml_message(raw, index) if fmt == "xml" else None)
    return raw if excerpt is None else excerpt
