"""Context stage: the documents the user has open or edited lately, most recent first.

The editor's buffers are the freshest text there is (newer than the files on disk), and what
the user touched last is the best guess at what they are working on. The documents feature
records opens, edits and closes here; retrieval reads it. Bounded, thread-safe, no LSP types.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

DEFAULT_LIMIT = 20
"""Documents remembered; the least recently touched are forgotten first."""


@dataclass(frozen=True)
class RecentDocument:
    path: str
    text: str
    """The buffer's text when last touched (for a closed document, its last known text)."""
    touched: float
    """`time.monotonic()` of the last open or edit."""
    edited: bool
    """Changed in the editor since it was opened."""
    edit_line: int | None
    """The 0-based line of the last edit, when known."""
    open: bool


class RecentDocuments:
    """Open and recently edited documents, keyed by absolute path."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._docs: OrderedDict[str, RecentDocument] = OrderedDict()

    def opened(self, path: str, text: str) -> None:
        with self._lock:
            old = self._docs.get(path)
            edited = old.edited if old is not None else False
            line = old.edit_line if old is not None else None
            self._put(RecentDocument(path, text, time.monotonic(), edited, line, True))

    def edited(self, path: str, text: str, line: int | None = None) -> None:
        with self._lock:
            self._put(RecentDocument(path, text, time.monotonic(), True, line, True))

    def closed(self, path: str) -> None:
        """The document stays remembered (it was recent), but is no longer an open buffer."""
        with self._lock:
            old = self._docs.get(path)
            if old is not None:
                self._docs[path] = RecentDocument(
                    path, old.text, old.touched, old.edited, old.edit_line, False
                )

    def forget(self, path: str) -> None:
        with self._lock:
            self._docs.pop(path, None)

    def text(self, path: str) -> str | None:
        """The text of an open buffer for `path`, or None when it is not open."""
        with self._lock:
            doc = self._docs.get(path)
            return doc.text if doc is not None and doc.open else None

    def recent(self, exclude: str | None = None) -> list[RecentDocument]:
        """Remembered documents, most recently touched first, without `exclude`."""
        with self._lock:
            return [doc for path, doc in reversed(self._docs.items()) if path != exclude]

    def _put(self, doc: RecentDocument) -> None:
        self._docs.pop(doc.path, None)
        self._docs[doc.path] = doc
        while len(self._docs) > self._limit:
            self._docs.popitem(last=False)
