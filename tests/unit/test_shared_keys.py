"""Bearer keys as ingestion and distribution both check them (``shared/keys.py``), with hypothesis."""

from __future__ import annotations

import hmac
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.keys import (
    MIN_KEY_LENGTH,
    BearerProblem,
    bearer_token,
    digest,
    find_key,
    is_valid_key,
    key_file_lines,
)

TOKEN_CHARS = string.ascii_letters + string.digits + "-._~+/"
tokens = st.text(TOKEN_CHARS, min_size=1, max_size=80)
keys = st.text(TOKEN_CHARS, min_size=MIN_KEY_LENGTH, max_size=80)


@given(token=tokens, scheme=st.sampled_from(["Bearer", "bearer", "BEARER"]),
       pad=st.sampled_from(["", " ", "  "]))
def test_a_bearer_header_gives_back_its_token(token: str, scheme: str, pad: str) -> None:
    assert bearer_token(f"{scheme} {pad}{token}{pad}") == token


@given(text=st.text(max_size=40))
def test_anything_but_a_bearer_token_is_missing_or_malformed(text: str) -> None:
    found = bearer_token(text)
    if isinstance(found, str):
        # Only a real bearer header gets this far, and its token is made of token characters.
        assert text.lower().startswith("bearer ")
        assert set(found.rstrip("=")) <= set(TOKEN_CHARS)
    else:
        assert found is (BearerProblem.MISSING if not text else BearerProblem.MALFORMED)


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer a b", "Bearer é", "Token x"])
def test_other_schemes_and_broken_tokens_are_malformed(header: str) -> None:
    assert bearer_token(header) is BearerProblem.MALFORMED
    assert bearer_token(None) is BearerProblem.MISSING


@given(configured=st.lists(keys, min_size=1, max_size=8, unique=True), data=st.data())
def test_find_key_finds_exactly_the_configured_key(configured: list[str], data: st.DataObject) -> None:
    entries = [(n, digest(k)) for n, k in enumerate(configured)]
    chosen = data.draw(st.integers(0, len(configured) - 1))
    assert find_key(configured[chosen], entries, lambda e: e[1]) == entries[chosen]
    other = data.draw(keys.filter(lambda k: k not in configured))
    assert find_key(other, entries, lambda e: e[1]) is None
    # A prefix, a longer key, another case: never a match.
    near = configured[chosen]
    for wrong in (near[:-1], near + "x", near.swapcase()):
        if wrong not in configured:
            assert find_key(wrong, entries, lambda e: e[1]) is None


@given(configured=st.lists(keys, min_size=1, max_size=6, unique=True), token=tokens)
def test_every_key_is_compared_whatever_matched(configured: list[str], token: str) -> None:
    calls: list[int] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append(len(a) + len(b))
        return real(a, b)

    entries = [digest(k) for k in configured]
    hmac.compare_digest = counting  # type: ignore[assignment]
    try:
        find_key(token, entries, lambda e: e)
    finally:
        hmac.compare_digest = real
    assert calls == [64] * len(configured)  # equal-length digests, every one of them


@given(key=st.text(TOKEN_CHARS + "=\n :,é", max_size=40))
def test_a_valid_key_is_long_enough_and_of_token_characters(key: str) -> None:
    body = key.rstrip("=")  # b64token: token characters, then any '=' padding
    assert is_valid_key(key) == (len(key) >= MIN_KEY_LENGTH and bool(body)
                                 and set(body) <= set(TOKEN_CHARS))


@given(rows=st.lists(st.lists(st.text(TOKEN_CHARS, min_size=1, max_size=12), min_size=1, max_size=4),
                     max_size=6),
       comment=st.text(string.printable.replace("\n", "").replace("\r", "").replace("\x0b", "")
                       .replace("\x0c", ""), max_size=20))
def test_key_file_lines_skip_blanks_and_comments(rows: list[list[str]], comment: str) -> None:
    text = "\n".join(["# a comment", ""] + [" ".join(r) + f"  # {comment}" for r in rows])
    found = list(key_file_lines(text))
    assert [fields for _, fields in found] == rows
    assert [n for n, _ in found] == list(range(3, 3 + len(rows)))
