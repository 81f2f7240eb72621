"""Index stage: what extraction makes of the definitions, imports and words it found in a file:
one definition per name, each with its container, the blocks that chunks respect, the
imports in file order and the references. The py-tree-sitter path (`extract.py`) settles
here; native extraction does the same in C (`_native_settle.c`, `_native_text.c`) and uses
`import_member` and `imports`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise
from operator import attrgetter, itemgetter
from sys import intern

from copilot_ls.index.model import NO_REFERENCES, References, Span

_CLASS_LIKE = frozenset({"class", "struct", "interface", "trait", "enum", "impl"})
_CONTAINERS = _CLASS_LIKE | {"module"}
_WORD_BYTES = bytes(
    byte if byte >= 0x80 or chr(byte) in string.ascii_letters + string.digits + "_" else 0x20
    for byte in range(256)
)
"""`bytes.translate` table keeping identifier bytes (ASCII letters, digits, `_` and every
non-ASCII byte, as letters of UTF-8 characters) and turning every other byte into a space."""
constant_name = re.compile(r"_*[A-Z][A-Z0-9_]*").fullmatch
"""A constant's name by convention, for `@definition.assignment` (see `extract.py`)."""
_NUMBERS = re.compile(rb"\n[0-9][^\n]*")
"""Words that start with a digit, each after the newline that joins it to the one before."""


@dataclass(slots=True)
class Found:
    """A definition as the tags query found it: everything but its container (and so whether
    it is a function or a method) is known."""

    name: str
    kind: str
    span: Span
    signature: str
    doc: str
    container: str
    start_byte: int
    end_byte: int
    name_start: int
    name_end: int
    block_line: int
    """First line of the definition with its wrappers (decorators, `export`), or of the doc
    comment above them: where its chunk should start."""


Scope = tuple[int, int, int, str]
"""A container that is not a definition (a Rust `impl`): start byte, end byte, first line
(counting the doc comment above) and name."""
Block = tuple[int, int, int, str]
"""A stretch of the tree that chunks should not cut through if they can help it: start byte,
end byte, first line (counting the doc comment above) and kind."""
Import = tuple[int, str]
"""An import as written, and where: start byte, text."""


def found(
    source: bytes,
    ascii_only: bool,
    kind: str,
    name_range: tuple[int, int],
    byte_range: tuple[int, int],
    points: tuple[int, int, int, int],
    signature: Callable[[str], str],
    doc: str,
    container: str,
    block_line: int,
) -> Found:
    """One definition from what the tree says of it: its name's and its own byte ranges, its
    start and end as (row, byte column) points, its signature (a function of its kind), doc
    and explicit container."""
    name_start, name_end = name_range
    start_byte, end_byte = byte_range
    start_row, start_col, end_row, end_col = points
    # Interned, as snapshot loads do: one string per name across the whole index.
    name_text = intern(source[name_start:name_end].decode("utf-8", errors="replace"))
    if kind == "assignment":
        kind = "constant" if constant_name(name_text) else "variable"
    if not ascii_only:  # tree-sitter counts bytes, the model code points
        start_col = len(source[start_byte - start_col : start_byte].decode(errors="replace"))
        end_col = len(source[end_byte - end_col : end_byte].decode(errors="replace"))
    return Found(
        name_text,
        kind,
        Span(start_row, start_col, end_row, end_col),
        signature(kind),
        doc,
        container,
        start_byte,
        end_byte,
        name_start,
        name_end,
        block_line,
    )


def settle(
    candidates: Iterable[tuple[int, Found]], scopes: list[Scope]
) -> tuple[list[Found], list[Block]]:
    """The definitions (from (pattern, definition) pairs in match order), one per name (the
    earliest, most specific pattern's), sorted by position, with their containers; and every
    block that chunking should respect."""
    claimed: dict[int, tuple[int, Found]] = {}  # name start -> (pattern, definition)
    for pattern, candidate in candidates:
        earlier = claimed.get(candidate.name_start)
        if earlier is None or earlier[0] > pattern:
            claimed[candidate.name_start] = (pattern, candidate)
    found_all = sorted((f for _, f in claimed.values()), key=attrgetter("start_byte"))
    _resolve_containers(found_all, scopes)
    blocks = [(f.start_byte, f.end_byte, f.block_line, f.kind) for f in found_all]
    if scopes:
        blocks = [(start, end, line, "impl") for start, end, line, _ in scopes] + blocks
        blocks.sort(key=itemgetter(0))  # else already sorted, as `found_all` is
    return found_all, blocks


