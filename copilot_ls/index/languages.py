"""Index stage: the languages the workspace index understands, and their tree-sitter grammars.

Each `LanguageSpec` names a language, the file names it claims and the PyPI grammar wheel that
parses it. Grammars and the query files in `grammars/<name>/` are loaded on first use and cached.
The query files ship inside the package as `copilot_ls.grammars` and are read through
importlib.resources; a source checkout whose install predates that mapping reads its own
`grammars/` folder.
A missing wheel is logged once and degrades to "no language" (its files are indexed as plain
text); a query file that does not compile is logged once and left out. Neither ever crashes.
"""

from __future__ import annotations

import importlib
import importlib.resources
import logging
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tree_sitter import Language, Parser, Query, QueryError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable  # Python 3.11+; only a type here

logger = logging.getLogger(__name__)

GRAMMARS_PACKAGE = "copilot_ls.grammars"
"""The package the top-level `grammars/` folder is installed as (see setup.py)."""


def grammars_root() -> Traversable:
    """The folder of query files: the `copilot_ls.grammars` package's resources (a wheel, or
    an editable install that maps it), else the `grammars/` folder of the source checkout this
    module runs from."""
    try:
        return importlib.resources.files(GRAMMARS_PACKAGE)
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "grammars"


GRAMMARS_DIR = grammars_root()
"""Where the query files live: `<language>/<kind>.scm`, kind one of QUERY_KINDS."""

QUERY_KINDS = ("tags", "imports", "references")
OUTLINE_KINDS = ("tags", "imports")
"""What indexing runs; the references queries serve the evaluation's notion of a use."""


@dataclass(frozen=True)
class LanguageSpec:
    name: str
    extensions: tuple[str, ...]
    """Lower-case suffixes with the dot, matched against the end of the file name."""
    module: str
    """The grammar wheel's import name, e.g. `tree_sitter_python`."""
    entry: str = "language"
    """The function in `module` returning the grammar's language pointer."""
    filenames: tuple[str, ...] = ()
    """Exact file names claimed regardless of suffix, e.g. `Rakefile`."""
    wrappers: tuple[str, ...] = ()
    """Node types that wrap a definition and carry its doc comment above them (`export`...)."""
    skip_above: tuple[str, ...] = ()
    """Sibling node types allowed between a doc comment and its definition (attributes...)."""
    inherits: tuple[str, ...] = ()
    """Query folders read before this language's own (`ecma` holds what JS and TS share, `jsx`
    what JS and TSX share)."""
    max_depth: int | None = None
    """How deep in the tree (the root is 0) a tags or imports pattern may start when a file is
    indexed; None for no limit. Definitions live near the top (module, class, namespace
    members), and a query cursor that need not look deeper skips every function body: local
    functions nested deeper are left out of the index."""

    def language(self) -> Language | None:
        """The grammar, loaded on first use; None (logged once) when its wheel is missing."""
        return _load_language(self)

    def language_pointer(self) -> object:
        """What the grammar wheel's entry point returns: a capsule holding its `TSLanguage`."""
        return getattr(importlib.import_module(self.module), self.entry)()

    def parser(self) -> Parser | None:
        """A parser for this language owned by the calling thread (parsers are not shareable)."""
        language = self.language()
        if language is None:
            return None
        parsers: dict[str, Parser] = _local.__dict__.setdefault("parsers", {})
        parser = parsers.get(self.name)
        if parser is None:
            parser = parsers[self.name] = Parser(language)
        return parser

    def queries(self) -> LanguageQueries | None:
        """All of `grammars/<name>/*.scm` compiled into one query (one pass over a tree), loaded
        on first use; a file that does not compile is logged once and left out."""
        return _cached_queries(self, QUERY_KINDS)

    def outline_queries(self) -> LanguageQueries | None:
        """`queries` without the references: what indexing runs (tags and imports), to be run
        with `max_depth`. References are read from the source text (see `extract.py`)."""
        return _cached_queries(self, OUTLINE_KINDS)


