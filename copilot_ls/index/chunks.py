"""Index stage: cut a file's lines into chunks for similarity search.

Chunks follow the file's structure: they start at top-level definitions (found by
`extract.py`), and a piece longer than MAX_CHUNK_LINES is cut again at nested definitions, then
at blank lines. Only line ranges are produced; no tree-sitter here. A file is described by its
number of lines and its blank lines (empty or whitespace only), which native extraction
finds without splitting the text into lines.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from copilot_ls.index.model import Chunk

MAX_CHUNK_LINES = 40


def blank_lines(lines: list[str]) -> list[int]:
    """The numbers of the empty or whitespace-only lines, in order."""
    return [row for row, line in enumerate(lines) if not line or line.isspace()]


def chunk_lines(
    lines: list[str], boundaries: list[int] | tuple[int, ...], nested: list[int] | None = None
) -> tuple[Chunk, ...]:
    """Cut `lines` at `boundaries` (top-level definition starts); a piece longer than
    MAX_CHUNK_LINES is cut again at `nested` definition starts, then at blank lines."""
    return chunk_layout(len(lines), blank_lines(lines), boundaries, nested)


def chunk_layout(
    line_count: int,
    blank: Sequence[int],
    boundaries: Sequence[int],
    nested: Sequence[int] | None = None,
) -> tuple[Chunk, ...]:
    """`chunk_lines` of a file of `line_count` lines whose blank lines are `blank` (sorted)."""
    cuts = sorted({0, line_count, *(b for b in boundaries if 0 < b < line_count)})
    inner = sorted(set(nested or ()))
    pieces: list[tuple[int, int]] = []
    for start, end in itertools.pairwise(cuts):
        if end - start <= MAX_CHUNK_LINES:
            pieces.append((start, end))
            continue
        # The nested starts strictly inside the piece, found by bisection: a file has a few
        # long pieces but may have thousands of nested definitions.
        inside = inner[bisect_right(inner, start) : bisect_left(inner, end)]
        sub_cuts = [start, *inside, end]
        for sub_start, sub_end in _merge_small(list(itertools.pairwise(sub_cuts))):
            pieces.extend(_windows(blank, sub_start, sub_end))
    chunks = []
    for start, end in pieces:
        # Blank lines trimmed off both ends: the blank lines within [start, end) are a run of
        # `blank` found by bisection, and the trimmed ones are consecutive at its ends.
        low, high = bisect_left(blank, start), bisect_left(blank, end)
        while low < high and blank[low] == start:
            start, low = start + 1, low + 1
        while high > low and blank[high - 1] == end - 1:
            end, high = end - 1, high - 1
        if start < end:
            chunks.append(Chunk(start, end))
    return tuple(chunks)


def _merge_small(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in pieces:
        if merged and end - merged[-1][0] <= MAX_CHUNK_LINES:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _windows(blank: Sequence[int], start: int, end: int) -> list[tuple[int, int]]:
    """Blank-line-separated paragraphs of [start, end) packed into windows of at most
    MAX_CHUNK_LINES; a longer paragraph is cut every MAX_CHUNK_LINES lines."""
    if end - start <= MAX_CHUNK_LINES:
        return [(start, end)]
    paragraphs: list[tuple[int, int]] = []
    at = start
    for row in itertools.islice(blank, bisect_left(blank, start), bisect_left(blank, end)):
        if row > at:
            paragraphs.append((at, row))
        at = row + 1
    if at < end:
        paragraphs.append((at, end))
    pieces: list[tuple[int, int]] = []
    step = MAX_CHUNK_LINES
    for p_start, p_end in paragraphs:
        pieces.extend((s, min(s + step, p_end)) for s in range(p_start, p_end, step))
    return _merge_small(pieces)
