"""Context stage: what the model sees beyond the cursor window, chosen per request.

`ContextRetriever.select` gathers proposals from independent sources, in priority order:
lines elsewhere in the current file that use the objects used above the cursor with other
attributes (`usages`: measured, they hold the names a masked line needs far more often than
anything else), the outline of the class around the cursor when its header has scrolled out
of the window, outlines of the modules used as `module.attr` above the cursor, definitions
(from the workspace index) of the names referenced above the cursor, outlines of the
enclosing class's bases and of classes objects are named after (`outlines`), chunks of likely
related files that look like the lines above the cursor (BM25), and the code around the last
edit of recently edited files. It deduplicates them and fits them to the token budget
(`selection.fit_to_budget`). A failing source is logged and skipped.

Everything is derived from the lines above the cursor (and, for usages, the rest of the
document outside the window), never from the cursor's own line, and the choice is cached per
document and cursor line: consecutive keystrokes on a line get the very same context, so the
prompt's beginning (and the model's KV cache) stays valid.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from copilot_ls.index.model import FileSymbols
from copilot_ls.index.store import SymbolIndex

from .candidates import (
    MAX_CANDIDATE_FILES,
    first_distinct,
    imported_files,
    importing_files,
    same_directory,
)
from .definitions import choose_definitions, definition_snippets, enclosing_class_snippet
from .outlines import (
    class_snippets,
    enclosing_bases,
    enclosing_class_span,
    module_snippets,
    named_classes,
)
from .recent import RecentDocuments
from .selection import EMPTY, ContextSelection, Snippet, fit_to_budget, span_lines
from .similarity import (
    ChunkCache,
    ChunkTerms,
    SearchFile,
    fixed_ranges,
    query_terms,
    similar_snippets,
)
from .texts import FileText, FileTexts
from .tokens import references_nearest_first
from .usages import usage_snippets
from .window import CursorWindow

log = logging.getLogger(__name__)
T = TypeVar("T")

QUERY_LINES = 20
"""Lines above the cursor whose terms make the similarity query."""
MAX_NAMES = 64
"""Identifiers looked up per request, nearest to the cursor first."""
MAX_SIMILAR = 6
MAX_RECENT = 3
RECENT_BEFORE, RECENT_AFTER = 6, 10
"""Lines shown before and after the last edit of a recently edited file."""
OWN_FILE_REACH = 2000
"""Lines of the current file searched for similar code, on each side of the cursor."""
CACHE_SIZE = 32
CACHE_SECONDS = 30.0
"""A cached choice is recomputed after this long even if nothing it keys on changed."""


@dataclass(frozen=True)
class ContextQuery:
    """Where the cursor is, and how much room the context has."""

    path: str
    text: str
    """The current document's text."""
    cursor_line: int
    window_start: int
    """First line of the prefix window."""
    window_end: int
    """Line after the last line of the suffix window."""
    above: str
    """The window's complete lines above the cursor line."""
    budget: int
    line_overhead: int = 1
    """Tokens a line costs besides its own (the newline; a comment marker when commented)."""
    root: str | None = None
    """The workspace root: imports written from it (`pkg.module`) resolve against it."""

    @classmethod
    def around(
        cls, path: str, text: str, window: CursorWindow, budget: int, root: str | None
    ) -> ContextQuery:
        """The query for a completion whose prompt holds `window` of `text`."""
        cursor_line = window.prefix_start_line + window.prefix.count("\n")
        return cls(
            path=path,
            text=text,
            cursor_line=cursor_line,
            window_start=window.prefix_start_line,
            window_end=cursor_line + window.suffix.count("\n") + 1,
            above=window.prefix[: window.prefix.rfind("\n") + 1].removesuffix("\n"),
            budget=budget,
            line_overhead=1,
            root=root,
        )


