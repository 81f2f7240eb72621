"""Index stage: turn one file's bytes into `FileSymbols` (definitions, imports, references, chunks).

The file is parsed once with its language's tree-sitter grammar and the compiled queries from
`grammars/<language>/` are run over the tree: `tags.scm` captures `@definition.<kind>` with its
`@name` (and optionally `@doc`, a docstring, and `@container`, an explicit owner such as a Go
method's receiver); `@scope` with `@scope.name` marks a container that is not itself a definition
(a Rust `impl`); `imports.scm` captures `@import`; `references.scm` captures `@reference.*`.
Files in no known language, or whose grammar is missing, are indexed as "text": chunks only.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import re
from dataclasses import dataclass, replace
from sys import intern

from tree_sitter import Node, QueryCursor, Tree

from copilot_ls.index.chunks import MAX_CHUNK_LINES as MAX_CHUNK_LINES  # re-exported
from copilot_ls.index.chunks import chunk_lines
from copilot_ls.index.languages import LanguageSpec, language_for_path
from copilot_ls.index.model import Definition, FileSymbols, Span

logger = logging.getLogger(__name__)

MAX_SIGNATURE_CHARS = 200

_CLASS_LIKE = frozenset({"class", "struct", "interface", "trait", "enum", "impl"})
_CONTAINERS = _CLASS_LIKE | {"module"}
_BODY_TYPES = frozenset(
    "block statement_block class_body compound_statement declaration_list field_declaration_list"
    " enum_body enum_variant_list interface_body body_statement".split()
)
_COMMENT_MARKERS = re.compile(r"^\s*(?:/\*+!?|\*/|\*(?!/)|//[/!]?|#+|--)\s?")
_XML_DOC_TAGS = re.compile(r"</?(?:summary|remarks|returns|para)>")
_STRING_QUOTES = re.compile(r"^[rRbBuUfF]*(\"\"\"|'''|\"|')(.*)\1$", re.DOTALL)


@dataclass(slots=True)
class _Found:
    """A definition as the tags query found it, before its container is known."""

    node: Node
    name: str
    name_start: int
    kind: str
    doc: str
    container: str
    outer: Node
    """The definition with its decorators and wrappers (`export`, `template<...>`)."""
    outer_start_line: int
    """First line of `outer` or of the doc comment above it."""


@dataclass(slots=True)
class _Block:
    """A stretch of the tree that chunks should not cut through if they can help it."""

    start_byte: int
    end_byte: int
    start_line: int
    """First line, counting the doc comment above."""
    kind: str


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
    text = source.decode("utf-8", errors="replace")
    base = FileSymbols(path, "text", content_hash, mtime_ns, len(source) if size is None else size)
    lines = text.split("\n")
    if spec is None or tree is None:
        return replace(base, chunks=chunk_lines(lines, ()))
    try:
        tags, import_nodes, reference_nodes = _run_queries(spec, tree)
        found, blocks = _find_definitions(spec, tags)
        ascii_only = source.isascii()
        return replace(
            base,
            language=spec.name,
            definitions=tuple(_definition(f, source, ascii_only) for f in found),
            imports=_imports(import_nodes),
            references=_references(reference_nodes, {f.name_start for f in found}),
            chunks=chunk_lines(lines, _top_level_starts(blocks), [b.start_line for b in blocks]),
        )
    except Exception:  # one odd file must not stop the indexing of a workspace
        logger.exception("cannot extract symbols from %s; indexing it as text", path)
        return replace(base, chunks=chunk_lines(lines, ()))


# ---- definitions -------------------------------------------------------------------------------


_Match = tuple[int, dict[str, list[Node]]]


def _run_queries(spec: LanguageSpec, tree: Tree) -> tuple[list[_Match], list[Node], list[Node]]:
    """One pass of the language's combined query: tags matches, import and reference nodes."""
    queries = spec.queries()
    if queries is None:
        return [], [], []
    tags: list[_Match] = []
    imports: list[Node] = []
    references: list[Node] = []
    kinds, reference_names = queries.pattern_kinds, queries.reference_captures
    # This loop sees every match of every file (most are references), so it stays minimal.
    for match in QueryCursor(queries.query).matches(tree.root_node):
        kind = kinds[match[0]]
        if kind == "references":
            for name, nodes in match[1].items():
                if name in reference_names:
                    references += nodes
        elif kind == "tags":
            tags.append(match)
        else:
            imports += match[1].get("import", ())
    return tags, imports, references


