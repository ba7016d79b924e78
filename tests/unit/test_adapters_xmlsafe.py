"""Hardened XML parsing: entity bombs, XXE, DTDs, PIs and size limits are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.ingestion.adapters import AdapterError, parse_uof, parse_xml
from services.ingestion.adapters.xmlsafe import parse_untrusted_xml
from shared.enums import Sport

NOW = datetime(2026, 1, 1, tzinfo=UTC)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<message sport="football" event_id="e1" ts="2026-01-01T00:00:00Z"><bet_stop reason="&lol9;"/></message>
"""

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE message [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<message sport="football" event_id="e1" ts="2026-01-01T00:00:00Z"><bet_stop reason="&xxe;"/></message>
"""

XXE_UOF = b"""<?xml version="1.0"?>
<!DOCTYPE bet_stop [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bet_stop event_id="sr:match:1" timestamp="1" product="1" groups="&xxe;"/>
"""


def refusal_of(raw: bytes) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse_xml(raw, provider="demo", received_at=NOW)
    return caught.value


@pytest.mark.timeout(5)
def test_billion_laughs_is_refused_quickly_without_expansion() -> None:
    error = refusal_of(BILLION_LAUGHS)
    assert error.refusal.reason.startswith("DOCTYPE is not allowed")
    assert error.refusal.line == 2
    assert "lollol" not in str(error)


def test_xxe_is_refused_and_never_reads_the_file() -> None:
    with pytest.raises(AdapterError) as native:
        parse_xml(XXE, provider="demo", received_at=NOW)
    with pytest.raises(AdapterError) as uof:
        parse_uof(XXE_UOF, provider="uof", received_at=NOW, sport=Sport.FOOTBALL)
    for caught in (native, uof):
        assert "DOCTYPE is not allowed" in caught.value.refusal.reason
        assert "root:" not in repr(caught.value.refusal)  # /etc/passwd starts with root:


@pytest.mark.parametrize("prolog", [
    b"", b"\xef\xbb\xbf", b'<?xml version="1.0"?>\n\n', b"<!-- hidden -->\n  ",
    b'<?xml version="1.0"?><!-- a --><!-- b -->',
])
def test_doctype_is_found_after_any_legal_prolog(prolog: bytes) -> None:
    raw = prolog + b'<!doctype message SYSTEM "http://example.invalid/x.dtd"><message/>'
    assert "DOCTYPE is not allowed" in refusal_of(raw).refusal.reason


def test_external_dtd_is_refused() -> None:
    raw = b'<!DOCTYPE message SYSTEM "file:///etc/passwd"><message/>'
    assert "DOCTYPE is not allowed" in refusal_of(raw).refusal.reason


def test_undeclared_entity_reference_is_malformed() -> None:
    error = refusal_of(b"<message>\n&xxe;</message>")
    assert error.refusal.line == 2
    assert "Entity 'xxe' not defined" in error.refusal.reason


@pytest.mark.parametrize("raw", [b"<a><?php evil()?></a>", b'<?xml-stylesheet href="x"?><a/>'])
def test_processing_instructions_are_refused(raw: bytes) -> None:
    assert "processing instruction" in refusal_of(raw).refusal.reason


def test_xml_declaration_and_comments_are_fine() -> None:
    root = parse_untrusted_xml(b'<?xml version="1.0" encoding="UTF-8"?><!-- c --><a><!-- d --></a>')
    assert root.tag == "a"
    assert len(root) == 0


def test_depth_limit() -> None:
    deep = b"<a>" * 33 + b"</a>" * 33
    assert "deeper than 32" in refusal_of(deep).refusal.reason
    assert parse_untrusted_xml(b"<a>" * 32 + b"</a>" * 32).tag == "a"


def test_element_count_limit() -> None:
    many = b"<a>" + b"<b/>" * 20 + b"</a>"
    with pytest.raises(AdapterError, match="more than 10 elements"):
        parse_untrusted_xml(many, max_elements=10)


def test_size_limit() -> None:
    with pytest.raises(AdapterError, match="100 bytes, over the limit of 99"):
        parse_untrusted_xml(b"<a>" + b" " * 93 + b"</a>", max_bytes=99)


def test_utf16_is_refused() -> None:
    raw = '<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16")
    assert "must be UTF-8" in refusal_of(raw).refusal.reason


def test_empty_payload_is_refused() -> None:
    assert "empty" in refusal_of(b"  \n").refusal.reason
