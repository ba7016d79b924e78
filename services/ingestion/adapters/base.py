"""What every adapter returns: the canonical messages it made and what it refused.

Adapters are pure functions ``parse_<format>(raw, *, provider, received_at, ...)``:
no I/O, no clock, no settings. A payload that cannot be read at all (malformed JSON
or XML, a forbidden DTD) raises :class:`AdapterError`; a readable batch with some bad
messages returns the good ones and a :class:`Refusal` per bad one, so a batch is
never all-or-nothing and every refused message has a reason naming its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from shared.model import FeedMessage


@dataclass(frozen=True)
class Refusal:
    """Why one message (or the whole payload) was refused."""

    reason: str
    field: str | None = None  # dotted path, e.g. "messages[2].body.markets[0].outcomes[1].price"
    line: int | None = None  # XML source line, when known
    index: int | None = None  # position in the batch, when the payload was a batch
    message_id: str | None = None
    event_id: str | None = None
    sport: str | None = None


class AdapterError(Exception):
    """The payload as a whole cannot be read; nothing in it is accepted."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


@dataclass
class ParseResult:
    """The canonical messages made (in payload order) and the refusals."""

    messages: list[FeedMessage] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


def field_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``prefix.a.b[3].c``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def refusal_from_validation(
    error: ValidationError, *, prefix: str = "", index: int | None = None,
    line: int | None = None, message_id: str | None = None, event_id: str | None = None,
    sport: str | None = None,
) -> Refusal:
    """Turn pydantic's first error into a refusal naming the field that was wrong."""
    first = error.errors(include_url=False)[0]
    # Tagged-union errors put the tag (e.g. 'odds') into the path: it is not a field.
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p in _BODY_TAGS))
    msg = first["msg"].removeprefix("Value error, ")
    path = field_path(prefix, loc)
    count = error.error_count()
    more = f" (and {count - 1} more error{'s' if count > 2 else ''})" if count > 1 else ""
    return Refusal(
        reason=f"{path or 'message'}: {msg}{more}", field=path or None, line=line, index=index,
        message_id=message_id, event_id=event_id, sport=sport,
    )


_BODY_TAGS = frozenset(
    {"fixture", "live", "odds", "bet_stop", "settlement", "cancel", "rollback", "alive"}
)
