"""Provider formats to canonical messages: pure functions, no I/O.

``parse_json`` (native JSON), ``parse_xml`` (native XML, validated by
``schemas/feed.xsd``) and ``parse_uof`` (Sportradar UOF XML) each return a
:class:`ParseResult` or raise :class:`AdapterError` when the payload cannot be read at all.
"""

from services.ingestion.adapters.base import AdapterError, ParseResult, Refusal
from services.ingestion.adapters.native_json import parse_json
from services.ingestion.adapters.native_xml import parse_xml
from services.ingestion.adapters.uof import UOF_SPORT_IDS, parse_uof, sport_from_uof_routing

__all__ = [
    "UOF_SPORT_IDS",
    "AdapterError",
    "ParseResult",
    "Refusal",
    "parse_json",
    "parse_uof",
    "parse_xml",
    "sport_from_uof_routing",
]
