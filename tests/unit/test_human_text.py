"""The one rule for text people write and others read (chalicelib/core/validation.py): no control or
invisible formatting characters, line breaks only where the field is multi-line."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from chalicelib.core.errors import InvalidInput
from chalicelib.core.validation import convert, text, text_problem


class Inner(msgspec.Struct):
    label: Annotated[str, text(max_length=20)]


class Outer(msgspec.Struct):
    name: Annotated[str, text(min_length=1, max_length=20)]
    note: Annotated[str, text(max_length=50, multiline=True)] = ""
    tags: dict[Annotated[str, text(max_length=10)], Annotated[str, text(max_length=10)]] = {}
    items: list[Inner] = []
    maybe: Inner | None = None
    code: str = ""  # not human text: left alone


@pytest.mark.parametrize(
    "char", ["\x00", "\x1b", "\x7f", "\x9b", "\u202d", "\u202e", "\u2067", "\u200b", "\ufeff"]
)
def test_hidden_characters_are_refused_in_both_kinds(char):
    assert text_problem(f"a{char}b", multiline=False)
    assert text_problem(f"a{char}b", multiline=True)


def test_line_breaks_only_in_multiline_text_and_joiners_and_marks_pass():
    for breaking in ("\n", "\r", "\t", "\u2028"):
        assert text_problem(f"a{breaking}b", multiline=False)
    assert text_problem("a\r\n\tb", multiline=True) is None
    assert (
        text_problem(
            "\U0001f468\u200d\U0001f469 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u200f", False
        )
        is None
    )


def test_every_field_is_named_wherever_it_sits():
    data = {
        "name": "a\u202eb",
        "note": "fine\nnote",
        "tags": {"ok": "v\x00", "k\x00": "v"},
        "items": [{"label": "ok"}, {"label": "x\x00"}],
        "maybe": {"label": "\u2066"},
        "code": "\x00",
    }
    with pytest.raises(InvalidInput) as raised:
        convert(data, Outer, strict=True)
    assert [p.field for p in raised.value.problems] == [
        "name",
        "tags.ok",
        "tags.k\x00",
        "items[1].label",
        "maybe.label",
    ]


def test_text_problems_come_with_the_other_problems():
    with pytest.raises(InvalidInput) as raised:
        convert({"name": "a\x00", "items": "no"}, Outer, strict=True)
    assert sorted(p.field for p in raised.value.problems) == ["items", "name"]
