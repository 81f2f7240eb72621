"""Context stage: the text of other files, read lazily, freshest source first.

The workspace index keeps line ranges, not text. When a request needs a file's lines they come
from the editor's buffer when the file is open there (newer than the disk), else from the disk,
read once and kept while the file's (mtime, size) stays the same. A vanished, unreadable,
binary or huge file gives None: context is a help and never fails a completion.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1_000_000
"""Larger files are not read for context (generated or minified code, data)."""
DEFAULT_CAPACITY = 128
"""Files whose lines are kept."""


@dataclass(frozen=True)
class FileText:
    """One version of a file's text, split into lines."""

    lines: tuple[str, ...]
    version: tuple[object, ...]
    """Changes whenever the text may have: (mtime_ns, size) on disk, a text hash for buffers."""


class FileTexts:
    """Lines of files by path, from open buffers or the disk, with a small LRU cache."""

    def __init__(
        self,
        buffer: Callable[[str], str | None] | None = None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self._buffer = buffer
        self._capacity = capacity
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[object, ...], FileText] = OrderedDict()

    def get(self, path: str) -> FileText | None:
        """The file's current lines, or None when it cannot be read as text."""
        text = self._buffer(path) if self._buffer is not None else None
        if text is not None:
            return self._remember(("buffer", path, len(text), hash(text)), lambda: text)
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if stat.st_size > MAX_FILE_BYTES:
            return None
        return self._remember(("disk", path, stat.st_mtime_ns, stat.st_size), lambda: _read(path))

    def _remember(self, key: tuple[object, ...], read: Callable[[], str | None]) -> FileText | None:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        text = read()
        if text is None:
            return None
        value = FileText(tuple(text.split("\n")), key[2:])
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        return value


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        log.debug("context: cannot read %s (%s)", path, exc)
        return None
    if len(data) > MAX_FILE_BYTES or b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")
