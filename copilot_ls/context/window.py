"""Context stage: the same-file window around the cursor, fitted to a token budget.

The window's start is chosen for the KV cache as much as for the model: it sits on a line
boundary snapped to a stride of lines, so while the user types, the prompt's beginning stays
byte-identical and only the last few tokens need evaluating. It moves forward in jumps of
`STRIDE` lines when the prefix outgrows the budget.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

STRIDE = 16
"""The prefix window starts on a line number that is a multiple of this."""
MIN_CHARS_PER_TOKEN = 2
"""Cutting a single over-long line by characters assumes at least this many per token."""
SAFETY = 0.95
"""Per-line token counts slightly undercount a joined text; keep this share of the budget."""
TRIPLE_QUOTE = re.compile(r'"""|\'\'\'')


@dataclass(frozen=True)
class CursorWindow:
    """The text the model sees on each side of the cursor."""

    prefix: str
    suffix: str
    prefix_start_line: int
    """Line number (0-based) where `prefix` starts in the document."""
    cursor_line_prefix: str
    """Text of the cursor's line before the cursor."""
    cursor_line_suffix: str
    """Text of the cursor's line after the cursor."""


class LineTokenCounter:
    """Counts tokens line by line, remembering recent lines (they rarely change between keys)."""

    def __init__(self, count: Callable[[str], int], capacity: int = 20_000) -> None:
        self._count = count
        self._cache: OrderedDict[str, int] = OrderedDict()
        self._capacity = capacity

    def __call__(self, line: str) -> int:
        hit = self._cache.get(line)
        if hit is not None:
            self._cache.move_to_end(line)
            return hit
        value = self._count(line)
        self._cache[line] = value
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return value


def build_window(
    text: str,
    offset: int,
    count_line: Callable[[str], int],
    *,
    prefix_budget: int,
    suffix_budget: int,
) -> CursorWindow:
    """Cut `text` around character `offset` so each side fits its token budget."""
    offset = max(0, min(offset, len(text)))
    before, after = text[:offset], text[offset:]
    prefix_lines = before.split("\n")
    start = _prefix_start(prefix_lines, count_line, int(prefix_budget * SAFETY))
    prefix = "\n".join(prefix_lines[start:])
    if start == len(prefix_lines) - 1 and count_line(prefix) > prefix_budget:
        prefix = prefix[-prefix_budget * MIN_CHARS_PER_TOKEN :]  # one huge (minified) line
    suffix_lines = after.split("\n")
    end = _suffix_end(suffix_lines, count_line, int(suffix_budget * SAFETY))
    suffix = "\n".join(suffix_lines[:end])
    if end == 1 and count_line(suffix) > suffix_budget:
        suffix = suffix[: suffix_budget * MIN_CHARS_PER_TOKEN]
    return CursorWindow(
        prefix=prefix,
        suffix=suffix,
        prefix_start_line=start,
        cursor_line_prefix=prefix_lines[-1],
        cursor_line_suffix=suffix_lines[0],
    )


def _prefix_start(lines: list[str], count_line: Callable[[str], int], budget: int) -> int:
    """First line of the prefix window: as early as the budget allows, snapped to the stride."""
    used = 0
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        used += count_line(lines[index]) + 1
        if used > budget:
            break
        start = index
    if start == 0:
        return 0
    cursor_line = len(lines) - 1
    snapped = -(-start // STRIDE) * STRIDE
    return min(_outside_string(lines, snapped), cursor_line)


def _outside_string(lines: list[str], start: int) -> int:
    """`start`, or the line after the end of the triple-quoted string it falls in. A window
    opening inside a docstring shows its closing quotes as opening ones, and the model then
    reads all the code below as a string."""
    delimiter: str | None = None
    for index, line in enumerate(lines):
        if index >= start and delimiter is None:
            return start
        for match in TRIPLE_QUOTE.finditer(line):
            if delimiter is None:
                delimiter = match.group(0)
            elif match.group(0) == delimiter:
                delimiter = None
        if delimiter is None and index >= start:
            return index + 1
    return start


def _suffix_end(lines: list[str], count_line: Callable[[str], int], budget: int) -> int:
    """Number of suffix lines that fit; the rest of the cursor's line always does."""
    used = count_line(lines[0])
    end = 1
    for line in lines[1:]:
        used += count_line(line) + 1
        if used > budget:
            break
        end += 1
    return end
