"""Answer extraction, re-indentation and minimal edits (copilot_ls/postprocess/edits.py)."""

from __future__ import annotations

import pytest

from copilot_ls.postprocess.edits import (
    Edit,
    append_code,
    apply_edits,
    comment_doc,
    dedent,
    doc_text,
    explanation,
    extract_code,
    minimal_edits,
    python_docstring,
    reindent,
    replacement,
)

CODE = "def add(a, b):\n    return a + b\n"


def test_a_fenced_block_with_a_language_tag_is_extracted_without_the_fences():
    assert extract_code(f"```python\n{CODE}```", "python") == CODE


def test_an_untagged_fenced_block_is_extracted():
    assert extract_code(f"```\n{CODE}```\n", "python") == CODE


def test_prose_before_and_after_a_fenced_block_is_dropped():
    answer = f"Here is the updated function:\n\n```python\n{CODE}```\n\nThis adds a and b."
    assert extract_code(answer, "python") == CODE


def test_of_several_fences_the_first_in_the_requested_language_wins():
    answer = (
        "```bash\npip install thing\n```\nThen:\n"
        f"```python\n{CODE}```\nUsage:\n```python\nprint(add(1, 2))\n```"
    )
    assert extract_code(answer, "python") == CODE


def test_language_aliases_match_the_fence_tag():
    answer = "```sh\nls\n```\n```js\nconst a = 1;\n```"
    assert extract_code(answer, "javascript") == "const a = 1;\n"


def test_a_fence_cut_off_by_the_token_limit_keeps_the_code_written_so_far():
    assert extract_code("```python\ndef f():\n    return 1\n", "python") == (
        "def f():\n    return 1\n"
    )


def test_an_unfenced_answer_loses_its_prose_lines_before_and_after():
    answer = f"Here is the simplified code:\n{CODE}\nThis function returns the sum of a and b."
    assert extract_code(answer, "python") == CODE


def test_an_unfenced_answer_of_only_code_is_kept_whole():
    assert extract_code(CODE, "python") == CODE


def test_an_answer_without_code_extracts_to_nothing():
    assert extract_code("```python\n```", "python") == ""
    assert extract_code("", "python") == ""


def test_reindent_moves_code_to_the_targets_indentation():
    assert reindent(CODE.rstrip("\n"), "    ") == "    def add(a, b):\n        return a + b"


def test_reindent_keeps_blank_lines_empty():
    code = "def f():\n    a = 1\n\n    return a"
    assert reindent(code, "\t") == "\tdef f():\n\t    a = 1\n\n\t    return a"


def test_a_body_indented_deeper_than_its_stripped_first_line_is_pulled_back_one_unit():
    """Models often drop the first line's indentation and keep the rest (def at 0, body at 8)."""
    code = "def load(self):\n        data = 1\n        return data"
    assert dedent(code, 4) == "def load(self):\n    data = 1\n    return data"


def test_answers_indented_as_a_whole_are_dedented():
    assert dedent("    x = 1\n    y = 2") == "x = 1\ny = 2"


def test_replacement_ends_with_a_newline_exactly_when_the_target_did():
    target = "    def f(self):\n        return 1\n"
    new = replacement(target, "def f(self):\n    return 2\n\n\n")
    assert new == "    def f(self):\n        return 2\n"
    assert replacement(target.rstrip("\n"), "def f(self):\n    return 2") == new.rstrip("\n")


def test_minimal_edits_touch_only_the_changed_lines():
    old = "def f(a):\n    x = a\n    return x\n"
    new = 'def f(a):\n    """Return a."""\n    x = a\n    return x\n'
    edits = minimal_edits(old, new, offset=100)
    assert edits == [Edit(110, 110, '    """Return a."""\n')]


def test_minimal_edits_of_equal_texts_are_empty():
    assert minimal_edits(CODE, CODE) == []


@pytest.mark.parametrize(
    "old,new",
    [
        (CODE, "def add(a: int, b: int) -> int:\n    return a + b\n"),
        (CODE, ""),
        ("", CODE),
        ("a\nb\nc\nd\n", "a\nB\nc\nD\ne\n"),
        ("x = 1", "x = 2"),
    ],
)
def test_applying_minimal_edits_gives_the_new_text(old, new):
    prefix, suffix = "# head\n", "# tail\n"
    document = prefix + old + suffix
    edits = minimal_edits(old, new, offset=len(prefix))
    assert apply_edits(document, edits) == prefix + new + suffix


def test_overlapping_edits_are_rejected():
    with pytest.raises(ValueError):
        apply_edits("abcdef", [Edit(0, 3, "x"), Edit(2, 4, "y")])


def test_doc_text_stops_at_the_closer_and_drops_comment_markers():
    assert doc_text('Add two numbers.""" junk', '"""') == "Add two numbers."
    assert doc_text("\n * Add two\n * numbers.\n */\nint", "*/") == "Add two\nnumbers."


def test_a_one_line_docstring_sits_on_one_line_and_quotes_are_escaped():
    assert python_docstring('Say "hi"', "    ") == '    """Say "hi\\""""\n'
    assert python_docstring('Has """ inside', "") == '"""Has \\"\\"\\" inside"""\n'


def test_a_multi_line_docstring_closes_on_its_own_line():
    assert python_docstring("Summary.\n\nMore.", "  ") == '  """Summary.\n\n  More.\n  """\n'


def test_doc_comments_follow_the_language_style():
    assert comment_doc("Adds.", "/**", "  ") == "  /** Adds. */\n"
    assert comment_doc("One\nTwo", "/**", "") == "/**\n * One\n * Two\n */\n"
    assert comment_doc("Adds.", "///", "") == "/// Adds.\n"


def test_appending_tests_leaves_out_imports_the_file_already_has():
    existing = "from calc import add\n\n\ndef test_one():\n    assert add(1, 1) == 2\n"
    code = "from calc import add\n\n\ndef test_two():\n    assert add(1, 2) == 3\n"
    result = append_code(existing, code)
    assert result.count("from calc import add") == 1
    assert result.startswith(existing.rstrip("\n"))
    assert result.endswith("def test_two():\n    assert add(1, 2) == 3\n")


def test_appending_to_an_empty_file_is_the_code_alone():
    assert append_code("", "x = 1\n") == "x = 1\n"


def test_long_explanations_are_cut_at_a_sentence():
    text = "This is a sentence. " * 200
    short = explanation(text)
    assert len(short) < len(text)
    assert short.endswith(". …")