@dataclass(frozen=True)
class LanguageQueries:
    query: Query
    pattern_kinds: tuple[str, ...]
    """For each pattern of `query`, the file it came from: one of QUERY_KINDS."""
    reference_captures: frozenset[str]
    """The capture names that mark a reference (`reference.call`...), as opposed to helpers."""
    definition_kinds: tuple[str, ...]
    """For each pattern of `query`, the kind its `@definition.<kind>` capture names (interned),
    or "" when it captures no definition."""


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        "python",
        (".py", ".pyi", ".pyw"),
        "tree_sitter_python",
        filenames=("SConstruct", "SConscript"),
        wrappers=("decorated_definition",),
        # Methods start at depth 3 (4 decorated), functions nested in them at 5; in the standard
        # library 99.4% of the definitions outside function bodies are within 5.
        max_depth=5,
    ),
    LanguageSpec(
        "javascript",
        (".js", ".mjs", ".cjs", ".jsx"),
        "tree_sitter_javascript",
        wrappers=("export_statement",),
        inherits=("ecma", "jsx"),
    ),
    LanguageSpec(
        "typescript",
        (".ts", ".mts", ".cts"),
        "tree_sitter_typescript",
        entry="language_typescript",
        wrappers=("export_statement", "ambient_declaration"),
        inherits=("ecma",),
    ),
    LanguageSpec(
        "tsx",
        (".tsx",),
        "tree_sitter_typescript",
        entry="language_tsx",
        wrappers=("export_statement", "ambient_declaration"),
        inherits=("ecma", "typescript", "jsx"),
    ),
    LanguageSpec(
        "go",
        (".go",),
        "tree_sitter_go",
        wrappers=("type_declaration", "const_declaration", "var_declaration"),
    ),
    LanguageSpec("rust", (".rs",), "tree_sitter_rust", skip_above=("attribute_item",)),
    LanguageSpec("java", (".java",), "tree_sitter_java"),
    LanguageSpec("c", (".c",), "tree_sitter_c"),
    LanguageSpec(
        "cpp",
        # `.h` goes to C++: its grammar reads C headers well, the C grammar chokes on classes.
        (".cc", ".cpp", ".cxx", ".c++", ".h", ".hh", ".hpp", ".hxx", ".h++", ".ipp", ".tpp"),
        "tree_sitter_cpp",
        wrappers=("template_declaration",),
        inherits=("c",),
    ),
    LanguageSpec("c_sharp", (".cs", ".csx"), "tree_sitter_c_sharp"),
    LanguageSpec(
        "ruby",
        (".rb", ".rake", ".gemspec", ".ru", ".rbw"),
        "tree_sitter_ruby",
        filenames=("Rakefile", "Gemfile", "Guardfile", "Vagrantfile", "Podfile", "Capfile"),
    ),
)

_BY_NAME = {spec.name: spec for spec in LANGUAGES}
_BY_FILENAME = {filename: spec for spec in LANGUAGES for filename in spec.filenames}
_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}

_lock = threading.Lock()
_local = threading.local()
_languages: dict[str, Language | None] = {}
_queries: dict[tuple[str, tuple[str, ...]], LanguageQueries | None] = {}
_DEFINITION_CAPTURE = re.compile(r"@definition\.(\w+)")


def get_language(name: str) -> LanguageSpec | None:
    """The registered language called `name`, whether or not its grammar is installed."""
    return _BY_NAME.get(name)


def spec_for_path(path: str) -> LanguageSpec | None:
    """The language a file name claims, without loading its grammar."""
    base = os.path.basename(path)
    spec = _BY_FILENAME.get(base)
    if spec is not None:
        return spec
    lower = base.lower()
    dot = lower.find(".", 1)
    while dot != -1:
        spec = _BY_EXTENSION.get(lower[dot:])
        if spec is not None:
            return spec
        dot = lower.find(".", dot + 1)
    return None


def language_for_path(path: str) -> LanguageSpec | None:
    """The language of `path` if its grammar can be loaded, else None (plain text)."""
    spec = spec_for_path(path)
    if spec is None or spec.language() is None:
        return None
    return spec