def _resolve_containers(found: list[Found], scopes: list[Scope]) -> None:
    """Name each definition's nearest enclosing class-like definition or scope, unless a
    function lies in between; a method outside any class becomes a function and a function in
    a class a method. Nesting is read from byte ranges, cheaper than walking up the tree."""
    items: list[tuple[int, int, Found | str]]
    if not scopes and all(a.start_byte < b.start_byte for a, b in pairwise(found)):
        items = [(f.start_byte, f.end_byte, f) for f in found]  # already outer before inner
    else:
        ordered: list[tuple[int, int, int, Found | str]] = [
            (start, -end, 0, name) for start, end, _, name in scopes
        ]
        ordered += [(f.start_byte, -f.end_byte, 1, f) for f in found]
        ordered.sort(key=lambda item: item[:3])  # outer before inner, scopes before definitions
        items = [(start, -negative_end, item) for start, negative_end, _, item in ordered]
    stack: list[tuple[int, str | None, str]] = []  # (end byte, container name or None, kind)
    for start, end, item in items:
        while stack and (stack[-1][0] < end or stack[-1][0] <= start):
            stack.pop()  # ends before this item does: not around it
        if isinstance(item, str):
            stack.append((end, item, "impl"))
            continue
        container_kind = "class" if item.container else ""
        if not item.container and stack and stack[-1][1] is not None:
            item.container, container_kind = stack[-1][1], stack[-1][2]
        if item.kind in _CONTAINERS:
            stack.append((end, item.name, item.kind))
        elif item.kind in ("function", "method"):
            stack.append((end, None, item.kind))
        if item.kind == "method" and not item.container:
            item.kind = "function"
        elif item.kind == "function" and container_kind in _CLASS_LIKE:
            item.kind = "method"


def top_level_starts(blocks: list[Block]) -> list[int]:
    """First lines of the blocks not nested in another one (small variables excepted)."""
    starts, covered_to = [], -1
    for start_byte, end_byte, start_line, kind in blocks:  # sorted by start
        if start_byte >= covered_to and kind not in ("variable", "constant", "field"):
            starts.append(start_line)
            covered_to = end_byte
    return starts


def import_member(package: str, member: str, member_start: int) -> Import | None:
    """A name imported from a package (`from . import events`) as a module path (`.events`):
    every name of a relative package, only lower-case names of another (`from app import
    models`, not `from typing import Any`), as modules are named in Python."""
    if package.strip("."):
        if not member[:1].islower():
            return None
        package += "."
    return (member_start, package + member)


def imports(found: list[Import]) -> tuple[str, ...]:
    """Imported names in file order, without quotes or angle brackets, each once."""
    seen: dict[str, None] = {}
    for _, text in sorted(found, key=itemgetter(0)):
        name = text.strip("\"'`<>")
        if name:
            seen.setdefault(name, None)
    return tuple(seen)


def references(source: bytes, found: list[Found]) -> References:
    """The identifiers `source` uses: every identifier-like word but the definitions' own
    names (a name also used elsewhere in the file is kept). Read from the text, not the tree:
    a reference query would walk every node of every function body, as costly as a quarter of
    the parse."""
    pieces, at = [], 0
    for start, end in sorted((f.name_start, f.name_end) for f in found):
        if start >= at:
            pieces.append(source[at:start])
            at = end
    pieces.append(source[at:])
    words = set(b" ".join(pieces).translate(_WORD_BYTES).split())
    if not words:
        return NO_REFERENCES
    # Numbers out in one pass over the joined words; words never split a UTF-8 character
    # (every non-ASCII byte is a word byte), so the blob is valid UTF-8 as `source` is.
    return References(_NUMBERS.sub(b"", b"\n" + b"\n".join(words))[1:])
