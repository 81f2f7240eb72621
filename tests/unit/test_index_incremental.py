"""Open documents are re-parsed incrementally: the same trees and symbols as a fresh parse."""

from __future__ import annotations

import random
import time

import pytest
from tree_sitter import Node, Tree

from copilot_ls.index.extract import extract_file, symbols_from_tree
from copilot_ls.index.incremental import DocumentTrees, diff_edit, point_at
from copilot_ls.index.languages import language_for_path
from copilot_ls.index.refresh import content_hash

PATH = "/w/pkg/shapes.py"

SOURCE = '''"""Formes géométriques 📐."""
import math


def aire(forme: "Forme") -> float:
    """L'aire, en m²."""
    return forme.largeur * forme.hauteur


class Cercle:
    rayon: float = 1.0  # 🔵

    def aire(self) -> float:
        return math.pi * self.rayon**2
'''


def _nodes(tree: Tree) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    """Every node of `tree` with its byte range and points, in document order."""
    out = []
    pending: list[Node] = [tree.root_node]
    while pending:
        node = pending.pop()
        out.append(
            (node.type, node.start_byte, node.end_byte, tuple(node.start_point),
             tuple(node.end_point))
        )  # fmt: skip
        pending.extend(reversed(node.children))
    return out


def _fresh(path: str, source: bytes) -> Tree:
    spec = language_for_path(path)
    assert spec is not None
    parser = spec.parser()
    assert parser is not None
    return parser.parse(source)


def _splice(text: str, start: int, end: int, insert: str) -> str:
    return text[:start] + insert + text[end:]


def _assert_same_as_fresh(trees: DocumentTrees, path: str, text: str) -> None:
    source = text.encode("utf-8")
    parsed = trees.update(path, source)
    assert parsed is not None and parsed.incremental
    assert str(parsed.tree.root_node) == str(_fresh(path, source).root_node)
    assert _nodes(parsed.tree) == _nodes(_fresh(path, source))


def test_diff_edit_of_equal_texts_is_none() -> None:
    assert diff_edit(b"same", b"same") is None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # (start_byte, old_end_byte, new_end_byte, start_point, old_end_point, new_end_point)
        (b"abc\ndef\n", b"Xabc\ndef\n", (0, 0, 1, (0, 0), (0, 0), (0, 1))),
        (b"abc\ndef\n", b"abc\ndef\nghi", (8, 8, 11, (2, 0), (2, 0), (2, 3))),
        (b"abc\ndef\n", b"abc\ndXYef\n", (5, 5, 7, (1, 1), (1, 1), (1, 3))),
        (b"abc\ndef\nghi\n", b"abc\nghi\n", (4, 8, 4, (1, 0), (2, 0), (1, 0))),
        (b"abc\ndef\n", b"abc\nd\nz\nf\n", (5, 6, 8, (1, 1), (1, 2), (3, 0))),
        (b"aaaa", b"aa", (2, 4, 2, (0, 2), (0, 4), (0, 2))),
    ],
    ids=["insert-at-start", "insert-at-end", "insert-middle", "delete-line", "replace", "repeat"],
)
def test_diff_edit_finds_the_one_changed_stretch(
    old: bytes, new: bytes, expected: tuple[object, ...]
) -> None:
    edit = diff_edit(old, new)
    assert edit is not None
    assert (
        edit.start_byte,
        edit.old_end_byte,
        edit.new_end_byte,
        edit.start_point,
        edit.old_end_point,
        edit.new_end_point,
    ) == expected


def test_diff_edit_widens_to_whole_utf8_characters() -> None:
    """é (C3 A9) becoming è (C3 A8) shares a lead byte, yet the edit covers the character."""
    edit = diff_edit("x = 'é'\n".encode(), "x = 'è'\n".encode())
    assert edit is not None
    assert (edit.start_byte, edit.old_end_byte, edit.new_end_byte) == (5, 7, 7)
    emoji = diff_edit("a🔵b".encode(), "a🔴b".encode())  # F0 9F 94 B5 -> F0 9F 94 B4
    assert emoji is not None
    assert (emoji.start_byte, emoji.old_end_byte, emoji.new_end_byte) == (1, 5, 5)


