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

A whole file is parsed and read natively when `copilot_ls.index._native` is built (see
`native.py`: the same symbols, at a fraction of the cost); an editor buffer's tree, which
py-tree-sitter keeps for incremental parsing, is read here through py-tree-sitter and settled
by `definitions.py`, whose rules the native module follows in C.
"""

from __future__ import annotations

import hashlib
import logging

from tree_sitter import Node, QueryCursor, Tree

from copilot_ls.index import definitions as defs
from copilot_ls.index import native
from copilot_ls.index.chunks import MAX_CHUNK_LINES as MAX_CHUNK_LINES  # re-exported
from copilot_ls.index.chunks import chunk_layout, chunk_lines
from copilot_ls.index.definition_text import (
    KindIds,
    comment_above,
    docstring,
    kind_ids,
    node_text,
    outer_node,
    signature,
)
from copilot_ls.index.definitions import Found, Import, Scope
from copilot_ls.index.languages import LanguageSpec, language_for_path
from copilot_ls.index.model import Definition, FileSymbols

logger = logging.getLogger(__name__)

Candidates = list[tuple[int, Found]]
"""Definitions in match order, each with the pattern that found it."""
TreeFindings = tuple[Candidates, list[Scope], list[Import]]
"""What a tree held: definitions, scopes and imports."""


def extract_file(
    path: str, data: bytes, *, mtime_ns: int = 0, use_native: bool = True
) -> FileSymbols:
    """Everything the index keeps about one file; its language is chosen from `path`.
    `use_native=False` reads the tree through py-tree-sitter even where the native module is
    built (to compare the two)."""
    content_hash = hashlib.blake2b(data, digest_size=16).hexdigest()
    source = parseable_source(data)
    spec = language_for_path(path)
    extractor = native.extractor(spec) if spec is not None and use_native else None
    if spec is not None and extractor is not None:
        try:
            read = native.read(extractor, source)
        except Exception:  # one odd file must not stop the indexing of a workspace
            logger.exception("cannot extract symbols from %s; indexing it as text", path)
            return _symbols(path, source, spec, None, mtime_ns, content_hash, len(data))
        return FileSymbols(
            path,
            spec.name,
            content_hash,
            mtime_ns,
            len(data),
            read.definitions,
            read.imports,
            read.references,
            chunk_layout(read.line_count, read.blank_lines, read.chunk_starts, read.block_lines),
        )
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
    size = len(source) if size is None else size
    language = spec.language() if spec is not None else None
    found = None
    if spec is not None and tree is not None and language is not None:
        try:
            found = _read_tree(spec, kind_ids(spec, language), tree, source)
        except Exception:  # one odd file must not stop the indexing of a workspace
            logger.exception("cannot extract symbols from %s; indexing it as text", path)
    return _symbols(path, source, spec, found, mtime_ns, content_hash, size)


def _symbols(
    path: str,
    source: bytes,
    spec: LanguageSpec | None,
    found: TreeFindings | None,
    mtime_ns: int,
    content_hash: str,
    size: int,
) -> FileSymbols:
    """The file's symbols from what its tree held, or as text when `found` is None."""
    if spec is None or found is None:
        lines = source.decode("utf-8", errors="replace").split("\n")
        chunks = chunk_lines(lines, ())
        return FileSymbols(path, "text", content_hash, mtime_ns, size, chunks=chunks)
    candidates, scopes, imports = found
    definitions, blocks = defs.settle(candidates, scopes)
    lines = source.decode("utf-8", errors="replace").split("\n")
    return FileSymbols(
        path,
        spec.name,
        content_hash,
        mtime_ns,
        size,
        tuple(
            Definition(f.name, f.kind, f.span, f.signature, f.doc, f.container) for f in definitions
        ),
        defs.imports(imports),
        defs.references(source, definitions),
        chunk_lines(lines, defs.top_level_starts(blocks), [b[2] for b in blocks]),
    )


# ---- reading the tree through py-tree-sitter ---------------------------------------------------


def _read_tree(spec: LanguageSpec, ids: KindIds, tree: Tree, source: bytes) -> TreeFindings:
    """One pass of the language's outline query (tags and imports) down to `spec.max_depth`:
    the definitions, the scopes and the imports (see `definitions.import_member` for
    `@import.member`)."""
    queries = spec.outline_queries()
    if queries is None:
        return [], [], []
    cursor = QueryCursor(queries.query)
    if spec.max_depth is not None:
        cursor.set_max_start_depth(spec.max_depth)
    candidates: Candidates = []
    scopes: list[Scope] = []
    imports: list[Import] = []
    roles, kinds = queries.pattern_kinds, queries.definition_kinds
    ascii_only = source.isascii()
    for pattern, captures in cursor.matches(tree.root_node):
        if roles[pattern] != "tags":
            imports += ((n.start_byte, node_text(n)) for n in captures.get("import", ()))
            if "import.member" in captures:
                member = captures["import.member"][0]
                found = defs.import_member(
                    node_text(captures["import.package"][0]), node_text(member), member.start_byte
                )
                if found is not None:
                    imports.append(found)
            continue
        kind = kinds[pattern]
        if not kind:
            if "scope" in captures and "scope.name" in captures:
                name = node_text(captures["scope.name"][0])
                scopes.append(_scope(ids, captures["scope"][0], name))
            continue
        names = captures.get("name")
        if names is not None:
            candidates.append((pattern, _found(ids, captures, names[0], kind, source, ascii_only)))
    return candidates, scopes, imports


def _found(
    ids: KindIds,
    captures: dict[str, list[Node]],
    name: Node,
    kind: str,
    source: bytes,
    ascii_only: bool,
) -> Found:
    """One tags match as a definition, its container not yet known. Every node property is
    read once (each read costs), and only here."""
    node = captures["definition." + kind][0]
    outer = outer_node(ids, node) if ids.wrappers else node
    (start_row, start_col), (end_row, end_col) = node.start_point, node.end_point
    outer_row = start_row if outer is node else outer.start_point[0]
    docs = captures.get("doc")
    doc, doc_line = docstring(docs[0]) if docs else comment_above(ids, outer, outer_row)
    head = outer if outer is not node and outer_row == start_row else node
    return defs.found(
        source,
        ascii_only,
        kind,
        (name.start_byte, name.end_byte),
        (node.start_byte, node.end_byte),
        (start_row, start_col, end_row, end_col),
        lambda final_kind: signature(ids, node, head, final_kind, source),
        doc,
        node_text(captures["container"][0]) if "container" in captures else "",
        doc_line if doc_line >= 0 else outer_row,
    )


def _scope(ids: KindIds, scope: Node, name: str) -> Scope:
    outer = outer_node(ids, scope)
    doc_line = comment_above(ids, outer, outer.start_point[0])[1]
    start = doc_line if doc_line >= 0 else scope.start_point[0]
    return (scope.start_byte, scope.end_byte, start, name)
