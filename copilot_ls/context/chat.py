"""Context stage: what a chat question is about, as titled pieces of code in priority order.

The selection (its whole lines), the function or class around it (tree-sitter, the targets of
the code actions), and definitions of the names the selection uses: from the document itself
when they are defined there (the buffer is fresher than the index), else from the workspace
index, chosen as completions choose them (`definitions.choose_definitions`). Without a range
the file itself is the context. Budgets are applied later (`prompts/chat.py`, on the model
thread, where tokens can be counted); a failing source is logged and skipped.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable
from typing import TypeVar

from copilot_ls.index.store import SymbolIndex
from copilot_ls.prompts.chat import (
    ContextPiece,
    definition_title,
    enclosing_title,
    file_title,
    selection_title,
)
from copilot_ls.refactor_targets import (
    Definition,
    definitions,
    enclosing,
    language_of,
    selection_point,
    whole_lines,
)

from .candidates import imported_files, same_directory
from .definitions import MAX_DEFINITION_LINES, choose_definitions, definition_snippets
from .render import file_text, shown_path
from .selection import SelectedFile
from .texts import FileTexts
from .tokens import names_nearest_first

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_NAMES = 32
"""Identifiers of the code in question looked up, first used first."""
MAX_LOCAL = 4
"""Definitions shown from the document itself."""
MAX_WORKSPACE = 6
"""Definitions shown from other files of the workspace."""
FILE_LINES = 200
"""Lines of the document shown when no range was given (the budget cuts them further)."""


def chat_context(
    path: str,
    text: str,
    span: tuple[int, int] | None,
    index: SymbolIndex,
    texts: FileTexts,
    root: str | None,
) -> list[ContextPiece]:
    """The pieces of code a question about `span` (character offsets of `text`; None: the
    whole file) should come with, most important first."""
    language = language_of(path) or ""
    shown = shown_path(path, root)
    found = _safely("definitions", lambda: definitions(language, text) if language else [])
    pieces: list[ContextPiece] = []
    if span is None:
        head = "\n".join(text.split("\n")[:FILE_LINES])
        pieces.append(ContextPiece(file_title(shown, language), head, language, "file"))
        focus, around = head, None
    else:
        start, end = span
        selected, point = selection_point(text, start, end)
        around = enclosing(found, start, point)
        focus = ""
        if selected:
            lines = whole_lines(text, start, end)
            focus = text[lines.start : lines.end]
            first = text.count("\n", 0, lines.start) + 1
            title = selection_title(shown, first, first + focus.rstrip("\n").count("\n"))
            pieces.append(ContextPiece(title, textwrap.dedent(focus), language, "selection"))
        if around is not None and not (selected and _covers(start, end, around)):
            code = text[around.target.start : around.target.end]
            title = enclosing_title(around.kind, around.name, shown, selected)
            pieces.append(ContextPiece(title, textwrap.dedent(code), language, "enclosing"))
            focus = focus or code
    names = names_nearest_first(reversed(focus.split("\n")), MAX_NAMES)  # first used first
    local = _local_definitions(text, found, names, around, shown, language)
    pieces += local
    defined_here = {p.title for p in local}
    workspace = _safely(
        "workspace definitions",
        lambda: _workspace_definitions(path, names, index, texts, root),
    )
    pieces += [p for p in workspace if p.title not in defined_here]
    return pieces


def _covers(start: int, end: int, definition: Definition) -> bool:
    """Whether the selection holds all of the definition (it is shown once, as selected)."""
    return start <= definition.target.start and definition.target.end <= end + 1


def _local_definitions(
    text: str,
    found: list[Definition],
    names: list[str],
    around: Definition | None,
    shown: str,
    language: str,
) -> list[ContextPiece]:
    """Definitions in the document itself of the names used, except the one in question."""
    pieces: list[ContextPiece] = []
    wanted = set(names)
    for definition in found:
        if definition.name not in wanted or definition == around or definition.depth > 1:
            continue
        if around is not None and (
            around.target.start <= definition.target.start < around.target.end
        ):
            continue  # shown already, inside the definition in question
        code = text[definition.target.start : definition.target.end]
        lines = code.split("\n")[:MAX_DEFINITION_LINES]
        code = textwrap.dedent("\n".join(lines))
        title = definition_title(definition.name, shown)
        pieces.append(ContextPiece(title, code, language, "definition"))
        wanted.discard(definition.name)
        if len(pieces) >= MAX_LOCAL:
            break
    return pieces


def _workspace_definitions(
    path: str, names: list[str], index: SymbolIndex, texts: FileTexts, root: str | None
) -> list[ContextPiece]:
    """Definitions from other files of the names used, chosen as for completions."""
    if not names or len(index) == 0:
        return []
    imported = imported_files(index.get(path), path, root, index)
    nearby = same_directory(path, index)
    chosen = choose_definitions(index, path, names, set(imported), nearby)[:MAX_WORKSPACE]
    lines_of: dict[str, tuple[str, ...]] = {}
    for _rank, hit in chosen:
        loaded = texts.get(hit.path)
        if loaded is not None:
            lines_of[hit.path] = loaded.lines
    pieces: list[ContextPiece] = []
    for snippet in definition_snippets(index, chosen, lines_of):
        lines = lines_of[snippet.path]
        selected = SelectedFile(snippet.path, tuple((n, lines[n]) for n in snippet.lines), 0)
        title = definition_title(snippet.name, shown_path(snippet.path, root))
        language = language_of(snippet.path) or ""
        pieces.append(ContextPiece(title, file_text(selected), language, "definition"))
    return pieces


def _safely(what: str, produce: Callable[[], list[T]]) -> list[T]:
    """Run one context source; a failure costs that source, never the answer."""
    try:
        return produce()
    except Exception:
        log.exception("chat context: %s failed; going on without it", what)
        return []
