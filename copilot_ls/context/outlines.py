"""Context stage: outlines of the modules and classes the code at the cursor draws on.

A line that uses another file's name often reaches it through something visible above it:
a module (`constants.SSL_SHUTDOWN_TIMEOUT`, `events.get_event_loop()`), an object named after
its class (`self._loop.call_soon(...)`, `transport.write(...)`), or the class the cursor is in,
whose methods call inherited ones (`self.create_future()`). The definitions source only finds
names already written above the cursor; these outlines show the names that could come next,
one line each: the top-level definitions of each module used as `module.name`, and the header
and members of base classes and of classes an object is named after (`loop` -> `EventLoop`).

Modules resolve through the current file's imports (`from . import constants` makes
`constants` the sibling file), so a name that merely looks like a module is never guessed.
An outline is short (a tiny model reads few lines well): its entries are ranked, those the
current file already uses first, then those sharing words with the lines above the cursor,
then in file order, and shown in file order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

from copilot_ls.index.model import Definition, FileSymbols
from copilot_ls.index.store import IndexedDefinition, SymbolIndex

from .candidates import resolve_import, split_path
from .definitions import CLASS_KINDS
from .selection import Snippet
from .tokens import split_identifier, terms

MAX_MODULES = 3
"""Modules outlined per request, the one used nearest to the cursor first."""
MAX_CLASSES = 2
"""Classes (bases of the enclosing class, classes objects are named after) per request."""
MAX_ENTRIES = 8
"""Definitions listed per outline (besides a class's header)."""
RECEIVER = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z_]")
"""A name used as the receiver of an attribute: `name.attr`, not `x.name.attr`."""
OBJECT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z_]")
"""Any receiver of an attribute, `self._loop` in `self._loop.call_soon` included."""
NOT_OBJECTS = frozenset({"self", "cls", "this", "super"})
BASES = re.compile(r"\(([^)]*)\)|\b(?:extends|implements)\s+([\w.<>, ]+)")
BASE_SEPARATORS = re.compile(r"[,\s]+")
"""Base classes in a class signature: Python's parentheses, or extends/implements clauses."""
GENERIC_BASES = frozenset({"object", "Generic", "Protocol", "ABC", "Exception"})
Load = Callable[[str], Sequence[str] | None]
"""A file's lines by path (None when unreadable)."""


def receivers(lines: Sequence[str], pattern: re.Pattern[str] = RECEIVER) -> list[str]:
    """Distinct names used as `name.attr` in `lines`, the last use first."""
    found: dict[str, None] = {}
    for line in reversed(lines):
        for match in reversed(list(pattern.finditer(line))):
            name = match.group(1)
            if name not in NOT_OBJECTS:
                found.setdefault(name, None)
    return list(found)


def imports_name(text: str, name: str) -> bool:
    """Whether `text` has an import statement that names `name` (`from . import a, name`,
    also in parentheses over several lines)."""
    pattern = r"\bimport\s+(?:\([^)]*?|[^\n(]*?)(?<![\w.])" + re.escape(name) + r"\b"
    return re.search(pattern, text) is not None


def resolve_module(
    name: str,
    symbols: FileSymbols,
    current_path: str,
    root: str | None,
    index: SymbolIndex,
    text: str = "",
) -> str | None:
    """The indexed file that `name` is, as a module the current file imports: `import name`,
    `import pkg.name`, or `name` taken from an imported package (`from . import name`, which
    the index records as `.name`; for a name it leaves out, such as a capitalised one from
    another package, `text`, the current file's, must import `name`)."""
    directory, suffix = split_path(current_path)
    for module in symbols.imports:
        if module == name or module.endswith("." + name):
            spelled = module
        elif not imports_name(text, name):
            continue
        elif module.endswith("."):  # `from . import name`, `from .. import name`
            spelled = module + name
        else:  # `from pkg import name` (pkg.name may be a module)
            spelled = module + "." + name
        path = resolve_import(spelled, directory, root, suffix, index)
        if path is not None and path != current_path and not path.endswith("__init__.py"):
            return path
    return None


def ranked_entries(
    entries: Sequence[Definition], used: Collection[str], query: Collection[str], limit: int
) -> list[Definition]:
    """At most `limit` of `entries`: names in `used` first, then by words shared with
    `query`, then in file order."""

    def rank(d: Definition) -> tuple[bool, int, int]:
        shared = len(set(terms(d.name)) & set(query)) if query else 0
        return (d.name not in used, -shared, d.span.start_line)

    return sorted(entries, key=rank)[:limit]


def module_snippets(
    index: SymbolIndex,
    symbols: FileSymbols | None,
    above: Sequence[str],
    document_above: Sequence[str],
    query: Collection[str],
    load: Load,
    root: str | None = None,
) -> list[Snippet]:
    """Outlines of the modules used as `module.attr` in `above` (nearest use first). Which
    of a module's names the file uses comes from `document_above` (every line above the
    cursor); `query` holds the terms of the lines just above the cursor."""
    if symbols is None:
        return []
    found: list[Snippet] = []
    text = "\n".join(document_above)
    for rank, name in enumerate(receivers(above)):
        path = resolve_module(name, symbols, symbols.path, root, index, text)
        module = index.get(path) if path is not None else None
        lines = load(path) if path is not None and module is not None else None
        if path is None or module is None or lines is None:
            continue
        tops = [
            d
            for d in module.definitions
            if not d.container and d.span.start_line < len(lines) and not d.name.startswith("__")
        ]
        used = set(_attributes_of(name, document_above))
        shown = sorted({d.span.start_line for d in ranked_entries(tops, used, query, MAX_ENTRIES)})
        if shown:
            found.append(Snippet(path, tuple(shown), "outline", 1.0 / (1 + rank), name))
            if len(found) >= MAX_MODULES:
                break
    return found


