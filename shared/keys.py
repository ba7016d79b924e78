"""Bearer keys, as ingestion (providers) and distribution (consumers) both check them.

What the two services share: what a key may be made of, the ``Authorization: Bearer``
header, the lines of a keys file, and the comparison. Each service keeps its own
vocabulary (a provider's formats, a consumer's scopes and limits) and its own errors.

A presented key is compared with *every* configured key, each through
``hmac.compare_digest`` on SHA-256 digests (equal lengths, so not even the key's length
leaks), and the loop never exits early: the time taken says nothing about which entry,
if any, the key belongs to. Keys themselves are never kept: only their digests.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from typing import TypeVar

T = TypeVar("T")

MIN_KEY_LENGTH = 16
# RFC 6750 b64token: what a bearer token may be made of (\Z: not even a trailing newline).
TOKEN_RE = re.compile(r"^[A-Za-z0-9\-._~+/]+=*\Z")
KEY_CHARACTERS = "A-Z a-z 0-9 - . _ ~ + /"


class BearerProblem(Enum):
    """Why an ``Authorization`` header carries no usable bearer token."""

    MISSING = "missing bearer token"
    MALFORMED = "malformed bearer token"


def digest(key: str) -> bytes:
    """The SHA-256 digest a key is kept and compared as."""
    return hashlib.sha256(key.encode()).digest()


def is_valid_key(key: str) -> bool:
    """True when ``key`` is long enough and made of bearer-token characters."""
    return len(key) >= MIN_KEY_LENGTH and TOKEN_RE.match(key) is not None


def bearer_token(header: str | None) -> str | BearerProblem:
    """The token of an ``Authorization: Bearer <token>`` header, or what is wrong with it."""
    if not header:
        return BearerProblem.MISSING
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not TOKEN_RE.match(token):
        return BearerProblem.MALFORMED
    return token


def find_key(token: str, entries: Sequence[T], digest_of: Callable[[T], bytes]) -> T | None:
    """The entry whose digest is ``token``'s, compared in constant time against all of them."""
    presented = digest(token)
    found: T | None = None
    for entry in entries:
        # No early exit: every entry is compared whatever matched before.
        if hmac.compare_digest(presented, digest_of(entry)):
            found = entry
    return found


def key_file_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    """The non-empty lines of a keys file as (line number, whitespace-separated fields);
    ``#`` starts a comment."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            yield number, line.split()
