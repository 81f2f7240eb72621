"""Context stage: ranked proposals in, the context that fits the token budget out.

Every source proposes `Snippet`s: some lines of one file, a kind and a score. They arrive in
priority order (see `retrieval`: usages in the current file, outlines, definitions of names
near the cursor, similar chunks, recently edited code) and are taken greedily while the
budget allows. Lines already chosen for the same file are not paid twice, and a snippet whose
lines are all chosen already is a duplicate and dropped, so a chunk that contains an included
definition only adds the lines around it.

The chosen files are then laid out in a fixed order, most stable first (recent edits, then
definitions, outlines, similar chunks, then the current file's own lines: its usages and the
enclosing class of the cursor, nearest to the window), each file's lines in file order, so that
the rendered context only changes where the choice did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

SnippetKind = Literal["recent", "definition", "outline", "similar", "usage", "enclosing"]
LAYOUT_ORDER: dict[str, int] = {
    "recent": 0,
    "definition": 1,
    "outline": 2,
    "similar": 3,
    "usage": 4,
    "enclosing": 4,
}
"""Render order of the kinds: what changes least between requests comes first."""
HEADER_TOKENS = 4
"""Estimated tokens of a file's header (separator or `From path:` comment) besides its path."""
GAP_TOKENS = 3
"""Estimated tokens of the `...` line marking skipped lines."""


@dataclass(frozen=True)
class Snippet:
    """Some lines of one file that a source proposes for the context."""

    path: str
    lines: tuple[int, ...]
    """0-based line numbers, ascending."""
    kind: SnippetKind
    score: float = 0.0
    name: str = ""
    """What it is about: the defined name, or the query terms it matched."""


@dataclass(frozen=True)
class ContextItem:
    """One chosen snippet, as reported with a completion (why the model saw these lines)."""

    path: str
    start_line: int
    end_line: int
    """Exclusive."""
    kind: str
    score: float
    name: str = ""


@dataclass(frozen=True)
class SelectedFile:
    """The chosen lines of one file, in file order."""

    path: str
    lines: tuple[tuple[int, str], ...]
    """(line number, text) pairs, ascending."""
    order: int
    """Position class from `LAYOUT_ORDER` (the most stable kind among its snippets)."""


@dataclass(frozen=True)
class ContextSelection:
    items: tuple[ContextItem, ...] = ()
    files: tuple[SelectedFile, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.files)


EMPTY = ContextSelection()


def fit_to_budget(
    snippets: Iterable[Snippet],
    line_text: Callable[[str, int], str | None],
    count_line: Callable[[str], int],
    budget: int,
    *,
    line_overhead: int = 1,
) -> ContextSelection:
    """Take `snippets` in the order given while their estimated tokens fit `budget`.

    `line_text(path, line)` gives a line's text (None when unknown: the snippet is skipped);
    a line costs its tokens plus `line_overhead` (the newline, and a comment marker when
    the context is rendered as comments)."""
    chosen: dict[str, dict[int, str]] = {}
    orders: dict[str, int] = {}
    items: list[ContextItem] = []
    used = 0
    for snippet in snippets:
        have = chosen.get(snippet.path, {})
        new = [n for n in snippet.lines if n not in have]
        if not new:
            continue  # everything it shows is shown already
        texts = [line_text(snippet.path, n) for n in new]
        if any(t is None for t in texts):
            continue
        cost = GAP_TOKENS + sum(count_line(t) + line_overhead for t in texts if t is not None)
        if snippet.path not in chosen:
            cost += HEADER_TOKENS + count_line(snippet.path)
        if used + cost > budget:
            continue
        used += cost
        entry = chosen.setdefault(snippet.path, {})
        entry.update((n, t) for n, t in zip(new, texts, strict=True) if t is not None)
        order = LAYOUT_ORDER[snippet.kind]
        orders[snippet.path] = min(order, orders.get(snippet.path, order))
        items.append(
            ContextItem(
                snippet.path,
                snippet.lines[0],
                snippet.lines[-1] + 1,
                snippet.kind,
                round(snippet.score, 3),
                snippet.name,
            )
        )
    return ContextSelection(tuple(items), _layout(chosen, orders))


def _layout(chosen: dict[str, dict[int, str]], orders: dict[str, int]) -> tuple[SelectedFile, ...]:
    """The chosen files, most stable kind first, then by path; lines in file order."""
    files = [
        SelectedFile(path, tuple(sorted(lines.items())), orders[path])
        for path, lines in chosen.items()
    ]
    return tuple(sorted(files, key=lambda f: (f.order, f.path)))


def span_lines(start: int, end: int) -> tuple[int, ...]:
    """Line numbers from `start` to `end` (exclusive)."""
    return tuple(range(start, end))
