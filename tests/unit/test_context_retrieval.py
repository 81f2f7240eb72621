"""The retriever chooses definitions, similar chunks and recent edits, stably and safely."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from copilot_ls.context import retrieval
from copilot_ls.context.recent import RecentDocuments
from copilot_ls.context.render import render
from copilot_ls.context.retrieval import ContextQuery, ContextRetriever
from copilot_ls.index.extract import extract_file
from copilot_ls.index.model import Definition, FileSymbols, Span
from copilot_ls.index.store import SymbolIndex

PRICING = '''def compute_shipping_cost(weight_kg, distance_km):
    """Price in euros of a parcel."""
    return round(weight_kg * distance_km * 0.02, 2)
'''
REPORT = """def print_invoice(invoice):
    customer = invoice.customer_name
    for line in invoice.line_items:
        print(line.quantity, line.unit_price)
    print(invoice.total_amount)
"""
ORDERS = """from pricing import compute_shipping_cost


def summary(invoice, weight_kg, distance_km):
    name = invoice.customer_name
    for line in invoice.line_items:
        cost = line.quantity * line.unit_price
    shipping = compute_shipping_cost(weight_kg, distance_km)
    total = """


def words(text: str) -> int:
    return len(text.split())


class Workspace:
    def __init__(self, root: Path, files: dict[str, str]) -> None:
        self.root = root
        self.index = SymbolIndex()
        self.recent = RecentDocuments()
        for name, text in files.items():
            self.write(name, text)
        self.retriever = ContextRetriever(lambda: self.index, lambda: self.recent)

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.index.replace(extract_file(str(path), text.encode(), mtime_ns=path.stat().st_mtime_ns))

    def query(self, text: str, budget: int = 400, typed: str = "") -> ContextQuery:
        lines = (text + typed).split("\n")
        return ContextQuery(
            path=str(self.root / "orders.py"),
            text=text + typed,
            cursor_line=len(lines) - 1,
            window_start=0,
            window_end=len(lines),
            above="\n".join(lines[:-1]),
            budget=budget,
            line_overhead=2,
            root=str(self.root),
        )

    def select(self, text: str = ORDERS, **kwargs):
        return self.retriever.select(self.query(text, **kwargs), words)


@pytest.fixture
def workspace(tmp_path):
    return Workspace(tmp_path, {"pricing.py": PRICING, "report.py": REPORT, "orders.py": ORDERS})


def kinds(selection) -> list[tuple[str, str]]:
    return [(Path(item.path).name, item.kind) for item in selection.items]


def test_the_definition_of_a_used_name_and_a_similar_chunk_are_chosen(workspace):
    assert kinds(workspace.select()) == [("pricing.py", "definition"), ("report.py", "similar")]


def test_the_context_stays_the_same_while_typing_on_one_line(workspace):
    first = workspace.select()
    current = str(workspace.root / "orders.py")
    workspace.index.replace(extract_file(current, (ORDERS + "sub").encode()))  # buffer indexed
    for typed in ("s", "su", "subtot"):
        assert workspace.select(typed=typed) is first


def test_a_new_line_above_the_cursor_is_a_new_query(workspace):
    first = workspace.select()
    assert workspace.select(ORDERS + "0\n    ") is not first


def test_the_rendered_context_fits_the_budget(workspace):
    for budget in (20, 40, 80, 400):
        selection = workspace.select(budget=budget)
        block = render(selection, str(workspace.root / "orders.py"), None, None, words)
        assert block.tokens <= budget


def test_an_open_buffer_is_read_instead_of_the_file_on_disk(workspace):
    buffer = PRICING.replace("Price in euros", "Price in pounds")
    workspace.recent.opened(str(workspace.root / "pricing.py"), buffer)
    selection = workspace.select()
    block = render(selection, str(workspace.root / "orders.py"), None, None, words)
    assert "Price in pounds" in block.comment_block


def test_a_vanished_file_costs_only_its_own_snippets(workspace):
    (workspace.root / "pricing.py").unlink()
    assert kinds(workspace.select()) == [("report.py", "similar")]


def test_a_failing_source_is_skipped_and_the_others_still_count(workspace, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(retrieval, "similar_snippets", broken)
    assert kinds(workspace.select()) == [("pricing.py", "definition")]


def test_the_code_around_the_last_edit_of_another_file_is_proposed(workspace):
    notes = "\n".join(f"step_{n} = {n}" for n in range(40)) + "\n"
    workspace.write("notes.py", notes)
    workspace.recent.edited(str(workspace.root / "notes.py"), notes, line=20)
    recent = [i for i in workspace.select().items if i.kind == "recent"]
    assert [(Path(i.path).name, i.start_line, i.end_line) for i in recent] == [("notes.py", 14, 30)]


def test_a_zero_budget_chooses_nothing(workspace):
    assert not workspace.select(budget=0)


def test_choosing_context_does_not_grow_with_the_workspace(tmp_path):
    """Candidates come from imports, neighbours and recent files, never a scan of the
    workspace: a workspace with thousands more files costs about the same (side by side)."""
    files = {"pricing.py": PRICING, "report.py": REPORT, "orders.py": ORDERS}
    small, large = Workspace(tmp_path / "small", files), Workspace(tmp_path / "large", files)
    for n in range(4000):
        name = f"/elsewhere/pkg{n % 97}/mod{n}.py"
        definitions = tuple(
            Definition(f"helper_{n}_{k}", "function", Span(k * 3, 0, k * 3 + 2, 0), "def f():")
            for k in range(5)
        )
        # Every one defines a name used near the cursor and imports a module named like it.
        shared = Definition("compute_shipping_cost", "function", Span(0, 0, 2, 0), "def f():")
        large.index.replace(
            FileSymbols(name, "python", "0", 0, 0, (*definitions, shared), ("orders",))
        )

    runs: list[int] = []

    def fastest(space: Workspace) -> float:
        times = []
        for n in range(7):
            runs.append(n)  # a new line above the cursor each time: never a cached choice
            text = ORDERS.replace("total = ", f"total_{len(runs)} = 0\n    ")
            started = time.perf_counter()
            space.select(text)
            times.append(time.perf_counter() - started)
        return min(times)

    fastest(small), fastest(large)  # warm the file and chunk caches of both
    assert fastest(large) < 3 * fastest(small)


def test_a_line_far_above_using_an_object_of_the_window_comes_before_anything_else(tmp_path):
    """The window shows `self._loop` in use; the file's other uses of it show what else it
    offers, and they are cheap: they are proposed first, in the current file's lines."""
    early = "class Session:\n    def start(self):\n        if self._loop.get_debug():\n"
    filler = "".join(f"    def step_{n}(self):\n        return {n}\n" for n in range(30))
    late = "    def stop(self):\n        self._loop.call_soon(self.close)\n        "
    space = Workspace(tmp_path, {"pricing.py": PRICING, "orders.py": early + filler + late})
    text = early + filler + late
    lines = text.split("\n")
    cursor = len(lines) - 1
    query = ContextQuery(
        path=str(tmp_path / "orders.py"),
        text=text,
        cursor_line=cursor,
        window_start=cursor - 2,
        window_end=cursor + 1,
        above="\n".join(lines[cursor - 2 : cursor]),
        budget=60,
        line_overhead=1,
        root=str(tmp_path),
    )
    selection = space.retriever.select(query, words)
    assert (selection.items[0].kind, selection.items[0].name) == ("usage", "self._loop.get_debug")
    [current] = [f for f in selection.files if f.path.endswith("orders.py")]
    assert (2, "        if self._loop.get_debug():") in current.lines
