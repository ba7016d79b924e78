"""Hardened XML parsing for untrusted provider payloads, and source locations for refusals.

Every XML adapter parses through :func:`parse_untrusted_xml`. A feed never needs a DTD,
an entity of its own or a processing instruction, so all three are refused outright:
that closes XXE (external entities reading local files or the network) and entity
expansion bombs ("billion laughs") without relying on parser settings alone. A DOCTYPE
is found by scanning the prolog bytes *before* lxml sees the document, so a bomb is
refused in microseconds and never expanded; the parser is still configured to resolve
nothing and to load nothing, as a second line of defence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from lxml import etree

from services.ingestion.adapters.base import AdapterError, Refusal

MAX_DEPTH = 32
MAX_ELEMENTS = 100_000

_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")

def _refuse(reason: str, line: int | None = None) -> AdapterError:
    return AdapterError(Refusal(reason=reason, line=line))


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _check_prolog(raw: bytes) -> None:
    """Refuse a DOCTYPE (or an encoding we cannot scan) before the parser runs.

    A document type declaration may only stand in the prolog: after an optional BOM and
    XML declaration, between comments, PIs and white space, before the root element.
    The scan is linear and stops at the root's first ``<``.
    """
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:4]:
        # UTF-16/32 would hide a DOCTYPE from a byte scan; feeds are UTF-8.
        raise _refuse("XML must be UTF-8 (or another ASCII-compatible encoding), not UTF-16/32")
    pos = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    end = len(raw)
    while pos < end:
        if raw[pos] in b" \t\r\n":
            pos += 1
            continue
        if raw.startswith(b"<?", pos):
            close = raw.find(b"?>", pos + 2)
            if close < 0:
                return  # unterminated: the parser reports it with its line
            pos = close + 2
        elif raw.startswith(b"<!--", pos):
            close = raw.find(b"-->", pos + 4)
            if close < 0:
                return
            pos = close + 3
        elif raw[pos : pos + 9].upper() == b"<!DOCTYPE":
            raise _refuse(
                "DOCTYPE is not allowed: DTDs and entity declarations are refused "
                f"(line {_line_of(raw, pos)})",
                _line_of(raw, pos),
            )
        else:
            return  # the root element (or garbage the parser will report)


def _parser() -> etree.XMLParser:
    # A fresh parser per document: lxml parsers keep state and are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, dtd_validation=False, load_dtd=False,
        huge_tree=False, remove_comments=True, remove_pis=False, collect_ids=False,
    )


def _check_tree(root: etree._Element, max_depth: int, max_elements: int) -> None:
    """Refuse what the prolog scan cannot see: DTD remnants, entities, PIs; bound the size."""
    docinfo = root.getroottree().docinfo
    doctype = getattr(docinfo, "doctype", "")  # not in lxml-stubs
    if doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _refuse("DOCTYPE is not allowed: DTDs and entity declarations are refused")
    for sibling in (*root.itersiblings(preceding=True), *root.itersiblings()):
        if isinstance(sibling, etree._ProcessingInstruction):
            raise _refuse(f"processing instruction <?{sibling.target}?> is not allowed",
                          source_line(sibling))
    for node in root.iter(etree.Entity, etree.ProcessingInstruction):
        if isinstance(node, etree._Entity):
            raise _refuse(f"entity reference &{node.name}; is not allowed", source_line(node))
        raise _refuse(f"processing instruction <?{node.target}?> is not allowed",
                      source_line(node))
    count = 0
    depth = 0
    for event, node in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        count += 1
        if depth > max_depth:
            raise _refuse(f"XML nests deeper than {max_depth} elements", source_line(node))
        if count > max_elements:
            raise _refuse(f"XML has more than {max_elements} elements", source_line(node))


def parse_untrusted_xml(
    raw: bytes, *, max_bytes: int | None = None, max_depth: int = MAX_DEPTH,
    max_elements: int = MAX_ELEMENTS,
) -> etree._Element:
    """Parse a provider's XML safely and return its root element.

    Raises :class:`AdapterError` with a clear reason (and the line, when known) for a
    payload over ``max_bytes``, malformed XML, a DOCTYPE (hence any entity declaration),
    an entity reference, a processing instruction other than the XML declaration, nesting
    deeper than ``max_depth`` or more than ``max_elements`` elements.
    """
    if max_bytes is not None and len(raw) > max_bytes:
        raise _refuse(f"XML payload is {len(raw)} bytes, over the limit of {max_bytes}")
    if not raw.strip():
        raise _refuse("XML payload is empty")
    _check_prolog(raw)
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        # libxml2 repeats the position at the end of its message; say it once.
        message = _POSITION_SUFFIX.sub("", exc.msg or str(exc))
        if line <= 0:
            raise _refuse(f"malformed XML: {message}") from None
        raise _refuse(f"malformed XML at line {line}, column {column}: {message}", line) from None
    _check_tree(root, max_depth, max_elements)
    return root


def source_line(node: etree._Element) -> int | None:
    """The node's line in the source (lxml-stubs leave ``sourceline`` untyped)."""
    line = node.sourceline
    return line if isinstance(line, int) else None


def local_name(element: etree._Element) -> str:
    """The element's tag without its namespace."""
    return etree.QName(element).localname


class XmlPlaces:
    """Where each part of a canonical message came from in the XML document.

    Adapters record, for every canonical path they build (``body.markets[0]``), the
    element it came from and how canonical field names map to its attributes. A
    refusal that names a canonical field can then point at the XML line and attribute.
    """

    def __init__(self, element: etree._Element) -> None:
        self._tree = element.getroottree()
        self._places: dict[str, tuple[str, int | None, Mapping[str, str]]] = {}

    def xpath(self, element: etree._Element) -> str:
        """The element's path in its document, like ``/feed/message[2]/odds/market[1]``."""
        return str(self._tree.getpath(element))

    def add(self, path: str, element: etree._Element,
            renames: Mapping[str, str] | None = None, attr: str | None = None) -> None:
        """Record that canonical ``path`` came from ``element`` (or one of its attributes)."""
        where = self.xpath(element) + (f"/@{attr}" if attr else "")
        self._places[path] = (where, source_line(element), renames or {})

    def locate(self, field: str) -> tuple[str, int | None] | None:
        """The XML path and line a canonical field came from (longest recorded prefix)."""
        probe = field
        while True:
            place = self._places.get(probe)
            if place is not None:
                where, line, renames = place
                rest = field[len(probe):].lstrip(".")
                if rest and re.fullmatch(r"[A-Za-z_]+", rest) and "/@" not in where:
                    where += f"/@{renames.get(rest, rest)}"
                return where, line
            if not probe:
                return None
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[: max(cut, 0)]

    def attach(self, refusal: Refusal, prefix: str = "") -> Refusal:
        """Add the XML line and path to a refusal whose field is a canonical path."""
        field = refusal.field or prefix
        relative = field[len(prefix):].lstrip(".") if field.startswith(prefix) else field
        found = self.locate(relative)
        if found is None:
            return refusal
        where, line = found
        return replace(refusal, line=line, reason=f"{refusal.reason} (line {line}, {where})")