def _find_definitions(spec: LanguageSpec, tags: list[_Match]) -> tuple[list[_Found], list[_Block]]:
    """The definitions, sorted by position, and every block that chunking should respect."""
    claimed: dict[int, tuple[int, _Found]] = {}  # name node start -> (pattern, definition)
    scopes: dict[int, tuple[str, str]] = {}  # node id -> (container name, kind)
    blocks: list[_Block] = []
    for pattern, captures in tags:
        if "scope" in captures and "scope.name" in captures:
            scope = captures["scope"][0]
            scopes[scope.id] = (_text(captures["scope.name"][0]), "impl")
            doc_line = _comment_above(spec, _outer(spec, scope))[1]
            start = doc_line if doc_line >= 0 else scope.start_point.row
            blocks.append(_Block(scope.start_byte, scope.end_byte, start, "impl"))
            continue
        # Interned, as snapshot loads do: one string per kind and name across the whole index.
        kind = next((intern(c[11:]) for c in captures if c.startswith("definition.")), None)
        if kind is None or "name" not in captures:
            continue
        name = captures["name"][0]
        if name.start_byte in claimed and claimed[name.start_byte][0] <= pattern:
            continue  # an earlier, more specific pattern already claimed this name
        node = captures["definition." + kind][0]
        outer = _outer(spec, node)
        docs = captures.get("doc")
        doc, doc_line = _docstring(docs[0]) if docs else _comment_above(spec, outer)
        start = doc_line if doc_line >= 0 else outer.start_point.row
        owner = _text(captures["container"][0]) if "container" in captures else ""
        found = _Found(node, intern(_text(name)), name.start_byte, kind, doc, owner, outer, start)
        claimed[name.start_byte] = (pattern, found)
    found_all = sorted((f for _, f in claimed.values()), key=lambda f: f.node.start_byte)
    for f in found_all:
        if f.kind in _CONTAINERS:
            scopes.setdefault(f.node.id, (f.name, f.kind))
    functions = {f.node.id for f in found_all if f.kind in ("function", "method")}
    for f in found_all:
        _resolve_container(f, scopes, functions)
        blocks.append(_Block(f.node.start_byte, f.node.end_byte, f.outer_start_line, f.kind))
    blocks.sort(key=lambda b: b.start_byte)
    return found_all, blocks


def _resolve_container(f: _Found, scopes: dict[int, tuple[str, str]], functions: set[int]) -> None:
    """Name the nearest enclosing class-like definition; a function in between hides it."""
    container_kind = "class" if f.container else ""
    parent = f.node.parent
    while not f.container and parent is not None:
        if parent.id in scopes:
            f.container, container_kind = scopes[parent.id]
        elif parent.id in functions:
            break
        parent = parent.parent
    if f.kind == "method" and not f.container:
        f.kind = "function"
    elif f.kind == "function" and container_kind in _CLASS_LIKE:
        f.kind = "method"


def _outer(spec: LanguageSpec, node: Node) -> Node:
    """The node with its wrappers (decorators, `export`, `template<...>`) around it; in a group
    (Go's `const (...)`) only the first member takes the group's wrapper and doc comment."""
    parent = node.parent
    while parent is not None and parent.type in spec.wrappers:
        before = node.prev_named_sibling
        if before is not None and before.type == node.type:
            break
        node, parent = parent, parent.parent
    return node


def _comment_above(spec: LanguageSpec, node: Node) -> tuple[str, int]:
    """The comment block ending on the line just above `node` and its first line, or ("", -1)."""
    comments: list[Node] = []
    next_row = node.start_point.row
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type in spec.skip_above:
        next_row, sibling = sibling.start_point.row, sibling.prev_named_sibling
    while sibling is not None and "comment" in sibling.type:
        if _end_row(sibling) < next_row - 1:
            break
        before = sibling.prev_sibling
        if before is not None and _end_row(before) == sibling.start_point.row:
            break  # a trailing comment of the line above, not a doc comment
        comments.append(sibling)
        next_row, sibling = sibling.start_point.row, sibling.prev_named_sibling
    if not comments:
        return "", -1
    comments.reverse()
    raw = "\n".join(_text(c).rstrip() for c in comments if not _text(c).startswith("#!"))
    return _strip_comment(raw), comments[0].start_point.row


