"""Context stage: chunks of other files that look like the code above the cursor (BM25).

The query is the identifier terms of the complete lines just above the cursor (never the
cursor's own line, which changes with every key). Candidate chunks, the index's line ranges of
a few chosen files, are tokenised once per file version and scored with Okapi BM25 over the
candidates. Scoring is sparse: only the terms a chunk shares with the query are looked at.
A long chunk is narrowed to its window of lines with the most query terms.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .selection import Snippet
from .tokens import terms

K1 = 1.2
B = 0.75
MAX_SNIPPET_LINES = 20
"""Lines of one similar chunk shown at most."""
MIN_SHARED_TERMS = 2
SHARED_SHARE = 0.2
MAX_SHARED_NEEDED = 6
"""A chunk counts as similar when it shares at least SHARED_SHARE of the query's distinct
terms, but never fewer than MIN_SHARED_TERMS nor more than MAX_SHARED_NEEDED are required:
BM25 scores alone are not comparable between queries, and a few common words are noise."""
MIN_CHUNK_TERMS = 3
FALLBACK_CHUNK_LINES = 20
"""Chunk size for text the index has no chunks for (an unsaved buffer, a stale entry)."""


@dataclass(frozen=True)
class ChunkTerms:
    """One chunk's terms: counts for scoring, per line for narrowing."""

    start: int
    end: int
    """Exclusive."""
    counts: dict[str, int]
    length: int
    line_terms: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class SearchFile:
    """A candidate file: its tokenised chunks and its lines."""

    path: str
    chunks: tuple[ChunkTerms, ...]
    lines: Sequence[str]
    exclude: tuple[int, int] | None = None
    """Lines [start, end) not to propose (the current file's own window)."""


class ChunkCache:
    """Tokenised chunks of file versions, least recently used forgotten first."""

    def __init__(self, capacity: int = 256) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[object, ...], tuple[ChunkTerms, ...]] = OrderedDict()
        self._capacity = capacity

    def get(
        self,
        key: tuple[object, ...],
        lines: Sequence[str],
        ranges: Iterable[tuple[int, int]] | None,
    ) -> tuple[ChunkTerms, ...]:
        """The chunks of `lines` cut at `ranges` (or in fixed windows when None)."""
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        cut = list(ranges) if ranges is not None else fixed_ranges(len(lines))
        value = tuple(tokenise_chunk(lines, start, end) for start, end in cut)
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        return value


def fixed_ranges(n_lines: int, size: int = FALLBACK_CHUNK_LINES) -> list[tuple[int, int]]:
    return [(start, min(start + size, n_lines)) for start in range(0, n_lines, size)]


def tokenise_chunk(lines: Sequence[str], start: int, end: int) -> ChunkTerms:
    end = min(end, len(lines))
    per_line = [terms(lines[n]) for n in range(start, end)]
    counts = Counter(term for line in per_line for term in line)
    return ChunkTerms(
        start,
        end,
        dict(counts),
        sum(counts.values()),
        tuple(frozenset(line) for line in per_line),
    )


def query_terms(lines: Iterable[str]) -> frozenset[str]:
    """The distinct terms of the query lines."""
    return frozenset(term for line in lines for term in terms(line))


def similar_snippets(
    query: frozenset[str], files: Sequence[SearchFile], limit: int
) -> list[Snippet]:
    """The `limit` chunks of `files` most similar to `query` by BM25, best first."""
    if not query:
        return []
    pool: list[tuple[SearchFile, ChunkTerms, set[str]]] = []
    df: Counter[str] = Counter()
    total_length = 0
    for file in files:
        for chunk in file.chunks:
            if chunk.length < MIN_CHUNK_TERMS or _excluded(file, chunk):
                continue
            shared = chunk.counts.keys() & query
            pool.append((file, chunk, shared))
            df.update(shared)
            total_length += chunk.length
    if not pool:
        return []
    n = len(pool)
    needed = min(MAX_SHARED_NEEDED, max(MIN_SHARED_TERMS, round(SHARED_SHARE * len(query))))
    average = total_length / n
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    scored: list[tuple[float, str, int, ChunkTerms, SearchFile, set[str]]] = []
    for file, chunk, shared in pool:
        if len(shared) < needed:
            continue
        norm = K1 * (1 - B + B * chunk.length / average)
        score = sum(idf[t] * chunk.counts[t] * (K1 + 1) / (chunk.counts[t] + norm) for t in shared)
        scored.append((score, file.path, chunk.start, chunk, file, shared))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    found: list[Snippet] = []
    seen_texts: set[tuple[str, ...]] = set()
    for score, path, _start, chunk, file, shared in scored:
        lines = _narrow(chunk, file.lines, query)
        text = tuple(file.lines[n].strip() for n in lines)
        if not lines or text in seen_texts:
            continue  # the same code copied in two places is shown once
        seen_texts.add(text)
        best_terms = sorted(shared, key=lambda t: (-idf[t], t))[:4]
        found.append(Snippet(path, lines, "similar", score, " ".join(best_terms)))
        if len(found) >= limit:
            break
    return found


def _excluded(file: SearchFile, chunk: ChunkTerms) -> bool:
    if file.exclude is None:
        return False
    start, end = file.exclude
    return chunk.start < end and start < chunk.end


def _narrow(chunk: ChunkTerms, lines: Sequence[str], query: frozenset[str]) -> tuple[int, ...]:
    """The chunk's lines, cut to the MAX_SNIPPET_LINES with the most query terms, without
    blank lines at either end."""
    start, end = chunk.start, chunk.end
    if end - start > MAX_SNIPPET_LINES:
        hits = [len(line & query) for line in chunk.line_terms]
        window = sum(hits[:MAX_SNIPPET_LINES])
        best, best_at = window, 0
        for at in range(1, len(hits) - MAX_SNIPPET_LINES + 1):
            window += hits[at + MAX_SNIPPET_LINES - 1] - hits[at - 1]
            if window > best:
                best, best_at = window, at
        start, end = start + best_at, start + best_at + MAX_SNIPPET_LINES
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return tuple(range(start, end))
