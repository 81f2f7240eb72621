"""Index stage: `SymbolIndex`, the in-memory workspace index.

It holds one `FileSymbols` per path, as given (no copies of file text), plus small lookup tables
derived from them: definitions by name and files by imported module. One writer and any number
of readers may use it from different threads: every method takes one lock, and readers get
lists built under it, so a result never mixes two versions of the index.
"""

from __future__ import annotations

import heapq
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from copilot_ls.index.model import Definition, FileSymbols

logger = logging.getLogger(__name__)

DEFAULT_SEARCH_LIMIT = 100
"""Results `SymbolIndex.search` returns unless asked otherwise."""


class IndexedDefinition(NamedTuple):
    """A definition and the file it is in."""

    path: str
    definition: Definition


@dataclass(frozen=True)
class IndexStats:
    files: int
    definitions: int
    languages: dict[str, int]
    """Files per language."""


class _NameEntry:
    """Everything defined under one name: its lower-cased form (computed once, for search) and
    the definitions by path."""

    __slots__ = ("by_path", "lower")

    def __init__(self, name: str) -> None:
        self.lower = name.lower()
        self.by_path: dict[str, tuple[Definition, ...]] = {}


class SymbolIndex:
    """Definitions, imports and chunks of the workspace's files, looked up by name or module."""

    def __init__(self, files: Iterable[FileSymbols] = ()) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, FileSymbols] = {}
        self._names: dict[str, _NameEntry] = {}
        self._importers: dict[str, set[str]] = {}
        self._languages: Counter[str] = Counter()
        self._definition_count = 0
        self._generation = 0  # bumped by every write; lets `search` rank outside the lock
        for symbols in files:
            self._put(symbols)

    # -- writing ------------------------------------------------------------------------------

    def replace(self, symbols: FileSymbols) -> None:
        """Add a file's symbols, replacing what was indexed for the same path."""
        with self._lock:
            self._put(symbols)

    def remove(self, path: str) -> bool:
        """Forget a file; True if it was indexed."""
        with self._lock:
            return self._drop(path)

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._names.clear()
            self._importers.clear()
            self._languages.clear()
            self._definition_count = 0
            self._generation += 1

    # -- reading ------------------------------------------------------------------------------

    def get(self, path: str) -> FileSymbols | None:
        with self._lock:
            return self._files.get(path)

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return path in self._files

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)

    def paths(self) -> list[str]:
        """Every indexed path, sorted."""
        with self._lock:
            return sorted(self._files)

    def all_files(self) -> list[FileSymbols]:
        """Every indexed file's symbols, sorted by path: a consistent snapshot."""
        with self._lock:
            return [self._files[p] for p in sorted(self._files)]

    def definitions(self, name: str) -> list[IndexedDefinition]:
        """Definitions named exactly `name` (case-sensitive) across files, by path then line."""
        with self._lock:
            entry = self._names.get(name)
            if entry is None:
                return []
            return [
                IndexedDefinition(path, d)
                for path in sorted(entry.by_path)
                for d in entry.by_path[path]
            ]

    def definition_files(self, name: str) -> int:
        """How many files define `name` (cheap: nothing is listed)."""
        with self._lock:
            entry = self._names.get(name)
            return len(entry.by_path) if entry is not None else 0

    def importers(self, module: str) -> list[str]:
        """Files whose imports include `module` exactly as written there, sorted."""
        with self._lock:
            return sorted(self._importers.get(module, ()))

    def search(self, query: str, limit: int = DEFAULT_SEARCH_LIMIT) -> list[IndexedDefinition]:
        """Definitions whose name contains `query`'s characters in order, ignoring case, best
        first: exact names, then prefixes, then substrings, then scattered subsequences, where
        matches at word starts (`getUserName`, `get_user_name`) and shorter names rank higher.
        An empty query lists names, shortest first."""
        if limit <= 0:
            return []
        needle = query.lower()
        # Ranking is the slow part, so it runs outside the lock over a copy of the names, and
        # the hits are collected only if no write happened meanwhile; while writes keep
        # coming, the last attempt ranks under the lock.
        for _attempt in range(2):
            with self._lock:
                names, generation = list(self._names.items()), self._generation
            ranked = _rank(needle, names, limit)
            with self._lock:
                if self._generation == generation:
                    return self._collect(ranked, limit)
        with self._lock:
            return self._collect(_rank(needle, list(self._names.items()), limit), limit)

    def stats(self) -> IndexStats:
        with self._lock:
            return IndexStats(
                files=len(self._files),
                definitions=self._definition_count,
                languages=dict(self._languages),
            )

    # -- internals (the lock is held) ---------------------------------------------------------

    def _collect(self, ranked: list[str], limit: int) -> list[IndexedDefinition]:
        hits: list[IndexedDefinition] = []
        for name in ranked:
            by_path = self._names[name].by_path
            for path in sorted(by_path):
                hits.extend(IndexedDefinition(path, d) for d in by_path[path])
        return hits[:limit]

    def _put(self, symbols: FileSymbols) -> None:
        path = symbols.path
        self._drop(path)
        self._generation += 1
        self._files[path] = symbols
        self._languages[symbols.language] += 1
        self._definition_count += len(symbols.definitions)
        grouped: dict[str, list[Definition]] = {}
        for d in symbols.definitions:
            grouped.setdefault(d.name, []).append(d)
        for name, defs in grouped.items():
            entry = self._names.get(name)
            if entry is None:
                entry = self._names[name] = _NameEntry(name)
            entry.by_path[path] = tuple(defs)
        for module in symbols.imports:
            self._importers.setdefault(module, set()).add(path)

    def _drop(self, path: str) -> bool:
        old = self._files.pop(path, None)
        if old is None:
            return False
        self._generation += 1
        self._languages[old.language] -= 1
        if self._languages[old.language] <= 0:
            del self._languages[old.language]
        self._definition_count -= len(old.definitions)
        for name in {d.name for d in old.definitions}:
            entry = self._names.get(name)
            if entry is not None:
                entry.by_path.pop(path, None)
                if not entry.by_path:
                    del self._names[name]
        for module in old.imports:
            importers = self._importers.get(module)
            if importers is not None:
                importers.discard(path)
                if not importers:
                    del self._importers[module]
        return True


