"""Post-processing turns raw model text into something safe to show at the cursor."""

from copilot_ls.postprocess.filters import Surroundings, choose_mode, clean_completion


def at(line_prefix: str, suffix: str = "", mode: str | None = None) -> Surroundings:
    line_suffix = suffix.split("\n", 1)[0]
    return Surroundings(
        line_prefix=line_prefix,
        line_suffix=line_suffix,
        suffix=suffix,
        mode=mode or choose_mode(line_suffix),  # type: ignore[arg-type]
    )


def test_text_after_the_cursor_means_single_line():
    assert choose_mode("x)") == "single"
    assert choose_mode("") == "multi"
    assert choose_mode("  )]}") == "multi"
    assert choose_mode("", "never") == "single"
    assert choose_mode("x", "always") == "multi"


def test_single_line_mode_keeps_only_the_first_line():
    assert clean_completion("a + b)\n    return", at("    x = f(", ")")) == "a + b"


def test_text_duplicating_the_rest_of_the_line_is_dropped():
    assert clean_completion("a, b):", at("def f(", "):\n    pass")) == "a, b"


def test_multi_line_stops_at_a_dedent_below_the_block():
    raw = (
        "total = 0\n    for x in xs:\n        total += x\n    return total\n"
        "\ndef other():\n    pass"
    )
    out = clean_completion(raw, at("    ", "\n"))
    assert out == "total = 0\n    for x in xs:\n        total += x\n    return total"


def test_multi_line_after_a_block_opener_stops_at_the_next_sibling():
    raw = "\n    return a + b\ndef sub(a, b):\n    return a - b"
    assert clean_completion(raw, at("def add(a, b):", "\n")) == "\n    return a + b"


def test_closing_brace_at_the_boundary_is_kept():
    raw = "\n  return 1;\n}\nint g() {"
    assert clean_completion(raw, at("int f() {", "\n")) == "\n  return 1;\n}"


def test_a_run_of_blank_lines_ends_a_block():
    assert clean_completion("a = 1\n\n\nb = 2", at("", "\n")) == "a = 1"


def test_lines_repeating_the_code_below_are_dropped():
    raw = "x = compute()\n    return x"
    out = clean_completion(raw, at("    ", "\n    return x\n"))
    assert out == "x = compute()"


def test_trailing_whitespace_is_stripped():
    assert clean_completion("a = 1   \n  b = 2  \n\n", at("", "\n")) == "a = 1\n  b = 2"


def test_repeated_lines_are_cut():
    assert clean_completion("x += 1\nx += 1\nx += 1", at("", "")) == "x += 1"


def test_empty_or_whitespace_only_candidates_are_dropped():
    assert clean_completion("   \n  ", at("", "")) is None
    assert clean_completion("\nfoo", at("x = ", "y")) is None


def test_a_failing_filter_is_skipped():
    def broken(text, where):
        raise RuntimeError("boom")

    def upper(text, where):
        return text.upper()

    assert clean_completion("abc", at("", ""), [broken, upper]) == "ABC"
