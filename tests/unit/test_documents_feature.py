"""The document handlers' helpers: which key a document has and where its last edit was."""

from __future__ import annotations

from lsprotocol import types

from copilot_ls.features.documents import document_key, last_edit_line


def _partial(line: int, character: int, text: str) -> types.TextDocumentContentChangePartial:
    at = types.Position(line=line, character=character)
    return types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text=text)


def test_file_uris_become_paths_and_other_uris_stay() -> None:
    assert document_key("file:///w/a%20b/%C3%A9.py") == "/w/a b/é.py"
    assert document_key("untitled:Untitled-1") == "untitled:Untitled-1"


def test_the_last_partial_change_gives_the_line_where_its_text_ends() -> None:
    changes = [_partial(1, 0, "x"), _partial(7, 4, "def f():\n    pass\n")]
    assert last_edit_line(changes, None, "") == 9


def test_a_whole_document_change_is_located_by_comparing_texts() -> None:
    whole = types.TextDocumentContentChangeWholeDocument(text="a\nb\nç = 2\nd\n")
    assert last_edit_line([whole], "a\nb\nç = 1\nd\n", whole.text) == 2
    assert last_edit_line([whole], None, whole.text) is None
    assert last_edit_line([whole], whole.text, whole.text) is None
    assert last_edit_line([], "a", "b") is None