class ContextRetriever:
    """Chooses the context of each request; holds the caches that make it cheap."""

    def __init__(
        self,
        index: Callable[[], SymbolIndex] | None = None,
        recent: Callable[[], RecentDocuments] | None = None,
    ) -> None:
        self._index = index
        self._recent = recent
        self._texts = FileTexts(self._buffer_text)
        self._chunks = ChunkCache()
        self._importers: dict[str, tuple[tuple[object, ...], float, list[str]]] = {}
        self._chosen: OrderedDict[tuple[object, ...], tuple[float, ContextSelection]] = (
            OrderedDict()
        )

    def _buffer_text(self, path: str) -> str | None:
        return self._recent().text(path) if self._recent is not None else None

    def select(self, query: ContextQuery, count_line: Callable[[str], int]) -> ContextSelection:
        """The context for `query`, the same as last time on this line when nothing changed."""
        if query.budget <= 0:
            return EMPTY
        index = self._index() if self._index is not None else SymbolIndex()
        recent = self._recent().recent(exclude=query.path) if self._recent is not None else []
        key = (
            query.path,
            query.cursor_line,
            query.window_start,
            hash(query.above),
            query.budget,
            query.line_overhead,
            id(index),
            len(index),
            tuple((doc.path, doc.touched) for doc in recent),
        )
        now = time.monotonic()
        hit = self._chosen.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            self._chosen.move_to_end(key)
            return hit[1]
        selection = self._choose(query, index, [doc.path for doc in recent], count_line)
        self._chosen[key] = (now, selection)
        while len(self._chosen) > CACHE_SIZE:
            self._chosen.popitem(last=False)
        return selection

    def _choose(
        self,
        query: ContextQuery,
        index: SymbolIndex,
        recent_paths: list[str],
        count_line: Callable[[str], int],
    ) -> ContextSelection:
        work = _Work(query, index, query.text.split("\n"))
        work.imported = _safely("imports", lambda: self._imports(work), _NO_PATHS)
        work.importers = _safely("importers", lambda: self._importers_of(work), _NO_PATHS)
        usages = _safely("usages", lambda: self._usages(work), _NO_SNIPPETS)
        enclosing = _safely("enclosing class", lambda: self._enclosing(work), _NO_SNIPPETS)
        modules = _safely("module outlines", lambda: self._modules(work), _NO_SNIPPETS)
        definitions = _safely("definitions", lambda: self._definitions(work), _NO_SNIPPETS)
        candidates = _safely("candidates", lambda: _candidates(work, recent_paths), _NO_PATHS)
        classes = _safely("class outlines", lambda: self._classes(work, candidates), _NO_SNIPPETS)
        similar = _safely("similar chunks", lambda: self._similar(work, candidates), _NO_SNIPPETS)
        recent = _safely("recent edits", lambda: self._recent_edits(work), _NO_SNIPPETS)
        snippets = [*usages, *enclosing, *modules, *definitions, *classes, *similar, *recent]
        return fit_to_budget(
            snippets, work.line_text, count_line, query.budget, line_overhead=query.line_overhead
        )

    def _imports(self, work: _Work) -> list[str]:
        query = work.query
        return imported_files(work.symbols, query.path, query.root, work.index)

    def _importers_of(self, work: _Work) -> list[str]:
        """Files importing the current one; they change rarely, and a module imported all
        over the workspace makes the lookup cost milliseconds, so it is cached a while."""
        query, index = work.query, work.index
        key = (query.path, query.root, id(index), len(index))
        now = time.monotonic()
        hit = self._importers.get(query.path)
        if hit is not None and hit[0] == key and now - hit[1] < CACHE_SECONDS:
            return hit[2]
        found = importing_files(query.path, query.root, index)
        self._importers[query.path] = (key, now, found)
        if len(self._importers) > CACHE_SIZE:
            self._importers.pop(next(iter(self._importers)))
        return found

    def _enclosing(self, work: _Work) -> list[Snippet]:
        """The outline of the class around the cursor when its header is above the window."""
        query = work.query
        found = enclosing_class_snippet(
            work.symbols, work.lines, query.cursor_line, query.window_start
        )
        return [found] if found is not None else []

    def _definitions(self, work: _Work) -> list[Snippet]:
        """Definitions of the names referenced above the cursor."""
        query = work.query
        work.neighbours = same_directory(query.path, work.index)
        chosen = choose_definitions(
            work.index, query.path, work.names, set(work.imported), work.neighbours
        )
        work.definition_paths = list(dict.fromkeys(hit.path for _rank, hit in chosen))
        lines_of: dict[str, Sequence[str]] = {}
        for path in work.definition_paths:
            loaded = self._load(work, path)
            if loaded is not None:
                lines_of[path] = loaded.lines
        return definition_snippets(work.index, chosen, lines_of)

    def _usages(self, work: _Work) -> list[Snippet]:
        """Lines elsewhere in the current file using the objects used near the cursor."""
        query = work.query
        window = (query.window_start, query.window_end)
        own_class = enclosing_class_span(work.symbols, query.cursor_line)
        return usage_snippets(
            query.path, work.lines, query.cursor_line, window, work.above, own_class
        )

    def _modules(self, work: _Work) -> list[Snippet]:
        """Outlines of the modules used as `module.attr` above the cursor."""
        query = work.query
        return module_snippets(
            work.index,
            work.symbols,
            work.above,
            work.lines[: query.cursor_line],
            work.terms,
            lambda path: self._lines(work, path),
            query.root,
        )

    def _classes(self, work: _Work, candidates: list[str]) -> list[Snippet]:
        """Outlines of the enclosing class's bases and of classes objects are named after."""
        query = work.query
        bases = enclosing_bases(work.index, work.symbols, query.cursor_line, work.imported)
        named = named_classes(work.index, work.above, query.path, candidates)
        chosen = list(dict.fromkeys([*bases, *named]))
        return class_snippets(work.index, chosen, work.terms, lambda path: self._lines(work, path))

    def _lines(self, work: _Work, path: str) -> Sequence[str] | None:
        loaded = self._load(work, path)
        return loaded.lines if loaded is not None else None

    def _load(self, work: _Work, path: str) -> FileText | None:
        loaded = work.texts.get(path) or self._texts.get(path)
        if loaded is not None:
            work.texts[path] = loaded
        return loaded

    def _similar(self, work: _Work, candidates: list[str]) -> list[Snippet]:
        terms = work.terms
        if not terms:
            return []
        files = [self._current_file(work.query, work.lines)]
        for path in candidates:
            loaded = self._load(work, path)
            if loaded is not None:
                chunks = self._file_chunks(path, loaded, work.index)
                files.append(SearchFile(path, chunks, loaded.lines))
        return similar_snippets(terms, files, MAX_SIMILAR)

    def _current_file(self, query: ContextQuery, lines: list[str]) -> SearchFile:
        """The current document's own chunks outside the window (it changes with every key,
        so its chunks are cached one by one, by their text)."""
        chunks: list[ChunkTerms] = []
        low = max(0, query.cursor_line - OWN_FILE_REACH)
        high = query.cursor_line + OWN_FILE_REACH
        for start, end in fixed_ranges(len(lines)):
            if (start < query.window_end and query.window_start < end) or not low <= start < high:
                continue
            key = ("chunk", query.path, start, hash("\n".join(lines[start:end])))
            chunks.extend(self._chunks.get(key, lines, [(start, end)]))
        return SearchFile(query.path, tuple(chunks), lines, (query.window_start, query.window_end))

    def _file_chunks(
        self, path: str, loaded: FileText, index: SymbolIndex
    ) -> tuple[ChunkTerms, ...]:
        symbols = index.get(path)
        ranges = None
        if symbols is not None and _indexed_version(symbols, loaded):
            ranges = [(c.start_line, c.end_line) for c in symbols.chunks]
        return self._chunks.get((path, *loaded.version, ranges is None), loaded.lines, ranges)

    def _recent_edits(self, work: _Work) -> list[Snippet]:
        """The code around the last edit of the most recently edited other files."""
        if self._recent is None:
            return []
        found: list[Snippet] = []
        for doc in self._recent().recent(exclude=work.query.path):
            if not doc.edited or doc.edit_line is None:
                continue
            loaded = self._load(work, doc.path)
            if loaded is None:
                continue
            start = max(0, doc.edit_line - RECENT_BEFORE)
            end = min(len(loaded.lines), doc.edit_line + RECENT_AFTER)
            while start < end and not loaded.lines[start].strip():
                start += 1
            while end > start and not loaded.lines[end - 1].strip():
                end -= 1
            shown = span_lines(start, end)
            if shown:
                found.append(Snippet(doc.path, shown, "recent", 0.0, f"edit at {doc.edit_line}"))
                if len(found) >= MAX_RECENT:
                    break
        return found