def query_source(
    spec: LanguageSpec, kind: str, grammars_dir: Traversable | None = None
) -> str | None:
    """The `<kind>.scm` queries of `spec`: its inherited folders' files, then its own; None when
    there are none."""
    parts = []
    for folder in (*spec.inherits, spec.name):
        path = (grammars_dir or GRAMMARS_DIR) / folder / f"{kind}.scm"
        try:
            parts.append(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            logger.debug("no %s query for %s at %s", kind, spec.name, path)
    return "\n".join(parts) if parts else None


def _cached_queries(spec: LanguageSpec, kinds: tuple[str, ...]) -> LanguageQueries | None:
    key = (spec.name, kinds)
    with _lock:
        if key in _queries:
            return _queries[key]
    compiled = _compile_queries(spec, kinds)
    with _lock:
        _queries[key] = compiled
    return compiled


def _compile_queries(spec: LanguageSpec, query_kinds: tuple[str, ...]) -> LanguageQueries | None:
    language = spec.language()
    if language is None:
        return None
    parts = [(kind, source) for kind in query_kinds if (source := query_source(spec, kind))]
    try:
        query, text, starts = _compile_parts(language, parts)
    except QueryError:
        # Compiling costs (up to a second for C++), so each part is tried alone only on failure.
        for kind, source in parts:
            try:
                Query(language, source)
            except QueryError as exc:
                logger.error("%s queries for %s do not compile: %s", kind, spec.name, exc)
        parts = [(kind, source) for kind, source in parts if _compiles(language, source)]
        if not parts:
            return None
        query, text, starts = _compile_parts(language, parts)
    ranges = [
        (query.start_byte_for_pattern(i), query.end_byte_for_pattern(i))
        for i in range(query.pattern_count)
    ]
    kinds, definitions = describe_patterns(text, starts, ranges)
    captures = (query.capture_name(index) for index in range(query.capture_count))
    references = frozenset(name for name in captures if name.startswith("reference"))
    return LanguageQueries(query, kinds, references, definitions)


def outline_query_text(spec: LanguageSpec) -> tuple[bytes, list[tuple[int, str]]] | None:
    """The text the outline query is compiled from (see `_compile_parts`) and where each
    part's patterns begin, without compiling it (the native module compiles its own); None
    when the language has no such queries."""
    parts = [(kind, source) for kind in OUTLINE_KINDS if (source := query_source(spec, kind))]
    if not parts:
        return None
    return _joined(parts)


def describe_patterns(
    text: bytes, starts: list[tuple[int, str]], ranges: list[tuple[int, int]]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """For each pattern of a query compiled from `text` (its parts beginning at `starts`),
    given its byte range: the part it came from (one of QUERY_KINDS) and the kind its
    `@definition.<kind>` capture names (interned), or "" when it captures no definition."""
    kinds, definitions = [], []
    for start, end in ranges:
        kinds.append(next(kind for offset, kind in reversed(starts) if offset <= start))
        found = _DEFINITION_CAPTURE.search(text[start:end].decode("utf-8"))
        definitions.append(sys.intern(found.group(1)) if found else "")
    return tuple(kinds), tuple(definitions)


def _compile_parts(
    language: Language, parts: list[tuple[str, str]]
) -> tuple[Query, bytes, list[tuple[int, str]]]:
    """One query from all parts, its text, and the byte offset where each part's patterns
    begin."""
    text, starts = _joined(parts)
    return Query(language, text.decode("utf-8")), text, starts


def _joined(parts: list[tuple[str, str]]) -> tuple[bytes, list[tuple[int, str]]]:
    text, starts = b"", []
    for kind, source in parts:
        starts.append((len(text), kind))
        text += source.encode("utf-8") + b"\n"
    return text, starts


def _compiles(language: Language, source: str) -> bool:
    try:
        Query(language, source)
    except QueryError:
        return False
    return True


def _load_language(spec: LanguageSpec) -> Language | None:
    with _lock:
        if spec.name in _languages:
            return _languages[spec.name]
    language: Language | None = None
    try:
        module = importlib.import_module(spec.module)
        language = Language(getattr(module, spec.entry)())
    except ImportError:
        logger.warning(
            "no grammar for %s: `pip install %s` to index those files as code",
            spec.name,
            spec.module.replace("_", "-"),
        )
    except (AttributeError, ValueError, TypeError) as exc:
        # ValueError: a wheel built for an ABI this tree-sitter cannot load.
        logger.warning("grammar %s for %s cannot be loaded: %s", spec.module, spec.name, exc)
    with _lock:
        _languages[spec.name] = language
    return language
