"""Context stage: how the current file uses, elsewhere, the objects used near the cursor.

The window shows a few hundred tokens of a file that may hold thousands of lines, and the
names a line needs from other files (`self._loop.get_debug()`, `sock.fileno()`,
`constants.SSL_SHUTDOWN_TIMEOUT`) are mostly used somewhere else in the same file already.
For each object used as `object.attr` above the cursor (nearest first: `self._loop`,
`sock`, `constants`), this source proposes lines of the current file outside the window
that use the same object with attributes the window does not show: one line per attribute,
the attributes the file uses most first, the line nearest to the cursor for each.
A line of the file is the cheapest context there is: short, in the file's own style, and
exactly the vocabulary the next line is likely to draw on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .selection import Snippet

MAX_OBJECTS = 6
"""Objects of the window looked up, nearest to the cursor first."""
MAX_PER_OBJECT = 4
"""Lines proposed per object (one per attribute)."""
MAX_LINE_CHARS = 120
"""Longer lines (data, long literals) cost more than the name they show is worth."""
MAX_DISTANCE = 2000
"""Lines further from the cursor are not scanned: the scan runs once per cursor line and must
stay a few milliseconds in files of any length."""
SELVES = frozenset({"self", "cls", "this"})
CHAIN = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
"""A dotted chain: `self._loop.call_soon`, `constants.SSL_SHUTDOWN_TIMEOUT`."""


def uses(line: str) -> list[tuple[str, str]]:
    """Every (object, attribute) of `line`'s dotted chains: `self._loop.call_soon` gives
    (self, _loop) and (self._loop, call_soon)."""
    found: list[tuple[str, str]] = []
    for match in CHAIN.finditer(line):
        parts = match.group(0).split(".")
        for cut in range(1, len(parts)):
            found.append((".".join(parts[:cut]), parts[cut]))
    return found


def objects_nearest_first(above: Sequence[str], limit: int = MAX_OBJECTS) -> list[str]:
    """Distinct objects used as `object.attr` in `above`, the last use first, at most
    `limit`; `self` (and the like) comes last: its attributes are everywhere in a class."""
    found: dict[str, None] = {}
    selves: dict[str, None] = {}
    for line in reversed(above):
        for obj, _attr in reversed(uses(line)):
            if obj in SELVES:
                selves.setdefault(obj, None)
            elif len(found) < limit:
                found.setdefault(obj, None)
    return [*found, *selves]


def usage_snippets(
    path: str,
    lines: Sequence[str],
    cursor_line: int,
    window: tuple[int, int],
    above: Sequence[str],
    own_class: tuple[int, int] | None = None,
) -> list[Snippet]:
    """Lines of the current file (`lines`) outside `window` (first line, line after the last)
    that use an object of `above` with an attribute `above` does not show it with. `self`
    is another object in each class: its uses count only within `own_class` (first and last
    line of the class around the cursor), and not at all outside a class."""
    objects = objects_nearest_first(above)
    if not objects:
        return []
    seen = {(obj, attr) for line in above for obj, attr in uses(line)}
    wanted = set(objects)
    start, end = window
    # attribute -> (uses in the file, nearest line) per object
    found: dict[str, dict[str, tuple[int, int]]] = {obj: {} for obj in objects}
    first = max(0, cursor_line - MAX_DISTANCE)
    for number, line in enumerate(lines[first : cursor_line + MAX_DISTANCE + 1], start=first):
        if start <= number < end or number == cursor_line or len(line) > MAX_LINE_CHARS:
            continue
        in_class = own_class is not None and own_class[0] <= number <= own_class[1]
        for obj, attr in uses(line):
            if obj not in wanted or (obj, attr) in seen or (obj in SELVES and not in_class):
                continue
            count, nearest = found[obj].get(attr, (0, number))
            if abs(number - cursor_line) < abs(nearest - cursor_line):
                nearest = number
            found[obj][attr] = (count + 1, nearest)
    snippets: list[Snippet] = []
    for rank, obj in enumerate(objects):
        best = sorted(
            found[obj].items(), key=lambda item: (-item[1][0], abs(item[1][1] - cursor_line))
        )
        for attr, (count, number) in best[:MAX_PER_OBJECT]:
            score = 1.0 / (1 + rank) + count / 1000
            snippets.append(Snippet(path, (number,), "usage", score, f"{obj}.{attr}"))
    return snippets