_NO_PATHS: list[str] = []
_NO_SNIPPETS: list[Snippet] = []


class _Work:
    """What one uncached request has found out so far, shared by the sources."""

    def __init__(self, query: ContextQuery, index: SymbolIndex, lines: list[str]) -> None:
        self.query = query
        self.index = index
        self.lines = lines
        self.above = query.above.split("\n") if query.above else []
        self.names = references_nearest_first(self.above, MAX_NAMES)
        self.terms = query_terms(self.above[-QUERY_LINES:])
        self.symbols = index.get(query.path)
        self.imported: list[str] = []
        self.definition_paths: list[str] = []
        self.neighbours: list[str] = []
        self.importers: list[str] = []
        self.texts: dict[str, FileText] = {}

    def line_text(self, path: str, number: int) -> str | None:
        source: Sequence[str] | None = self.lines if path == self.query.path else None
        if source is None and path in self.texts:
            source = self.texts[path].lines
        return source[number] if source is not None and number < len(source) else None


def _candidates(work: _Work, recent_paths: list[str]) -> list[str]:
    """Files to search for similar chunks, the likeliest first."""
    return first_distinct(
        [
            recent_paths,
            work.imported,
            work.importers,
            work.definition_paths,
            work.neighbours,
        ],
        work.query.path,
        MAX_CANDIDATE_FILES,
    )


def _indexed_version(symbols: FileSymbols, loaded: FileText) -> bool:
    """Whether the index's chunks were cut from this very text (same mtime and size)."""
    return loaded.version == (symbols.mtime_ns, symbols.size)


def _safely(what: str, produce: Callable[[], T], default: T) -> T:
    """Run one context source; a failure costs that source, never the completion."""
    try:
        return produce()
    except Exception:
        log.exception("context source %r failed; going on without it", what)
        return default
