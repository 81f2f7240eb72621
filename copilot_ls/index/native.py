"""Index stage: extraction through the native module `copilot_ls.index._native`, when it is built.

The module (`_native.c` and its siblings) parses a whole file with a tree-sitter runtime of its
own, runs the language's outline query, reads every node property extraction needs and settles
the definitions in C, mirroring `extract.py`, `definition_text.py` and `definitions.py`; this
module builds its extractors and finishes what it leaves to Python (doc texts, non-ASCII
signature heads, imports). Both paths must produce the same symbols:
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
from typing import Any, NamedTuple

from copilot_ls.index import definitions as defs
from copilot_ls.index.definition_text import comment_text, docstring_text, kind_ids, signature_text
from copilot_ls.index.definitions import Import
from copilot_ls.index.languages import LanguageSpec, describe_patterns, outline_query_text
from copilot_ls.index.model import NO_REFERENCES, Definition, References, Span

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
    """An Extractor for `spec`, which compiles the outline query itself: py-tree-sitter's
    copy of it is compiled only if the language's files are ever read through py-tree-sitter
    (editor buffers), not for every index build."""
    language, outline = spec.language(), outline_query_text(spec)
    if _native is None or language is None or outline is None:
        return None
    text, starts = outline

    def describe(ranges: list[tuple[int, int]]) -> tuple[bytes, tuple[str, ...]]:
        roles, kinds = describe_patterns(text, starts, ranges)
        return bytes(
            _IMPORTS
            if role != "tags"
            else (_DEFINES if kind else 0)
            | (_STRIP_BRACE if kind not in ("variable", "constant", "field", "assignment") else 0)
            for role, kind in zip(roles, kinds, strict=True)
        ), kinds

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
    try:
        return _native.Extractor(
            spec.language_pointer(),
            text,
            describe,
            bytes(flags),
            ids.body_field or 0,
            -1 if spec.max_depth is None else spec.max_depth,
            Span,
            Definition,
        )
    except (ValueError, TypeError, AttributeError, ImportError) as exc:
        logger.warning("%s files are read through py-tree-sitter: %s", spec.name, exc)
        return None


class Read(NamedTuple):
    """A whole file as native extraction reads it: what `FileSymbols` holds but its chunks,
    and what they are cut from."""

    definitions: tuple[Definition, ...]
    imports: tuple[str, ...]
    references: References
    line_count: int
    blank_lines: list[int]
    chunk_starts: list[int]
    """First lines of the top-level blocks (`definitions.top_level_starts`)."""
    block_lines: list[int]
    """First lines of every block, for cutting long pieces."""


def read(extractor: Any, source: bytes) -> Read:
    """Parse `source` (valid UTF-8) with `extractor`, run its outline query and settle what it
    found, as `extract.py` and `definitions.settle` do through py-tree-sitter: the C module
    does it all but the doc texts (docstrings and comment blocks, cleaned here) and the
    signatures of heads holding non-ASCII text (Python's rules for Unicode whitespace)."""
    found, raw_imports, members, words, line_count, blank, starts, block_lines = extractor.extract(
        source
    )
    definitions = [
        item if item.__class__ is Definition else _finish(item, source) for item in found
    ]
    imports: list[Import] = raw_imports
    for package, member_start, member in members:
        imported = defs.import_member(package, member, member_start)
        if imported is not None:
            imports.append(imported)
    return Read(
        tuple(definitions),
        defs.imports(imports),
        References(words) if words else NO_REFERENCES,
        line_count,
        blank,
        starts,
        block_lines,
    )


def _finish(item: tuple[Any, ...], source: bytes) -> Definition:
    """A definition whose doc or signature the C module left to Python (see `Extractor`)."""
    name, kind, span, signature, container, doc = item
    if signature.__class__ is not str:  # non-ASCII: Python's rules for whitespace
        head_start, head_end, body_start, cuts = signature
        signature = signature_text(source, head_start, head_end, body_start, kind, cuts)
    if doc is None:
        doc = ""
    elif doc.__class__ is str:
        doc = docstring_text(doc)
    else:
        doc = comment_text(list(doc))
    return Definition(name, kind, span, signature, doc, container)