def test_diff_edit_points_count_bytes_after_multibyte_text() -> None:
    old = "é🔵\nçà = 1\n".encode()
    new = "é🔵\nçà = 12\n".encode()
    edit = diff_edit(old, new)
    assert edit is not None
    assert edit.start_point == (1, len("çà = 1".encode()))
    assert edit.new_end_point == (1, len("çà = 12".encode()))


def test_point_at_counts_rows_and_byte_columns() -> None:
    source = "ab\nçd\n".encode()
    assert point_at(source, 0) == (0, 0)
    assert point_at(source, 3) == (1, 0)
    assert point_at(source, 5) == (1, 2)  # after the two bytes of ç
    assert point_at(source, len(source)) == (2, 0)


def test_changed_lines_span_the_inserted_text() -> None:
    old = b"a = 1\nb = 2\nc = 3\n"
    new = b"a = 1\nb = 2\ndef f():\n    pass\nc = 3\n"
    edit = diff_edit(old, new)
    assert edit is not None
    assert (edit.first_line, edit.last_line) == (2, 4)


METHOD = "    def diamètre(self) -> float:\n        return 2 * self.rayon\n\n"
HEADER = "# en-tête ✨\n"
EDITS = {
    "insert at the start": lambda t: HEADER + t,
    "insert at the end": lambda t: t + "\n\ndef périmètre(r):\n    return 2 * r\n",
    "insert in the middle": lambda t: t.replace(
        "    def aire(self)", METHOD + "    def aire(self)"
    ),
    "delete in the middle": lambda t: t.replace(METHOD, ""),
    "replace a 4-byte character": lambda t: t.replace("🔵", "🔴"),
    "replace a 2-byte character": lambda t: t.replace("m²", "mè"),
    "delete at the start": lambda t: t.removeprefix(HEADER),
    "delete at the end": lambda t: t[: t.index("\n\ndef périmètre")] + "\n",
    "delete everything": lambda t: "",
    "type it all again": lambda t: SOURCE,
}


def test_edits_at_start_middle_and_end_give_the_fresh_tree() -> None:
    trees = DocumentTrees()
    first = trees.update(PATH, SOURCE.encode())
    assert first is not None and not first.incremental and first.edit is None
    text = SOURCE
    for name, edit in EDITS.items():
        changed = edit(text)
        assert changed != text, name
        text = changed
        _assert_same_as_fresh(trees, PATH, text)


PIECES = ["é", "🔵", "x", "\n", "    ", "def g():\n    pass\n", "(", ")", '"', "ç = 1", "#"]


def _random_edit(rng: random.Random, text: str) -> str:
    start = rng.randrange(len(text) + 1)
    end = min(len(text), start + rng.choice([0, 0, 1, 2, 7]))
    return _splice(text, start, end, "".join(rng.choice(PIECES) for _ in range(rng.randrange(3))))


def test_random_edits_and_their_undos_give_the_fresh_tree() -> None:
    """Three hundred seeded random insertions, deletions and replacements of multi-byte text,
    each followed by its undo; every tree is checked against a fresh parse."""
    rng = random.Random(3)
    trees = DocumentTrees()
    trees.update(PATH, SOURCE.encode())
    for _ in range(300):
        _assert_same_as_fresh(trees, PATH, _random_edit(rng, SOURCE))
        _assert_same_as_fresh(trees, PATH, SOURCE)


def test_accumulated_random_edits_keep_node_positions_right() -> None:
    """Edits piling up on broken code: tree-sitter's error recovery may then shape a tree
    differently from a fresh parse, but every node's points must still match its bytes."""
    rng = random.Random(5)
    trees = DocumentTrees()
    text = SOURCE
    trees.update(PATH, text.encode())
    for _ in range(200):
        text = _random_edit(rng, text)
        source = text.encode()
        parsed = trees.update(PATH, source)
        assert parsed is not None and parsed.incremental
        assert parsed.tree.root_node.end_byte <= len(source)
        for _type, start, end, start_point, end_point in _nodes(parsed.tree):
            assert (point_at(source, start), point_at(source, end)) == (start_point, end_point)


