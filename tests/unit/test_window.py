"""The cursor window fits a token budget and keeps its start stable while the user types."""

from copilot_ls.context.window import STRIDE, LineTokenCounter, build_window


def words(line: str) -> int:
    return len(line.split())


def test_small_file_is_taken_whole():
    text = "a b\nc d\ne f"
    w = build_window(text, text.index("d"), words, prefix_budget=100, suffix_budget=100)
    assert w.prefix == "a b\nc "
    assert w.suffix == "d\ne f"
    assert w.cursor_line_prefix == "c " and w.cursor_line_suffix == "d"


def test_long_prefix_is_cut_at_a_line_on_the_stride():
    lines = [f"w{i} x y z" for i in range(200)]
    text = "\n".join(lines)
    w = build_window(text, len(text), words, prefix_budget=100, suffix_budget=10)
    assert w.prefix_start_line % STRIDE == 0
    assert w.prefix.startswith(f"w{w.prefix_start_line} ")
    assert sum(words(x) + 1 for x in w.prefix.split("\n")) <= 100


def test_window_start_does_not_move_while_typing_on_the_last_line():
    base = "\n".join(f"w{i} x y z" for i in range(200)) + "\n"
    starts = set()
    for typed in ["d", "de", "def", "def f", "def f(", "def f(a"]:
        text = base + typed
        starts.add(
            build_window(
                text, len(text), words, prefix_budget=100, suffix_budget=10
            ).prefix_start_line
        )
    assert len(starts) == 1


def test_suffix_is_cut_to_its_budget_but_keeps_the_cursor_line():
    text = "x\n" + "\n".join(["a b c"] * 50)
    w = build_window(text, 1, words, prefix_budget=10, suffix_budget=8)
    assert w.suffix.split("\n")[0] == ""
    assert 1 < len(w.suffix.split("\n")) < 5


def test_one_huge_line_is_cut_by_characters():
    text = "x " * 50_000
    w = build_window(text, len(text), words, prefix_budget=100, suffix_budget=10)
    assert len(w.prefix) <= 200


def test_line_counter_remembers_lines():
    calls = []

    def count(line: str) -> int:
        calls.append(line)
        return len(line)

    counter = LineTokenCounter(count, capacity=2)
    assert counter("abc") == 3 and counter("abc") == 3
    assert calls == ["abc"]
    counter("d"), counter("e"), counter("abc")
    assert calls == ["abc", "d", "e", "abc"]


def test_window_never_opens_inside_a_docstring():
    """A start inside a triple-quoted string would show its closing quotes as opening ones."""
    head = [f"w{i} x y z" for i in range(150)]
    doc = ["def f():", '    """Doc', *[f"    line {i} of the doc" for i in range(30)], '    """']
    body = [f"    v{i} = {i}" for i in range(20)]
    lines = head + doc + body
    text = "\n".join(lines)
    for budget in range(60, 160, 7):
        w = build_window(text, len(text), words, prefix_budget=budget, suffix_budget=10)
        before = "\n".join(lines[: w.prefix_start_line])
        assert before.count('"""') % 2 == 0, (budget, w.prefix_start_line)
