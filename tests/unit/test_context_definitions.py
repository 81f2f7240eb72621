"""Definitions of the names near the cursor, class outlines and the enclosing class."""

from copilot_ls.context.definitions import (
    MAX_DEFINITION_LINES,
    choose_definitions,
    definition_lines,
    definition_snippets,
    enclosing_class_snippet,
)
from copilot_ls.index.extract import extract_text
from copilot_ls.index.store import SymbolIndex

PRICING = '''# Prices in euros.
def compute_cost(weight):
    """Cost of a parcel."""
    return weight * 2


class Cart:
    """A shopping cart."""

    currency = "EUR"

    def add(self, item):
        self.items.append(item)

    def total(self):
        return sum(self.items)
'''
LONG = "def long_function():\n" + "    step()\n" * 30
FILES = {
    "/w/pricing.py": PRICING,
    "/w/other/pricing_copy.py": "def compute_cost(w):\n    return 0\n",
    "/w/long.py": LONG,
    "/w/orders.py": "from pricing import compute_cost\n\ndef local_helper():\n    pass\n",
}
INDEX = SymbolIndex(extract_text(path, text) for path, text in FILES.items())
LINES = {path: text.split("\n") for path, text in FILES.items()}


def snippets_for(names, imported=(), current="/w/orders.py", index=INDEX, lines=LINES, near=()):
    chosen = choose_definitions(index, current, names, set(imported), near)
    return definition_snippets(index, chosen, lines)


def definition(path: str, name: str):
    symbols = INDEX.get(path)
    return next(d for d in symbols.definitions if d.name == name), symbols


def test_a_function_is_shown_with_its_leading_comment_and_body():
    found, symbols = definition("/w/pricing.py", "compute_cost")
    assert definition_lines(found, symbols, LINES["/w/pricing.py"]) == (0, 1, 2, 3)


def test_a_long_function_shows_only_its_first_lines():
    found, symbols = definition("/w/long.py", "long_function")
    assert len(definition_lines(found, symbols, LINES["/w/long.py"])) == MAX_DEFINITION_LINES


def test_a_class_is_shown_as_an_outline_of_its_header_and_members():
    found, symbols = definition("/w/pricing.py", "Cart")
    shown = [
        LINES["/w/pricing.py"][n] for n in definition_lines(found, symbols, LINES["/w/pricing.py"])
    ]
    assert shown == [
        "class Cart:",
        '    """A shopping cart."""',
        "",
        '    currency = "EUR"',
        "    def add(self, item):",
        "    def total(self):",
    ]


def test_the_imported_file_wins_over_another_definition_of_the_name():
    snippets = snippets_for(["compute_cost"], {"/w/pricing.py"})
    assert [(s.path, s.name, s.kind) for s in snippets] == [
        ("/w/pricing.py", "compute_cost", "definition")
    ]


def test_names_defined_in_the_current_file_are_left_to_it():
    assert snippets_for(["local_helper"]) == []


def test_files_whose_text_is_unknown_are_skipped():
    assert snippets_for(["Cart"], lines={}) == []


def test_snippets_follow_the_order_of_the_names_nearest_first():
    snippets = snippets_for(["Cart", "long_function"], {"/w/pricing.py"})
    assert [s.name for s in snippets] == ["Cart", "long_function"]
    assert snippets[0].score > snippets[1].score


def test_a_name_defined_in_many_unrelated_files_is_not_guessed():
    files = {f"/w/m{n}/mod.py": "def run():\n    pass\n" for n in range(10)}
    index = SymbolIndex(extract_text(p, t) for p, t in files.items())
    lines = {p: t.split("\n") for p, t in files.items()}
    assert snippets_for(["run"], current="/w/app/main.py", index=index, lines=lines) == []
    near = snippets_for(
        ["run"], current="/w/m3/main.py", index=index, lines=lines, near=["/w/m3/mod.py"]
    )
    assert [s.path for s in near] == ["/w/m3/mod.py"]  # the same directory is not a guess
    imported = snippets_for(["run"], {"/w/m7/mod.py"}, "/w/app/main.py", index, lines)
    assert [s.path for s in imported] == ["/w/m7/mod.py"]


def test_the_enclosing_class_outline_is_proposed_when_its_header_left_the_window():
    symbols = INDEX.get("/w/pricing.py")
    lines = LINES["/w/pricing.py"]
    snippet = enclosing_class_snippet(symbols, lines, cursor_line=15, window_start=14)
    assert snippet is not None and snippet.kind == "enclosing" and snippet.name == "Cart"
    assert lines[snippet.lines[0]] == "class Cart:"
    assert all(n < 14 for n in snippet.lines)
    assert enclosing_class_snippet(symbols, lines, cursor_line=15, window_start=0) is None
