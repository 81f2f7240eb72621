"""The `textDocument/completion` fallback item, for clients without inline completion."""

from lsprotocol import types

from copilot_ls.features.completion import fallback_item

AT = types.Position(line=3, character=12)


def test_plain_item_replaces_the_word_being_typed():
    item = fallback_item("    x = fibo", AT, "nacci(n - 1)")
    assert item.label == "fibonacci(n - 1)" and item.filter_text == "fibonacci(n - 1)"
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    assert item.text_edit.range.start == types.Position(line=3, character=8)
    assert item.text_edit.new_text == "fibonacci(n - 1)"


def test_snippet_item_replaces_the_line_and_escapes_snippet_syntax():
    item = fallback_item("    x = fibo", AT, "nacci(n) + ${cost}\n    y = 1", snippets=True)
    assert item.insert_text_format == types.InsertTextFormat.Snippet
    assert item.text_edit.range.start == types.Position(line=3, character=0)
    assert item.text_edit.new_text == "    x = fibonacci(n) + \\${cost\\}\n    y = 1"
    assert item.filter_text.startswith("    x = fibo")


def test_columns_are_counted_in_utf16_units():
    item = fallback_item("s = '😀' + na", types.Position(line=0, character=13), "me")
    assert item.text_edit.range.start == types.Position(line=0, character=11)
