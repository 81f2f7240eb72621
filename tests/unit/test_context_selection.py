"""Proposals are deduplicated and fitted to the token budget, and laid out stably."""

from copilot_ls.context.selection import Snippet, fit_to_budget, span_lines

FILES = {
    "/w/a.py": [f"a_line_{n}" for n in range(30)],
    "/w/b.py": [f"b_line_{n}" for n in range(30)],
}


def line_text(path: str, number: int) -> str | None:
    lines = FILES.get(path)
    return lines[number] if lines is not None and number < len(lines) else None


def one_token(_line: str) -> int:
    return 1


def test_snippets_are_taken_in_order_while_they_fit():
    snippets = [
        Snippet("/w/a.py", span_lines(0, 5), "definition"),
        Snippet("/w/b.py", span_lines(0, 20), "similar"),
        Snippet("/w/b.py", span_lines(25, 27), "similar"),
    ]
    # a: header 4 + path 1 + gap 3 + 5 lines * 2 = 18; b: 8 + 40 = 48 (too big); b 25-27: 8 + 4
    selection = fit_to_budget(snippets, line_text, one_token, 40)
    assert [(i.path, i.start_line, i.end_line) for i in selection.items] == [
        ("/w/a.py", 0, 5),
        ("/w/b.py", 25, 27),
    ]


def test_lines_already_chosen_are_not_paid_or_shown_twice():
    snippets = [
        Snippet("/w/a.py", span_lines(3, 6), "definition", name="f"),
        Snippet("/w/a.py", span_lines(0, 10), "similar"),  # contains the definition
        Snippet("/w/a.py", span_lines(4, 5), "similar"),  # contained: a duplicate
    ]
    selection = fit_to_budget(snippets, line_text, one_token, 1000)
    assert [i.kind for i in selection.items] == ["definition", "similar"]
    (chosen,) = selection.files
    assert [n for n, _ in chosen.lines] == list(range(10))


def test_a_snippet_with_unknown_lines_is_skipped():
    snippets = [Snippet("/w/gone.py", (0, 1), "definition"), Snippet("/w/a.py", (0,), "recent")]
    selection = fit_to_budget(snippets, line_text, one_token, 1000)
    assert [f.path for f in selection.files] == ["/w/a.py"]


def test_files_are_laid_out_most_stable_kind_first_then_by_path():
    snippets = [
        Snippet("/w/b.py", (1,), "similar"),
        Snippet("/w/a.py", (1,), "similar"),
        Snippet("/w/z.py", (0,), "definition"),
        Snippet("/w/y.py", (0,), "recent"),
    ]
    FILES["/w/z.py"] = FILES["/w/y.py"] = ["z"]
    try:
        selection = fit_to_budget(snippets, line_text, one_token, 1000)
    finally:
        del FILES["/w/z.py"], FILES["/w/y.py"]
    assert [f.path for f in selection.files] == ["/w/y.py", "/w/z.py", "/w/a.py", "/w/b.py"]


def test_a_zero_budget_selects_nothing():
    selection = fit_to_budget([Snippet("/w/a.py", (0,), "definition")], line_text, one_token, 0)
    assert not selection and selection.items == ()


def test_the_line_overhead_counts_against_the_budget():
    snippet = [Snippet("/w/a.py", span_lines(0, 10), "definition")]
    # header 4 + path 1 + gap 3 + 10 lines * (1 + overhead)
    assert fit_to_budget(snippet, line_text, one_token, 28, line_overhead=1)
    assert not fit_to_budget(snippet, line_text, one_token, 28, line_overhead=2)


def test_outlines_come_after_definitions_and_the_current_files_usages_last():
    snippets = [
        Snippet("/w/a.py", (1,), "usage"),
        Snippet("/w/b.py", (2,), "outline"),
        Snippet("/w/c.py", (0,), "definition"),
    ]
    FILES["/w/c.py"] = ["c"]
    try:
        selection = fit_to_budget(snippets, line_text, one_token, 1000)
    finally:
        del FILES["/w/c.py"]
    assert [f.path for f in selection.files] == ["/w/c.py", "/w/b.py", "/w/a.py"]