def _end_row(node: Node) -> int:
    """The last line `node` covers (a Rust line comment ends at column 0 of the next one)."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point.row else row


def _strip_comment(raw: str) -> str:
    lines = []
    for line in raw.splitlines():
        line = line.rstrip()
        if line.endswith("*/"):
            line = line[:-2].rstrip()
        line = _XML_DOC_TAGS.sub("", _COMMENT_MARKERS.sub("", line, count=1))
        lines.append(line.rstrip())
    return inspect.cleandoc("\n".join(lines))


def _docstring(node: Node) -> tuple[str, int]:
    raw = _text(node)
    match = _STRING_QUOTES.match(raw)
    return inspect.cleandoc(match.group(2) if match else raw), -1


def _definition(f: _Found, source: bytes, ascii_only: bool) -> Definition:
    node = f.node
    (start_row, start_col), (end_row, end_col) = node.start_point, node.end_point
    if not ascii_only:  # tree-sitter counts bytes, the model code points
        start_col = len(
            source[node.start_byte - start_col : node.start_byte].decode(errors="replace")
        )
        end_col = len(source[node.end_byte - end_col : node.end_byte].decode(errors="replace"))
    return Definition(
        name=f.name,
        kind=f.kind,
        span=Span(start_row, start_col, end_row, end_col),
        signature=_signature(node, f.outer, f.kind, source),
        doc=f.doc,
        container=f.container,
    )


def _signature(node: Node, outer: Node, kind: str, source: bytes) -> str:
    """The definition's text up to its body, on one line, without comments. A wrapper that
    starts on the same line (`export`, Go's `type`) is kept."""
    body = node.child_by_field_name("body")
    if body is None:
        body = next((c for c in node.children if c.type in _BODY_TYPES), None)
    if outer.start_point.row == node.start_point.row:
        node = outer
    start = node.start_byte
    if body is not None and body.start_byte > start:
        head = source[start : body.start_byte].rstrip()
        if b"\n" in head:
            head = _without_comments(node, body.start_byte, source)
    else:
        line_end = source.find(b"\n", start, node.end_byte)
        head = source[start : node.end_byte if line_end < 0 else line_end].rstrip()
        if kind not in ("variable", "constant", "field"):
            head = head.removesuffix(b"{")
    text = " ".join(head.decode("utf-8", errors="replace").split())
    text = text.replace("( ", "(").replace(" )", ")")
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[: MAX_SIGNATURE_CHARS - 1] + "…"
    return text


def _without_comments(node: Node, stop: int, source: bytes) -> bytes:
    """`source` from `node`'s start up to `stop` with every comment inside cut out."""
    cuts: list[tuple[int, int]] = []
    pending = [c for c in node.children if c.start_byte < stop]
    while pending:
        child = pending.pop()
        if "comment" in child.type:
            cuts.append((child.start_byte, child.end_byte))
        else:
            pending.extend(child.children)
    pieces, at = [], node.start_byte
    for begin, end in sorted(cuts):
        pieces.append(source[at:begin])
        at = end
    pieces.append(source[at:stop])
    return b" ".join(pieces)


def _top_level_starts(blocks: list[_Block]) -> list[int]:
    """First lines of the blocks not nested in another one (small variables excepted)."""
    starts, covered_to = [], -1
    for b in blocks:  # sorted by start
        if b.start_byte >= covered_to and b.kind not in ("variable", "constant", "field"):
            starts.append(b.start_line)
            covered_to = b.end_byte
    return starts


# ---- imports and references --------------------------------------------------------------------


def _imports(nodes: list[Node]) -> tuple[str, ...]:
    """Imported names in file order, without quotes or angle brackets, each once."""
    seen: dict[str, None] = {}
    for node in sorted(nodes, key=lambda n: n.start_byte):
        name = _text(node).strip("\"'`<>")
        if name:
            seen.setdefault(name, None)
    return tuple(seen)


def _references(nodes: list[Node], declared: set[int]) -> frozenset[str]:
    """Referenced names, except the name nodes of definitions (`declared` holds their start
    bytes), so that queries may capture every type identifier."""
    # Deduplicated as bytes first: a file references far fewer names than it has references.
    names = {n.text for n in nodes if n.start_byte not in declared}
    return frozenset(name.decode("utf-8", errors="replace") for name in names if name)


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")
