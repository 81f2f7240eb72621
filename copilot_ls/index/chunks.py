"""Index stage: cut a file's lines into chunks for similarity search.

Chunks follow the file's structure: they start at top-level definitions (found by
`extract.py`), and a piece longer than MAX_CHUNK_LINES is cut again at nested definitions, then
at blank lines. Only line ranges are produced; no tree-sitter here.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right

from copilot_ls.index.model import Chunk

MAX_CHUNK_LINES = 40


def chunk_lines(
    lines: list[str], boundaries: list[int] | tuple[int, ...], nested: list[int] | None = None
) -> tuple[Chunk, ...]:
    """Cut `lines` at `boundaries` (top-level definition starts); a piece longer than
    MAX_CHUNK_LINES is cut again at `nested` definition starts, then at blank lines."""
    cuts = sorted({0, len(lines), *(b for b in boundaries if 0 < b < len(lines))})
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
            pieces.extend(_windows(lines, sub_start, sub_end))
    chunks = []
    for start, end in pieces:
        while start < end and (not lines[start] or lines[start].isspace()):
            start += 1
        while end > start and (not lines[end - 1] or lines[end - 1].isspace()):
            end -= 1
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


def _windows(lines: list[str], start: int, end: int) -> list[tuple[int, int]]:
    """Blank-line-separated paragraphs of [start, end) packed into windows of at most
    MAX_CHUNK_LINES; a longer paragraph is cut every MAX_CHUNK_LINES lines."""
    if end - start <= MAX_CHUNK_LINES:
        return [(start, end)]
    paragraphs: list[tuple[int, int]] = []
    at = start
    for row, line in enumerate(lines[start:end], start):
        if not line or line.isspace():  # blank; `isspace` builds no stripped copy
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
