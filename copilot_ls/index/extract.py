"""Index stage: turn one file's bytes into `FileSymbols` (definitions, imports, references, chunks).

The file is parsed once with its language's tree-sitter grammar and the compiled outline
queries from `grammars/<language>/` are run over the top of the tree (down to the language's
`max_depth`, which spares the cursor every function body): `tags.scm` captures
`@definition.<kind>` with its `@name` (and optionally `@doc`, a docstring, and `@container`, an
explicit owner such as a Go method's receiver), where the kind `assignment` means a constant
when the name is UPPER_CASE and a variable otherwise; `@scope` with `@scope.name` marks a container
that is not itself a definition (a Rust `impl`); `imports.scm` captures `@import`. References
are the identifier-like words of the text (a byte table and a split, no tree walk), less the
definitions' own names. Files in no known language, or whose grammar is missing, are indexed as
"text": chunks only.
"""

from __future__ import annotations

import hashlib
import logging
import re
import string
from dataclasses import dataclass
from itertools import pairwise
from operator import attrgetter, itemgetter
from sys import intern

from tree_sitter import Node, QueryCursor, Tree

from copilot_ls.index.chunks import MAX_CHUNK_LINES as MAX_CHUNK_LINES  # re-exported
from copilot_ls.index.chunks import chunk_lines
from copilot_ls.index.definition_text import (
    KindIds,
    comment_above,
    docstring,
    kind_ids,
    node_text,
    outer_node,
    signature,
)
from copilot_ls.index.languages import LanguageSpec, language_for_path
from copilot_ls.index.model import NO_REFERENCES, Definition, FileSymbols, References, Span

logger = logging.getLogger(__name__)


_CLASS_LIKE = frozenset({"class", "struct", "interface", "trait", "enum", "impl"})
_CONTAINERS = _CLASS_LIKE | {"module"}
_WORD_BYTES = bytes(
    byte if byte >= 0x80 or chr(byte) in string.ascii_letters + string.digits + "_" else 0x20
    for byte in range(256)
)
"""`bytes.translate` table keeping identifier bytes (ASCII letters, digits, `_` and every
non-ASCII byte, as letters of UTF-8 characters) and turning every other byte into a space."""
_CONSTANT_NAME = re.compile(r"_*[A-Z][A-Z0-9_]*").fullmatch
"""A constant's name by convention, for `@definition.assignment` (see the module docstring)."""
_NUMBERS = re.compile(rb"\n[0-9][^\n]*")
"""Words that start with a digit, each after the newline that joins it to the one before."""


@dataclass(slots=True)
class _Found:
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


_Block = tuple[int, int, int, str]
"""A stretch of the tree that chunks should not cut through if they can help it: start byte,
end byte, first line (counting the doc comment above) and kind."""


def extract_file(path: str, data: bytes, *, mtime_ns: int = 0) -> FileSymbols:
    """Everything the index keeps about one file; its language is chosen from `path`."""
    content_hash = hashlib.blake2b(data, digest_size=16).hexdigest()
    source = parseable_source(data)
    spec = language_for_path(path)
    parser = spec.parser() if spec is not None else None
    tree = None
    if spec is not None and parser is not None:
        try:
            tree = parser.parse(source)
        except Exception:  # one odd file must not stop the indexing of a workspace
            logger.exception("cannot parse %s; indexing it as text", path)
    return symbols_from_tree(
        path, source, tree, spec, mtime_ns=mtime_ns, content_hash=content_hash, size=len(data)
    )


def extract_text(path: str, text: str, *, mtime_ns: int = 0) -> FileSymbols:
    """`extract_file` for a document already in memory (an editor buffer)."""
    return extract_file(path, text.encode("utf-8", errors="surrogatepass"), mtime_ns=mtime_ns)


def parseable_source(data: bytes) -> bytes:
    """What the parsers read: `data` without a BOM (no text, and the parsers trip on it), with
    invalid UTF-8 repaired so that every node decodes cleanly."""
    source = data.removeprefix(b"\xef\xbb\xbf")
    if source.isascii():  # most source files: valid as they are, and cheap to check
        return source
    try:
        source.decode("utf-8")
    except UnicodeDecodeError:
        source = source.decode("utf-8", errors="replace").encode("utf-8")
    return source