def test_incremental_symbols_equal_extract_file() -> None:
    trees = DocumentTrees()
    trees.update(PATH, SOURCE.encode())
    text = SOURCE.replace("class Cercle:", "def brand_new_function():\n    ...\n\n\nclass Cercle:")
    source = text.encode()
    parsed = trees.update(PATH, source)
    assert parsed is not None and parsed.incremental
    from_tree = symbols_from_tree(
        PATH, source, parsed.tree, parsed.spec, mtime_ns=7, content_hash=content_hash(source)
    )
    assert from_tree == extract_file(PATH, source, mtime_ns=7)
    assert "brand_new_function" in {d.name for d in from_tree.definitions}


def test_symbols_from_tree_without_a_tree_indexes_text_chunks() -> None:
    symbols = symbols_from_tree(
        "/w/notes.txt", b"one\n\ntwo\n", None, None, mtime_ns=0, content_hash="h"
    )
    assert symbols.language == "text" and symbols.definitions == () and symbols.chunks
    assert symbols.size == len(b"one\n\ntwo\n")


def test_unchanged_text_keeps_the_tree() -> None:
    trees = DocumentTrees()
    first = trees.update(PATH, SOURCE.encode())
    again = trees.update(PATH, SOURCE.encode())
    assert first is not None and again is not None
    assert again.tree is first.tree and again.edit is None


def test_documents_without_a_grammar_are_not_parsed() -> None:
    trees = DocumentTrees()
    assert trees.update("/w/notes.txt", b"hello\n") is None
    assert "/w/notes.txt" not in trees


def test_forget_makes_the_next_update_a_fresh_parse() -> None:
    trees = DocumentTrees()
    trees.update(PATH, SOURCE.encode())
    trees.forget(PATH)
    assert PATH not in trees
    parsed = trees.update(PATH, (SOURCE + "x = 1\n").encode())
    assert parsed is not None and not parsed.incremental


def test_documents_are_kept_apart_by_path() -> None:
    trees = DocumentTrees()
    trees.update("/w/a.py", b"def a():\n    pass\n")
    trees.update("/w/b.js", b"function b() {}\n")
    parsed = trees.update("/w/a.py", b"def a():\n    pass\ndef c(): pass\n")
    assert parsed is not None and parsed.incremental and parsed.spec.name == "python"
    assert trees.paths() == ["/w/a.py", "/w/b.js"]


def _big_source(functions: int) -> str:
    body = (
        "def function_{i}(value: int, name: str = 'é') -> int:\n"
        '    """Document function {i}."""\n'
        "    total = value * {i}\n"
        "    for item in range(total):\n"
        "        total += item % 7\n"
        "    return total\n"
        "\n"
    )
    return "".join(body.format(i=i) for i in range(functions))


def test_incremental_reparse_is_faster_than_a_full_parse() -> None:
    """Typing two characters in the middle of a ~5,000-line file: the incremental update
    (diff, edit, re-parse) and a fresh parse are timed side by side, best of several."""
    text = _big_source(715)  # 7 lines each: ~5,000 lines
    assert 4990 <= text.count("\n") <= 5010
    middle = text.index("    total = value * 357\n") + len("    total = value * 357")
    trees = DocumentTrees()
    trees.update(PATH, text.encode())
    incremental, full = [], []
    for round_ in range(7):
        # type "+1", then delete it again, and so on
        end = middle if round_ % 2 == 0 else middle + 2
        text = _splice(text, middle, end, "+1" if round_ % 2 == 0 else "")
        source = text.encode()
        started = time.perf_counter()
        parsed = trees.update(PATH, source)
        incremental.append(time.perf_counter() - started)
        assert parsed is not None and parsed.incremental
        started = time.perf_counter()
        _fresh(PATH, source)
        full.append(time.perf_counter() - started)
    assert min(full) / min(incremental) >= 2.0
