"""The `copilot-ls.chat` command's arguments (features/chat.py): one object or positional
values are accepted; anything else is an InvalidParams error saying what is expected."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from copilot_ls.features.chat import parse_arguments

RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 2}}


def test_one_object_with_question_uri_and_range():
    parsed = parse_arguments(({"question": "Why?", "uri": "file:///a.py", "range": RANGE},))
    assert parsed.question == "Why?" and parsed.uri == "file:///a.py"
    assert parsed.range == types.Range(
        start=types.Position(line=3, character=0), end=types.Position(line=5, character=2)
    )


def test_positional_arguments_and_optional_uri_and_range():
    assert parse_arguments(["Why?", "file:///a.py", RANGE]).range is not None
    only = parse_arguments(["What is a closure?"])
    assert only.uri is None and only.range is None
    assert parse_arguments(({"question": "Why?"},)).uri is None


def test_a_reversed_range_is_put_in_order():
    backwards = {"start": RANGE["end"], "end": RANGE["start"]}
    parsed = parse_arguments(({"question": "?", "uri": "file:///a.py", "range": backwards},))
    assert parsed.range is not None and parsed.range.start.line == 3


@pytest.mark.parametrize(
    "args",
    [
        (),
        ({"uri": "file:///a.py"},),
        ({"question": "   "},),
        ({"question": 42},),
        ({"question": "?", "uri": 7},),
        ({"question": "?", "range": {"start": {"line": 1}}},),
        ({"question": "?", "range": {"start": {"line": -1, "character": 0}, "end": RANGE["end"]}},),
        ({"question": "?", "range": "1:2"},),
        ({"question": "?", "colour": "blue"},),
        ("?", "file:///a.py", RANGE, "extra"),
    ],
)
def test_bad_arguments_are_invalid_params_that_show_the_usage(args):
    with pytest.raises(JsonRpcInvalidParams) as raised:
        parse_arguments(args)
    assert "copilot-ls.chat takes" in str(raised.value) or "question" in str(raised.value)
