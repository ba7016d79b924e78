"""A refused message's rejected record carries that message's own text, not the batch."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.ingestion.excerpt import json_message, message_text, xml_message

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=4),
    max_leaves=15,
)


@given(items=st.lists(values, min_size=1, max_size=8), data=st.data(),
       wrapped=st.booleans(), indent=st.sampled_from([None, 2]))
def test_a_json_element_is_cut_out_exactly(
    items: list[Any], data: st.DataObject, wrapped: bool, indent: int | None
) -> None:
    index = data.draw(st.integers(0, len(items) - 1))
    doc: Any = {"messages": items} if wrapped else items
    raw = json.dumps(doc, indent=indent).encode()
    excerpt = json_message(raw, index)
    assert excerpt is not None
    assert json.loads(excerpt) == items[index]
    assert excerpt in raw  # the original bytes, not a re-serialisation


def test_original_number_spelling_is_kept() -> None:
    raw = b'{"messages": [{"price": 2.10}, {"price": 1.500}]}'
    assert json_message(raw, 1) == b'{"price": 1.500}'


def test_other_keys_before_messages_are_skipped() -> None:
    raw = b'{"meta": {"a": [1, 2]}, "messages": [1, {"x": "]"}]}'
    assert json_message(raw, 1) == b'{"x": "]"}'


def test_unreadable_or_out_of_range_gives_the_whole_payload() -> None:
    assert json_message(b"[1, 2", 5) is None
    assert json_message(b'{"messages": 3}', 0) is None
    assert message_text("json", b"[1, 2", 5) == b"[1, 2"
    assert message_text("json", b"[1, 2]", None) == b"[1, 2]"
    assert message_text("uof", b"<x/>", 0) == b"<x/>"


def test_an_xml_message_is_cut_out_of_its_feed() -> None:
    raw = (b'<feed><message id="a" sport="football"><alive/></message>\n'
           b'  <message id="b" sport="tennis"><alive/></message></feed>')
    assert xml_message(raw, 1) == b'<message id="b" sport="tennis"><alive/></message>'
    assert xml_message(raw, 2) is None
    assert xml_message(b"<feed", 0) is None
