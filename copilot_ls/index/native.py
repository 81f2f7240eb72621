"""Index stage: extraction through the native module `copilot_ls.index._native`, when it is built.

The module (`_native.c`) parses a whole file with a tree-sitter runtime of its own and runs the
language's outline query, reading every node property extraction needs in C; this module turns
its plain tuples into what `definitions.py` settles, with the same text rules as the
py-tree-sitter path (`definition_text.py`). Both must produce the same symbols:
`tests/unit/test_native_extract.py` compares them file by file.

Without the module (no C compiler or runtime source at install, see setup.py), or with
`COPILOT_LS_NATIVE_INDEX=0`, `extractor` returns None and `extract.py` reads the tree through
py-tree-sitter. A grammar or query the module cannot take (an ABI it does not know, a
predicate it does not evaluate) is logged once and read through py-tree-sitter too.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from copilot_ls.index import definitions as defs
from copilot_ls.index.definition_text import comment_text, docstring_text, kind_ids, signature_text
from copilot_ls.index.definitions import Found, Import, Scope
from copilot_ls.index.languages import LanguageSpec
from copilot_ls.index.model import NO_REFERENCES, References, Span

logger = logging.getLogger(__name__)

try:
    from copilot_ls.index import _native  # type: ignore[attr-defined]
except ImportError:  # not built: extraction goes through py-tree-sitter alone
    _native = None

_WRAPPER, _SKIP, _COMMENT, _BODY = 1, 2, 4, 8  # node kinds
_IMPORTS, _STRIP_BRACE, _DEFINES = 1, 2, 4  # patterns
_local = threading.local()
"""Per thread: language name -> its Extractor, or None where it cannot be built."""


def available() -> bool:
    """Whether whole files are read natively (the module is built and not switched off)."""
    return _native is not None and os.environ.get("COPILOT_LS_NATIVE_INDEX", "1") != "0"


def extractor(spec: LanguageSpec) -> Any | None:
    """This thread's native extractor for `spec`, or None when files of it are read through
    py-tree-sitter."""
    if not available():
        return None
    extractors: dict[str, Any] = _local.__dict__.setdefault("extractors", {})
    if spec.name not in extractors:
        extractors[spec.name] = _build(spec)
    return extractors[spec.name]


def _build(spec: LanguageSpec) -> Any | None:
    language, queries = spec.language(), spec.outline_queries()
    if _native is None or language is None or queries is None:
        return None
    ids = kind_ids(spec, language)
    flags = bytearray(language.node_kind_count)
    for mask, members in (
        (_WRAPPER, ids.wrappers),
        (_SKIP, ids.skip_above),
        (_COMMENT, ids.comments),
        (_BODY, ids.bodies),
    ):
        for kind_id in members:
            flags[kind_id] |= mask
    roles = bytes(
        _IMPORTS
        if role != "tags"
        else (_DEFINES if kind else 0)
        | (_STRIP_BRACE if kind not in ("variable", "constant", "field", "assignment") else 0)
        for role, kind in zip(queries.pattern_kinds, queries.definition_kinds, strict=True)
    )
    try:
        return _native.Extractor(
            spec.language_pointer(),
            queries.source,
            roles,
            bytes(flags),
            ids.body_field or 0,
            -1 if spec.max_depth is None else spec.max_depth,
            Span,
        )
    except (ValueError, TypeError, AttributeError, ImportError) as exc:
        logger.warning("%s files are read through py-tree-sitter: %s", spec.name, exc)
        return None


def parse_only(spec: LanguageSpec, source: bytes) -> bool:
    """Parse `source` natively and throw the tree away (what a benchmark compares with);
    False when `spec` has no native extractor."""
    found = extractor(spec)
    if found is None:
        return False
    found.parse(source)
    return True


def read(
    spec: LanguageSpec, extractor: Any, source: bytes
) -> tuple[list[tuple[int, Found]], list[Scope], list[Import], References, tuple[int, list[int]]]:
    """Parse `source` (valid UTF-8) with `extractor` and run its outline query: the
    definitions with their patterns, the scopes and the imports, as `extract._read_tree`
    finds them; the references, as `definitions.references` finds them; and the number of
    lines and the blank ones, for `chunks.chunk_layout`."""
    queries = spec.outline_queries()
    assert queries is not None  # an extractor is built only from a language's queries
    raw_definitions, raw_scopes, raw_imports, raw_members, words, line_count, blank = (
        extractor.extract(source)
    )
    kinds = queries.definition_kinds

    def text(start: int, end: int) -> str:
        return source[start:end].decode("utf-8", errors="replace")

    candidates = []
    for (
        pattern,
        name,
        name_start,
        name_end,
        start_byte,
        end_byte,
        span,
        outer_row,
        head_start,
        head_end,
        body_start,
        doc_start,
        doc_end,
        container_start,
        container_end,
        comment_row,
        comments,
        signature,
    ) in raw_definitions:
        kind = kinds[pattern]
        if kind == "assignment":
            kind = "constant" if defs.constant_name(name) else "variable"
        if doc_start >= 0:
            doc, block_line = docstring_text(text(doc_start, doc_end)), outer_row
        elif comment_row >= 0:
            doc, block_line = comment_text([text(s, e) for s, e in comments]), comment_row
        else:
            doc, block_line = "", outer_row
        if signature.__class__ is not str:  # non-ASCII: Python's rules for whitespace
            signature = signature_text(source, head_start, head_end, body_start, kind, signature)
        found = Found(
            name,
            kind,
            span,
            signature,
            doc,
            text(container_start, container_end) if container_start >= 0 else "",
            start_byte,
            end_byte,
            name_start,
            name_end,
            block_line,
        )
        candidates.append((pattern, found))
    scopes = [(start, end, line, text(ns, ne)) for _, start, end, line, ns, ne in raw_scopes]
    imports: list[Import] = [(start, text(start, end)) for start, end in raw_imports]
    for package_start, package_end, member_start, member_end in raw_members:
        member = defs.import_member(
            text(package_start, package_end), text(member_start, member_end), member_start
        )
        if member is not None:
            imports.append(member)
    references = References(words) if words else NO_REFERENCES
    return candidates, scopes, imports, references, (line_count, blank)