def _rank(needle: str, names: list[tuple[str, _NameEntry]], limit: int) -> list[str]:
    """The best `limit` names for the lower-cased query, best first."""
    prefilter = _subsequence_pattern(needle)
    best = heapq.nsmallest(
        limit,
        (
            (key, name)
            for name, entry in names
            if prefilter.search(entry.lower)
            and (key := _match_key(needle, name, entry.lower)) is not None
        ),
    )
    return [name for _key, name in best]


def _subsequence_pattern(needle: str) -> re.Pattern[str]:
    """A regex finding `needle` as a subsequence: a cheap filter before `_match_key`. Each gap
    is `[^c]*c`, which cannot backtrack, so a miss costs linear time."""
    return re.compile("".join(f"[^{re.escape(c)}]*{re.escape(c)}" for c in needle))


def _match_key(needle: str, name: str, lower: str) -> tuple[int, int, int, int, str] | None:
    """A sort key (smaller is better) for `name` against the lower-cased query, or None when
    the query is not a subsequence of the name: (tier, -word-start matches, gaps, length, name)."""
    if not needle:
        return (0, 0, 0, len(name), name)
    if lower == needle:
        return (0, 0, 0, len(name), name)
    if lower.startswith(needle):
        return (1, 0, 0, len(name), name)
    found = lower.find(needle)
    if found >= 0:
        return (2, -int(_word_start(name, found)), found, len(name), name)
    # latest[k]: the last position needle[k] may take and still leave room for the rest.
    latest = [0] * len(needle)
    bound = len(lower)
    for k in range(len(needle) - 1, -1, -1):
        bound = lower.rfind(needle[k], 0, bound)
        if bound < 0:
            return None
        latest[k] = bound
    starts = gaps = 0
    i = -1
    for k, ch in enumerate(needle):
        j = lower.find(ch, i + 1)
        # Prefer an occurrence at a word start, so "gun" matches get_User_Name's humps.
        w = j
        while 0 <= w <= latest[k] and not _word_start(name, w):
            w = lower.find(ch, w + 1)
        if 0 <= w <= latest[k]:
            j = w
        starts += _word_start(name, j)
        gaps += j - i - 1
        i = j
    return (3, -starts, gaps, len(name), name)


def _word_start(name: str, i: int) -> bool:
    """Whether name[i] begins a word: the first character, after `_`, `-`, `.` or a digit
    boundary, or an upper-case letter after a lower-case one."""
    if i == 0:
        return True
    prev, ch = name[i - 1], name[i]
    if prev in "_-.$ ":
        return ch not in "_-.$ "
    return ch.isupper() and not prev.isupper()
