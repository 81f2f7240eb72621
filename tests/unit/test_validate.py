"""Edit validation with tree-sitter (copilot_ls/postprocess/validate.py)."""

from __future__ import annotations

import pytest

from copilot_ls.index.languages import get_language
from copilot_ls.postprocess.edits import Edit, minimal_edits
from copilot_ls.postprocess.validate import (
    EditRefused,
    check_edits,
    keep_parsed,
    syntax_problems,
)

pytest.importorskip("tree_sitter_python")

FILE = """import os


def add(a, b):
    return a + b


def sub(a, b):
    return a - b
"""
ADD_START = FILE.index("def add")
ADD_END = FILE.index("\n\n\ndef sub") + 1


def _rewrite(text: str, start: int, end: int, new: str) -> list[Edit]:
    return minimal_edits(text[start:end], new, start)


def test_a_good_edit_inside_the_target_is_accepted_and_gives_the_new_text():
    new = 'def add(a, b):\n    """Add."""\n    return a + b\n'
    edits = _rewrite(FILE, ADD_START, ADD_END, new)
    assert check_edits("python", FILE, edits, (ADD_START, ADD_END)) == (
        FILE[:ADD_START] + new + FILE[ADD_END:]
    )


def test_an_edit_introducing_a_syntax_error_is_refused_with_its_line():
    new = "def add(a, b:\n    return a + b\n"
    edits = _rewrite(FILE, ADD_START, ADD_END, new)
    with pytest.raises(EditRefused, match=r"syntax errors \(line 4"):
        check_edits("python", FILE, edits, (ADD_START, ADD_END))


def test_an_edit_outside_the_target_range_is_refused():
    edits = [Edit(0, len("import os"), "import sys")]
    with pytest.raises(EditRefused, match="outside"):
        check_edits("python", FILE, edits, (ADD_START, ADD_END))


def test_an_edit_overlapping_the_targets_end_is_refused():
    edits = [Edit(ADD_END - 5, ADD_END + 5, "x")]
    with pytest.raises(EditRefused, match="outside"):
        check_edits("python", FILE, edits, (ADD_START, ADD_END))


def test_a_file_that_already_had_errors_is_judged_only_on_new_errors():
    broken = FILE + "\n\ndef mul(a, b:\n    return a * b\n"
    assert syntax_problems(get_language("python"), broken)  # the file has an error already
    new = 'def add(a, b):\n    """Add."""\n    return a + b\n'
    edits = _rewrite(broken, ADD_START, ADD_END, new)
    assert check_edits("python", broken, edits, (ADD_START, ADD_END)).count('"""Add."""') == 1
    worse = _rewrite(broken, ADD_START, ADD_END, "def add(a, b):\n    return (a + b\n")
    with pytest.raises(EditRefused, match="syntax errors"):
        check_edits("python", broken, worse, (ADD_START, ADD_END))


def test_an_error_already_inside_the_target_does_not_block_an_edit_that_keeps_it():
    broken = FILE.replace("return a + b", "return a +")
    end = broken.index("\n\n\ndef sub") + 1
    new = 'def add(a, b):\n    """Add."""\n    return a +\n'
    edits = _rewrite(broken, ADD_START, end, new)
    assert '"""Add."""' in check_edits("python", broken, edits, (ADD_START, end))


def test_an_edit_that_fixes_an_error_is_accepted():
    broken = FILE.replace("return a + b", "return a +")
    end = broken.index("\n\n\ndef sub") + 1
    edits = _rewrite(broken, ADD_START, end, "def add(a, b):\n    return a + b\n")
    assert check_edits("python", broken, edits, (ADD_START, end)) == FILE


def test_edits_in_a_language_without_a_parser_are_refused():
    with pytest.raises(EditRefused, match="no parser"):
        check_edits("cobol", "A.\n", [Edit(0, 1, "B")], (0, 2))


def test_a_missing_token_is_described_as_missing():
    problems = syntax_problems(get_language("python"), "x = (1 + 2\n")
    assert problems
    assert any("line 1" in p.describe() for p in problems)


def test_keep_parsed_drops_an_unfinished_last_statement():
    code = "def test_a():\n    assert 1\n\n\ndef test_b():\n    assert (\n"
    assert keep_parsed("python", code) == "def test_a():\n    assert 1\n"


def test_keep_parsed_keeps_clean_code_whole_and_nothing_of_a_broken_start():
    assert keep_parsed("python", "x = 1\n") == "x = 1\n"
    assert keep_parsed("python", "def f(:\n    pass\n") == ""


def test_checks_work_on_non_ascii_text():
    text = 'def greet():\n    return "héllo wörld"\n\n\ndef other():\n    return 1\n'
    end = text.index("\n\n\ndef other") + 1
    edits = _rewrite(text, 0, end, 'def greet():\n    """Grüß."""\n    return "héllo wörld"\n')
    assert '"""Grüß."""' in check_edits("python", text, edits, (0, end))
