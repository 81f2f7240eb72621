"""Index stage: keep the workspace index in step with the editor's open buffers.

An open buffer is newer than its file on disk, so its definitions should be found even before
it is saved. `BufferIndexer` takes each buffer's text as the editor changes it and, on its own
thread (never the event loop's nor the model's), re-parses it incrementally
(`incremental.DocumentTrees`) and re-extracts its symbols into the index. Changes are debounced
per document: a burst of keystrokes costs one extraction, `delay_s` after the last of them, so
that extraction (tens of milliseconds for a large file) never competes with a completion.

Only buffers of real files under the workspace roots that the walk would index are indexed
(`path_rules.PathRules`, the same size and content rules). The index is replaced whole when the
initial indexing finishes: `reapply()` puts the buffers' symbols back into the new one. Closing
a buffer keeps its index entry; the caller has the file on disk re-read. No LSP types here.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from copilot_ls.index.extract import parseable_source, symbols_from_tree
from copilot_ls.index.incremental import DocumentTrees
from copilot_ls.index.model import FileSymbols
from copilot_ls.index.path_rules import PathRules
from copilot_ls.index.refresh import content_hash
from copilot_ls.index.store import SymbolIndex
from copilot_ls.index.walker import MAX_FILE_BYTES, content_skip_reason

logger = logging.getLogger(__name__)

DELAY_S = 0.2
"""A buffer is re-indexed once it has not changed for this long."""


@dataclass
class BufferStats:
    """What the indexer did, for logs and tests."""

    parses: int = 0
    incremental_parses: int = 0
    extractions: int = 0
    errors: int = 0


@dataclass
class _Buffer:
    roots: tuple[str, ...]
    indexable: bool | None = None
    """Decided on the worker thread the first time the buffer is processed while its file
    exists (a buffer of a file not yet saved is checked again later)."""


@dataclass(order=True)
class _Job:
    due: float
    path: str = field(compare=False)
    text: str | None = field(compare=False)
    """The buffer's text to index; None to close the buffer."""
    then: Callable[[str], None] | None = field(default=None, compare=False)


class BufferIndexer:
    """Indexes open buffers into `index()` on one worker thread; see the module docstring."""

    def __init__(self, index: Callable[[], SymbolIndex], *, delay_s: float = DELAY_S) -> None:
        self._index = index
        self._delay_s = delay_s
        self.stats = BufferStats()
        self._trees = DocumentTrees()
        self._cond = threading.Condition()
        self._buffers: dict[str, _Buffer] = {}  # open buffers; touched on the caller's thread
        self._pending: dict[str, _Job] = {}  # one job per path, the latest
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._symbols_lock = threading.Lock()  # orders writes to the index with `reapply`
        self._symbols: dict[str, FileSymbols] = {}  # the latest symbols of each open buffer

    # -- the editor's side (any thread) -------------------------------------------------------

    def open(self, path: str, text: str, roots: Iterable[str]) -> None:
        """A buffer was opened: parse it at once (it may differ from the file on disk)."""
        self._buffers[path] = _Buffer(tuple(os.path.abspath(r) for r in roots))
        self._queue(_Job(time.monotonic(), path, text))

    def change(self, path: str, text: str) -> None:
        """The buffer's text changed: re-index it once changes pause for `delay_s`."""
        if path in self._buffers:
            self._queue(_Job(time.monotonic() + self._delay_s, path, text))

    def flush(self, path: str) -> None:
        """Index the buffer's pending change now (it was saved)."""
        with self._cond:
            job = self._pending.get(path)
            if job is not None and job.text is not None:
                job.due = time.monotonic()
                self._cond.notify_all()

    def close(self, path: str, then: Callable[[str], None] | None = None) -> None:
        """The buffer was closed: drop its pending change and its tree, keep its index entry,
        and call `then(path)` on the worker thread once nothing of the buffer is left to run
        (to have the file on disk re-read)."""
        if self._buffers.pop(path, None) is not None:
            self._queue(_Job(time.monotonic(), path, None, then))

    def reapply(self) -> None:
        """Put the open buffers' symbols into `index()`: call it after replacing the index."""
        with self._symbols_lock:
            index = self._index()
            for path, symbols in self._symbols.items():
                current = index.get(path)
                if current is None or current.content_hash != symbols.content_hash:
                    index.replace(symbols)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is pending or running; False if `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self) -> None:
        """Drop pending jobs and end the worker thread."""
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5)

    # -- the worker thread ----------------------------------------------------------------

    def _queue(self, job: _Job) -> None:
        with self._cond:
            if self._stopping:
                return
            self._pending[job.path] = job
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="copilot-ls-buffers", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            try:
                self._process(job)
            except Exception:  # one bad buffer must not stop the others being indexed
                self.stats.errors += 1
                logger.exception("indexing the buffer of %s failed", job.path)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _next_job(self) -> _Job | None:
        """The first job that is due, waiting for it; None when stopping."""
        with self._cond:
            while not self._stopping:
                job = min(self._pending.values(), default=None)
                wait = None if job is None else job.due - time.monotonic()
                if job is not None and wait is not None and wait <= 0:
                    del self._pending[job.path]
                    self._busy = True
                    return job
                self._cond.wait(wait)
        return None

    def _process(self, job: _Job) -> None:
        if job.text is None:
            self._trees.forget(job.path)
            with self._symbols_lock:
                self._symbols.pop(job.path, None)
            if job.then is not None:
                job.then(job.path)
            return
        buffer = self._buffers.get(job.path)
        if buffer is None:
            return  # closed since; its close job follows
        if buffer.indexable is None:
            buffer.indexable = _indexable_path(job.path, buffer.roots)
        if buffer.indexable:
            self._index_text(job.path, job.text)

    def _index_text(self, path: str, text: str) -> None:
        data = text.encode("utf-8", errors="replace")  # lone surrogates cannot be encoded
        if len(data) > MAX_FILE_BYTES or content_skip_reason(data) is not None:
            return
        source = parseable_source(data)
        digest = content_hash(data)
        parsed = self._trees.update(path, source)
        self.stats.parses += 1
        self.stats.incremental_parses += bool(parsed and parsed.incremental)
        current = self._index().get(path)
        if current is not None and current.content_hash == digest:
            symbols = current  # already indexed as it is (the file on disk, or no change)
        else:
            symbols = symbols_from_tree(
                path,
                source,
                parsed.tree if parsed else None,
                parsed.spec if parsed else None,
                mtime_ns=0,  # not the file's: a refresh compares the bytes on disk
                content_hash=digest,
                size=len(data),
            )
            self.stats.extractions += 1
        with self._symbols_lock:
            if path not in self._buffers:
                return  # closed while this ran: leave the index to the file on disk
            self._symbols[path] = symbols
            index = self._index()
            if index.get(path) is not symbols:
                index.replace(symbols)


def _indexable_path(path: str, roots: tuple[str, ...]) -> bool | None:
    """Whether the walk of `roots` would index the file at `path`: a regular file under a root,
    neither ignored nor skipped by its name or a directory above it; None while there is no
    such file yet."""
    try:
        if not os.path.isfile(path):
            return None
        return PathRules(roots).skip_reason(path) is None
    except OSError as exc:
        logger.info("cannot tell whether to index %s: %s", path, exc)
        return False