def symbols_from_tree(
    path: str,
    source: bytes,
    tree: Tree | None,
    spec: LanguageSpec | None,
    *,
    mtime_ns: int,
    content_hash: str,
    size: int | None = None,
) -> FileSymbols:
    """`FileSymbols` of `source` (valid UTF-8, see `parseable_source`) already parsed into
    `tree` with `spec`'s grammar; without a tree or a spec the file is indexed as text."""
    lines = source.decode("utf-8", errors="replace").split("\n")
    size = len(source) if size is None else size
    language = spec.language() if spec is not None else None
    if spec is not None and tree is not None and language is not None:
        try:
            ids = kind_ids(spec, language)
            tags, import_nodes = _run_queries(spec, tree)
            found, blocks = _find_definitions(spec, ids, tags, source)
            definitions = [
                Definition(f.name, f.kind, f.span, f.signature, f.doc, f.container) for f in found
            ]
            return FileSymbols(
                path,
                spec.name,
                content_hash,
                mtime_ns,
                size,
                tuple(definitions),
                _imports(import_nodes),
                _references(source, found),
                chunk_lines(lines, _top_level_starts(blocks), [b[2] for b in blocks]),
            )
        except Exception:  # one odd file must not stop the indexing of a workspace
            logger.exception("cannot extract symbols from %s; indexing it as text", path)
    return FileSymbols(path, "text", content_hash, mtime_ns, size, chunks=chunk_lines(lines, ()))


# ---- definitions -------------------------------------------------------------------------------


_Match = tuple[int, dict[str, list[Node]]]
_Import = tuple[int, str]
"""An import as written, and where: start byte, text."""


def _run_queries(spec: LanguageSpec, tree: Tree) -> tuple[list[_Match], list[_Import]]:
    """One pass of the language's outline query (tags and imports) down to `spec.max_depth`:
    the definitions' matches and the imports (see `_import_member` for `@import.member`)."""
    queries = spec.outline_queries()
    if queries is None:
        return [], []
    cursor = QueryCursor(queries.query)
    if spec.max_depth is not None:
        cursor.set_max_start_depth(spec.max_depth)
    tags: list[_Match] = []
    imports: list[_Import] = []
    kinds = queries.pattern_kinds
    for match in cursor.matches(tree.root_node):
        if kinds[match[0]] == "tags":
            tags.append(match)
            continue
        captures = match[1]
        imports += ((n.start_byte, node_text(n)) for n in captures.get("import", ()))
        if "import.member" in captures:
            member = _import_member(captures["import.package"][0], captures["import.member"][0])
            if member is not None:
                imports.append(member)
    return tags, imports


def _import_member(package: Node, member: Node) -> _Import | None:
    """A name imported from a package (`from . import events`) as a module path (`.events`):
    every name of a relative package, only lower-case names of another (`from app import
    models`, not `from typing import Any`), as modules are named in Python."""
    prefix, name = node_text(package), node_text(member)
    if prefix.strip("."):
        if not name[:1].islower():
            return None
        prefix += "."
    return (member.start_byte, prefix + name)


def _find_definitions(
    spec: LanguageSpec, ids: KindIds, tags: list[_Match], source: bytes
) -> tuple[list[_Found], list[_Block]]:
    """The definitions, sorted by position, and every block that chunking should respect."""
    queries = spec.outline_queries()
    if queries is None:
        return [], []
    kinds = queries.definition_kinds
    ascii_only = source.isascii()
    claimed: dict[int, tuple[int, _Found]] = {}  # name node start -> (pattern, definition)
    scopes: list[tuple[Node, str]] = []  # containers that are not definitions, and their names
    for pattern, captures in tags:
        kind = kinds[pattern]
        if not kind:
            if "scope" in captures and "scope.name" in captures:
                scopes.append((captures["scope"][0], node_text(captures["scope.name"][0])))
            continue
        names = captures.get("name")
        if names is None:
            continue
        name = names[0]
        earlier = claimed.get(name.start_byte)
        if earlier is not None and earlier[0] <= pattern:
            continue  # an earlier, more specific pattern already claimed this name
        found = _found(ids, captures, name, kind, source, ascii_only)
        claimed[name.start_byte] = (pattern, found)
    found_all = sorted((f for _, f in claimed.values()), key=attrgetter("start_byte"))
    _resolve_containers(found_all, scopes)
    blocks = [(f.start_byte, f.end_byte, f.block_line, f.kind) for f in found_all]
    if scopes:
        blocks = [_scope_block(ids, scope) for scope, _ in scopes] + blocks
        blocks.sort(key=itemgetter(0))  # else already sorted, as `found_all` is
    return found_all, blocks