def _attributes_of(name: str, lines: Sequence[str]) -> list[str]:
    pattern = re.compile(r"(?<![\w.])" + re.escape(name) + r"\.([A-Za-z_][A-Za-z0-9_]*)")
    return [m.group(1) for line in lines for m in pattern.finditer(line)]


def base_names(signature: str) -> list[str]:
    """The base classes a class signature names, last dotted part only, keywords left out:
    `class A(mod.B, C, metaclass=M):` gives B, C."""
    names: list[str] = []
    for match in BASES.finditer(signature.split("\n", 1)[0]):
        if match.group(1) is not None:  # Python: the first parentheses hold the bases
            parts = match.group(1).split(",")
        else:  # `extends B implements C, D`: names separated by commas and blanks
            parts = BASE_SEPARATORS.split(re.sub(r"<[^>]*>", "", match.group(2)))
        for part in parts:
            part = part.strip().split("[", 1)[0]
            if part and "=" not in part and not part.startswith("*"):
                names.append(part.rsplit(".", 1)[-1].strip())
        if match.group(1) is not None:
            break
    keywords = ("extends", "implements")
    return [n for n in names if n.isidentifier() and n not in GENERIC_BASES and n not in keywords]


def enclosing_class(symbols: FileSymbols | None, cursor_line: int) -> Definition | None:
    """The innermost class whose lines hold the line above the cursor (a cursor on a new
    line at the end of a class is past its last indexed line)."""
    if symbols is None:
        return None
    around = [
        d
        for d in symbols.definitions
        if d.kind in CLASS_KINDS and d.span.start_line < cursor_line <= d.span.end_line + 1
    ]
    return max(around, key=lambda d: d.span.start_line) if around else None


def enclosing_class_span(symbols: FileSymbols | None, cursor_line: int) -> tuple[int, int] | None:
    """First and last line of `enclosing_class`, when there is one."""
    found = enclosing_class(symbols, cursor_line)
    return (found.span.start_line, found.span.end_line) if found is not None else None


def enclosing_bases(
    index: SymbolIndex, symbols: FileSymbols | None, cursor_line: int, imported: Collection[str]
) -> list[IndexedDefinition]:
    """The base classes, defined in other files, of the innermost class around the cursor:
    the definition in an imported file, else a lone one."""
    inner = enclosing_class(symbols, cursor_line)
    if symbols is None or inner is None:
        return []
    local = {d.name for d in symbols.definitions if d.kind in CLASS_KINDS}
    found: list[IndexedDefinition] = []
    for name in base_names(inner.signature):
        if name in local:
            continue
        hits = [
            h
            for h in index.definitions(name)
            if h.definition.kind in CLASS_KINDS and h.path != symbols.path
        ]
        near = [h for h in hits if h.path in imported]
        if near or len({h.path for h in hits}) == 1:
            found.append(min(near or hits, key=lambda h: (h.path, h.definition.span.start_line)))
    return found


def named_classes(
    index: SymbolIndex,
    above: Sequence[str],
    current_path: str,
    files: Sequence[str],
) -> list[IndexedDefinition]:
    """Classes that objects used above the cursor are named after: `self._loop.stop()` and
    `loop.time()` point to a class whose name ends in `Loop`, `transport.write()` to one
    ending in `Transport`. Only classes of `files` (related files, likeliest first) count;
    among several, a public one before a private one, then the one with the shortest name
    (the most general), then the one with the most members, then the first file."""
    current = index.get(current_path)
    local = {d.name for d in current.definitions} if current is not None else set()
    classes: dict[str, list[tuple[tuple[int, ...], IndexedDefinition]]] = {}
    for order, path in enumerate(files):
        symbols = index.get(path)
        if symbols is None or path == current_path:
            continue
        members: dict[str, int] = {}
        for d in symbols.definitions:
            members[d.container] = members.get(d.container, 0) + 1
        for d in symbols.definitions:
            if d.kind in CLASS_KINDS and not d.container and d.name not in local:
                words = split_identifier(d.name)
                if words:
                    rank = (d.name.startswith("_"), len(words), -members.get(d.name, 0), order)
                    classes.setdefault(words[-1], []).append((rank, IndexedDefinition(path, d)))
    found: list[IndexedDefinition] = []
    for name in receivers(above, OBJECT):
        words = split_identifier(name)
        matches = classes.get(words[-1]) if words and len(words[-1]) >= 3 else None
        if matches:
            hit = min(matches, key=lambda m: (m[0], m[1].definition.span.start_line))[1]
            if hit not in found:
                found.append(hit)
    return found


def class_snippets(
    index: SymbolIndex,
    classes: Sequence[IndexedDefinition],
    query: Collection[str],
    load: Load,
) -> list[Snippet]:
    """Outlines of `classes`: the header line and the ranked first lines of its members."""
    found: list[Snippet] = []
    for rank, hit in enumerate(classes):
        lines = load(hit.path)
        symbols = index.get(hit.path)
        if lines is None or symbols is None:
            continue
        cls = hit.definition
        members = [
            d
            for d in symbols.definitions
            if d.container == cls.name
            and cls.span.start_line < d.span.start_line <= cls.span.end_line
            and d.span.start_line < len(lines)
            and not (d.name.startswith("__") and d.name != "__init__")
        ]
        chosen = ranked_entries(members, (), query, MAX_ENTRIES)
        shown = sorted({cls.span.start_line, *(d.span.start_line for d in chosen)})
        found.append(Snippet(hit.path, tuple(shown), "outline", 0.5 / (1 + rank), cls.name))
        if len(found) >= MAX_CLASSES:
            break
    return found
