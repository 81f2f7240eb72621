"""Context stage: definitions of the names used near the cursor, and the enclosing class.

Each identifier of the lines above the cursor (nearest first) is looked up in the workspace
index. A name defined in the current file is left to the current file; for the others, one
definition is chosen: in a file the current file imports, else in its directory, else the
first by path, unless the name is defined in so many files that a guess would mislead.
A function is shown with its leading comments or decorators and its first lines; a class as
an outline (its header and the first line of each member). When the cursor is deep inside a
class whose header has scrolled out of the window, that class's outline is proposed too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from copilot_ls.index.model import Definition, FileSymbols
from copilot_ls.index.store import IndexedDefinition, SymbolIndex

from .selection import Snippet
from .tokens import split_identifier

MAX_DEFINITIONS = 16
"""Definitions proposed per request."""
MAX_DEFINITION_LINES = 12
"""Lines of a function's definition shown (its signature and doc come first)."""
MAX_OUTLINE_LINES = 24
"""Lines of a class outline."""
MAX_HEADER_LINES = 6
"""Lines of a class before its first member shown in its outline."""
MAX_LEADING_LINES = 4
"""Comment or decorator lines just above a definition shown with it."""
AMBIGUOUS_FILES = 6
"""A name defined in more files than this is only looked up in imported or nearby files."""
CLASS_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "impl"})
VALUE_KINDS = frozenset({"variable", "field", "constant"})
"""Shown only when defined at the top of a file the current file imports: elsewhere the name
is likely unrelated. Other one-word names are not guessed from files that nothing ties to
the current one either."""
LEADING = ("#", "//", "/*", "*", "--", "@", '"""', "'''")


def choose_definitions(
    index: SymbolIndex,
    current_path: str,
    names: Sequence[str],
    imported: set[str],
    nearby: Sequence[str] = (),
) -> list[tuple[int, IndexedDefinition]]:
    """One definition, with the name's rank, for each of `names` (nearest use first) that
    is defined elsewhere and not in the current file; `imported` holds the paths the current
    file imports, `nearby` other files worth a look (its directory)."""
    current = index.get(current_path)
    local = {d.name for d in current.definitions} if current is not None else set()
    directory = current_path.rsplit("/", 1)[0]
    chosen: list[tuple[int, IndexedDefinition]] = []
    for rank, name in enumerate(names):
        files = index.definition_files(name)
        if name in local or files == 0:
            continue
        if files <= AMBIGUOUS_FILES + 1:
            hits = index.definitions(name)
        else:  # defined all over: only a definition in an imported or nearby file will do
            hits = _definitions_in(index, name, [*imported, *nearby])
        hit = _choose(hits, current_path, imported, directory)
        if hit is not None:
            chosen.append((rank, hit))
            if len(chosen) >= MAX_DEFINITIONS:
                break
    return chosen


def definition_snippets(
    index: SymbolIndex,
    chosen: Sequence[tuple[int, IndexedDefinition]],
    lines_of: Mapping[str, Sequence[str]],
) -> list[Snippet]:
    """Snippets of the `chosen` definitions whose file's lines are in `lines_of`."""
    found: list[Snippet] = []
    for rank, hit in chosen:
        if hit.path not in lines_of:
            continue
        symbols = index.get(hit.path)
        lines = definition_lines(hit.definition, symbols, lines_of[hit.path])
        if lines:
            score = 1.0 / (1 + rank)
            found.append(Snippet(hit.path, lines, "definition", score, hit.definition.name))
    return found


def _choose(
    hits: list[IndexedDefinition], current_path: str, imported: set[str], directory: str
) -> IndexedDefinition | None:
    """The definition to show among `hits`: imported, then nearby, then a lone one."""
    near = [h for h in hits if h.path in imported]
    if not near:
        prefix = directory + "/"
        near = [
            h
            for h in hits
            if h.path.startswith(prefix)
            and "/" not in h.path[len(prefix) :]
            and h.path != current_path
        ]
    if near:
        best = min(near, key=_preference)
        if best.definition.kind in VALUE_KINDS and (
            best.path not in imported or best.definition.container
        ):
            return None  # a module-level value of an imported module; not any field
        return best
    others = [h for h in hits if h.path != current_path]
    if not others or len({h.path for h in others}) > AMBIGUOUS_FILES:
        return None
    best = min(others, key=_preference)
    if best.definition.kind in VALUE_KINDS:
        return None
    if best.definition.kind not in CLASS_KINDS and len(split_identifier(best.definition.name)) < 2:
        return None  # `count`, `where`: too plain to tie to a file nothing else points to
    return best


def _definitions_in(index: SymbolIndex, name: str, paths: Sequence[str]) -> list[IndexedDefinition]:
    found: list[IndexedDefinition] = []
    for path in dict.fromkeys(paths):
        symbols = index.get(path)
        if symbols is not None:
            found.extend(IndexedDefinition(path, d) for d in symbols.definitions if d.name == name)
    return found


def _preference(hit: IndexedDefinition) -> tuple[int, str, int]:
    """Top-level definitions before members, then by path and line."""
    return (1 if hit.definition.container else 0, hit.path, hit.definition.span.start_line)


def definition_lines(
    definition: Definition, symbols: FileSymbols | None, lines: Sequence[str]
) -> tuple[int, ...]:
    """The line numbers that show `definition`: an outline for a class, else its first lines."""
    start, end = definition.span.start_line, min(definition.span.end_line + 1, len(lines))
    if start >= end:
        return ()
    lead = _leading_lines(start, lines)
    if definition.kind in CLASS_KINDS and symbols is not None:
        return lead + _outline(definition, symbols, end)
    return lead + tuple(range(start, min(end, start + MAX_DEFINITION_LINES)))


def _leading_lines(start: int, lines: Sequence[str]) -> tuple[int, ...]:
    """Comment and decorator lines right above `start`."""
    first = start
    while first > 0 and start - first < MAX_LEADING_LINES:
        above = lines[first - 1].strip()
        if not above or not above.startswith(LEADING):
            break
        first -= 1
    return tuple(range(first, start))


def _outline(definition: Definition, symbols: FileSymbols, end: int) -> tuple[int, ...]:
    """The class header and the first line of each of its members, within `end`."""
    start = definition.span.start_line
    members = sorted(
        {
            d.span.start_line
            for d in symbols.definitions
            if d.container == definition.name and start < d.span.start_line < end
        }
    )
    header_end = min(members[0] if members else end, start + MAX_HEADER_LINES)
    shown = list(range(start, header_end))
    for line in members:
        if len(shown) >= MAX_OUTLINE_LINES:
            break
        if line >= header_end:
            shown.append(line)
    return tuple(shown)


def enclosing_class_snippet(
    symbols: FileSymbols | None,
    lines: Sequence[str],
    cursor_line: int,
    window_start: int,
) -> Snippet | None:
    """The outline of the innermost class around the cursor whose header is above the window."""
    if symbols is None:
        return None
    around = [
        d
        for d in symbols.definitions
        if d.kind in CLASS_KINDS
        and d.span.start_line < window_start <= cursor_line <= d.span.end_line
        and d.span.start_line < len(lines)
        and d.name in lines[d.span.start_line]  # the index may lag behind the buffer
    ]
    if not around:
        return None
    inner = max(around, key=lambda d: d.span.start_line)
    shown = tuple(n for n in _outline(inner, symbols, window_start) if n < window_start)
    return Snippet(symbols.path, shown, "enclosing", 1.0, inner.name) if shown else None