def _found(
    ids: KindIds,
    captures: dict[str, list[Node]],
    name: Node,
    kind: str,
    source: bytes,
    ascii_only: bool,
) -> _Found:
    """One tags match as a definition, its container not yet known. Every node property is
    read once (each read costs), and only here."""
    node = captures["definition." + kind][0]
    name_start, name_end = name.start_byte, name.end_byte
    # Interned, as snapshot loads do: one string per name across the whole index.
    name_text = intern(source[name_start:name_end].decode("utf-8", errors="replace"))
    if kind == "assignment":
        kind = "constant" if _CONSTANT_NAME(name_text) else "variable"
    outer = outer_node(ids, node) if ids.wrappers else node
    start_byte, end_byte = node.start_byte, node.end_byte
    (start_row, start_col), (end_row, end_col) = node.start_point, node.end_point
    outer_row = start_row if outer is node else outer.start_point[0]
    docs = captures.get("doc")
    doc, doc_line = docstring(docs[0]) if docs else comment_above(ids, outer, outer_row)
    if not ascii_only:  # tree-sitter counts bytes, the model code points
        start_col = len(source[start_byte - start_col : start_byte].decode(errors="replace"))
        end_col = len(source[end_byte - end_col : end_byte].decode(errors="replace"))
    head = outer if outer is not node and outer_row == start_row else node
    return _Found(
        name_text,
        kind,
        Span(start_row, start_col, end_row, end_col),
        signature(ids, node, head, kind, source),
        doc,
        node_text(captures["container"][0]) if "container" in captures else "",
        start_byte,
        end_byte,
        name_start,
        name_end,
        doc_line if doc_line >= 0 else outer_row,
    )


def _scope_block(ids: KindIds, scope: Node) -> _Block:
    outer = outer_node(ids, scope)
    doc_line = comment_above(ids, outer, outer.start_point[0])[1]
    start = doc_line if doc_line >= 0 else scope.start_point[0]
    return (scope.start_byte, scope.end_byte, start, "impl")


def _resolve_containers(found: list[_Found], scopes: list[tuple[Node, str]]) -> None:
    """Name each definition's nearest enclosing class-like definition or scope, unless a
    function lies in between; a method outside any class becomes a function and a function in
    a class a method. Nesting is read from byte ranges, cheaper than walking up the tree."""
    items: list[tuple[int, int, _Found | str]]
    if not scopes and all(a.start_byte < b.start_byte for a, b in pairwise(found)):
        items = [(f.start_byte, f.end_byte, f) for f in found]  # already outer before inner
    else:
        ordered: list[tuple[int, int, int, _Found | str]] = [
            (node.start_byte, -node.end_byte, 0, name) for node, name in scopes
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


def _top_level_starts(blocks: list[_Block]) -> list[int]:
    """First lines of the blocks not nested in another one (small variables excepted)."""
    starts, covered_to = [], -1
    for start_byte, end_byte, start_line, kind in blocks:  # sorted by start
        if start_byte >= covered_to and kind not in ("variable", "constant", "field"):
            starts.append(start_line)
            covered_to = end_byte
    return starts


# ---- imports and references --------------------------------------------------------------------


def _imports(found: list[_Import]) -> tuple[str, ...]:
    """Imported names in file order, without quotes or angle brackets, each once."""
    seen: dict[str, None] = {}
    for _, text in sorted(found, key=itemgetter(0)):
        name = text.strip("\"'`<>")
        if name:
            seen.setdefault(name, None)
    return tuple(seen)


def _references(source: bytes, found: list[_Found]) -> References:
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
