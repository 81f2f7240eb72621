"""LSP conversions of the code-action handlers (copilot_ls/features/code_actions.py)."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument

from copilot_ls.features.code_actions import _position, _wanted


def test_positions_count_utf16_units_after_characters_outside_the_bmp():
    text = 'x = "😀"\ny = 1\n'
    document = TextDocument("file:///t.py", text)
    assert _position(document, text, text.index('"', 5)) == types.Position(line=0, character=7)
    assert _position(document, text, text.index("y")) == types.Position(line=1, character=0)


def test_the_end_of_a_text_without_a_final_newline_is_the_end_of_its_last_line():
    text = "a\nbc"
    document = TextDocument("file:///t.py", text)
    assert _position(document, text, len(text)) == types.Position(line=1, character=2)


def test_requested_kinds_match_hierarchically():
    assert _wanted("refactor.rewrite", ["refactor"])
    assert _wanted("quickfix", None)
    assert not _wanted("source", ["refactor"])
    assert not _wanted("refactorx", ["refactor"])
