"""Index stage: keep a `SymbolIndex` fresh from the file system while the server runs.

`IndexWatcher` observes the workspace roots with watchdog (inotify on Linux) and takes paths
from the editor too (`notify`, for `workspace/didChangeWatchedFiles`). Paths are coalesced in
one pending set and applied on the watcher's own thread, never the event loop's nor the
model's: once events stop for `debounce_s`, or at the latest `max_delay_s` after the first one
under a continuous stream. A batch goes through `updates.refresh_paths`; a change to an ignore
file, a burst of more than `burst_limit` paths or lost events (inotify queue overflow) make it
one `refresh.refresh_index` of the roots instead. Events under `.git`, `node_modules` and the
walker's other skipped directories are dropped as they arrive.

Observing starts before the initial walk and events wait until `attach` hands over the index,
so nothing changed during the walk is lost. The watcher never raises on file-system trouble:
a missing root is left out, and when inotify cannot start (watch or instance limits) it falls
back to rescanning the roots periodically (a stat-only walk), spaced by ten times what the
last one took. `SnapshotSaver` saves the index's snapshot at most once per interval after
changes, and once more at `stop`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from copilot_ls.index.model import FileSymbols
from copilot_ls.index.path_rules import PathRules
from copilot_ls.index.refresh import Extract, Pause, RefreshStats, paced, refresh_index
from copilot_ls.index.store import SymbolIndex
from copilot_ls.index.updates import refresh_paths
from copilot_ls.index.walker import DEFAULT_SKIP_DIRS, IGNORE_FILE_NAME

logger = logging.getLogger(__name__)

DEBOUNCE_S = 0.05
"""A batch is applied once no event came for this long..."""
MAX_DELAY_S = 0.15
"""...or this long after its first event, whichever comes first."""
BURST_LIMIT = 2_000
"""Pending paths above which the batch becomes one refresh of the whole workspace."""
RESCAN_INTERVAL_S = 5.0
"""Shortest time between two rescans when events cannot be observed."""
RESCAN_COST_FACTOR = 10
"""Without events, rescans are spaced by at least this many times what the last one took."""
SNAPSHOT_INTERVAL_S = 30.0
"""The snapshot is saved at most this long after the first change since the last save."""

RULE_FILES = frozenset({".gitignore", IGNORE_FILE_NAME, "pyvenv.cfg"})
"""Files whose change changes which paths the walk skips (`pyvenv.cfg` marks a virtualenv)."""

_EVENT_TYPES: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileClosedEvent, FileDeletedEvent, FileMovedEvent,
    DirCreatedEvent, DirDeletedEvent, DirMovedEvent,
]  # fmt: skip
"""Events asked of watchdog: directory modifications, opens and attribute changes say nothing
the others do not."""

_OVERFLOW_LOGGER = "watchdog.observers.inotify_c"
"""watchdog reports a kernel queue overflow (events lost) only as a warning from this logger."""


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _extract_file(path: str, data: bytes, mtime_ns: int) -> FileSymbols:
    from copilot_ls.index.extract import extract_file  # tree-sitter, loaded only when needed

    return extract_file(path, data, mtime_ns=mtime_ns)


@dataclass(frozen=True)
class AppliedBatch:
    """One batch of changes the watcher applied to the index."""

    paths: tuple[str, ...]
    """The changed paths, sorted (empty for a periodic rescan)."""
    full: bool
    """Applied as one refresh of the whole workspace rather than path by path."""
    stats: RefreshStats


class SnapshotSaver:
    """Calls `save` at most once per `interval_s`, on a timer thread, after `changed()`; `flush`
    saves what is pending at once and stops the timer."""

    def __init__(self, save: Callable[[], object], interval_s: float = SNAPSHOT_INTERVAL_S) -> None:
        self._save = save
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()  # one save at a time: timer and flush may race
        self._dirty = False
        self._timer: threading.Timer | None = None
        self.saves = 0

    def changed(self) -> None:
        with self._lock:
            self._dirty = True
            if self._timer is None:
                self._timer = threading.Timer(self._interval_s, self._on_timer)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._save_if_dirty()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
        self._save_if_dirty()

    def _save_if_dirty(self) -> None:
        with self._save_lock:
            with self._lock:
                dirty, self._dirty = self._dirty, False
            if not dirty:
                return
            try:
                self._save()
                self.saves += 1
            except Exception:  # a snapshot is an optimisation; the next start rebuilds it
                logger.exception("saving the index snapshot failed")


def _log_files() -> frozenset[str]:
    """The files this process logs to (`--log-file`): never indexed, never watched."""
    handlers = logging.getLogger().handlers
    return frozenset(
        os.path.abspath(h.baseFilename) for h in handlers if isinstance(h, logging.FileHandler)
    )


class _Events(FileSystemEventHandler):
    """Forwards the paths of watchdog's events to the watcher (on watchdog's thread)."""

    def __init__(self, watcher: IndexWatcher) -> None:
        self._watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        for raw in (event.src_path, event.dest_path):
            if raw:
                self._watcher.on_file_event(os.fsdecode(raw))


class _OverflowListener(logging.Handler):
    def __init__(self, watcher: IndexWatcher) -> None:
        super().__init__(logging.WARNING)
        self._watcher = watcher

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self._watcher.request_rescan()


class IndexWatcher:
    """Applies file-system changes under `roots` to an index; see the module docstring.

    `start()` begins observing (with `observe=False` only `notify` feeds it), `attach(index)`
    begins applying, `stop()` ends both. `on_applied` is called on the watcher's thread after
    each batch. `mode` says how changes are found: "events", "rescan" or "off".
    """

    def __init__(
        self,
        roots: Iterable[str],
        *,
        extract: Extract | None = None,
        pause: Pause | None = None,
        observe: bool = True,
        on_applied: Callable[[AppliedBatch], None] | None = None,
        debounce_s: float = DEBOUNCE_S,
        max_delay_s: float = MAX_DELAY_S,
        burst_limit: int = BURST_LIMIT,
        rescan_interval_s: float = RESCAN_INTERVAL_S,
    ) -> None:
        self.roots = sorted({os.path.abspath(r) for r in roots})
        self.on_applied = on_applied
        self.mode = "off"
        self._extract = paced(extract or _extract_file, pause)  # see refresh.paced
        self._observe = observe
        self._debounce_s, self._max_delay_s = debounce_s, max_delay_s
        self._burst_limit = burst_limit
        self._rescan_interval_s = rescan_interval_s
        self._rules = PathRules(self.roots)
        self._log_files = _log_files()
        self._cond = threading.Condition()
        self._pending: dict[str, None] = {}  # an ordered set
        self._rescan = False
        self._first_at: float | None = None
        """When the oldest change waiting was queued; None when none waits."""
        self._last_at = 0.0
        self._index: SymbolIndex | None = None
        self._snapshot: SnapshotSaver | None = None
        self._stopping = threading.Event()
        self._observer: BaseObserver | None = None
        self._overflow = _OverflowListener(self)
        self._thread = threading.Thread(target=self._run, name="copilot-ls-watcher", daemon=True)
        self._next_rescan_at = 0.0
        """In "rescan" mode, when the next periodic rescan is due."""

    # -- control ------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin observing the roots (this walks their directories to add watches, so call it
        off the event loop) and start the thread that applies changes."""
        if self._observe:
            self._start_observer()
        self._thread.start()
        if self._stopping.is_set():  # stopped while the watches were being added
            self.stop(timeout=0, flush=False)

    def attach(self, index: SymbolIndex, snapshot: SnapshotSaver | None = None) -> None:
        """Apply changes, those waiting since `start()` first, to `index` from now on, and tell
        `snapshot` after each batch that changed it."""
        with self._cond:
            self._index, self._snapshot = index, snapshot
            self._next_rescan_at = time.monotonic() + self._rescan_interval_s
            self._cond.notify_all()

    def notify(self, paths: Iterable[str]) -> None:
        """Paths the editor says changed (created, changed or deleted)."""
        for path in paths:
            self.on_file_event(path)

    def request_rescan(self) -> None:
        """Refresh the whole workspace with the next batch (events were lost)."""
        with self._cond:
            self._rescan = True
            self._touch(time.monotonic())
            self._cond.notify_all()

    def stop(self, timeout: float = 5.0, *, flush: bool = True) -> None:
        """Stop observing and applying (a batch in progress is cancelled between files), then
        save the snapshot if changes are pending and `flush`."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        observer, self._observer = self._observer, None
        logging.getLogger(_OVERFLOW_LOGGER).removeHandler(self._overflow)
        if observer is not None:
            observer.stop()
            if timeout > 0:
                observer.join(timeout)
        if self._thread.is_alive() and timeout > 0:
            self._thread.join(timeout)
        if flush and self._snapshot is not None:
            self._snapshot.flush()

    # -- events (any thread) ------------------------------------------------------------------

    def on_file_event(self, path: str) -> None:
        """Queue `path` (absolute) unless it is under a directory the walk never enters."""
        path = os.path.abspath(path)
        if path in self._log_files:
            return  # each event on the server's own log would be logged there: a feedback loop
        relevant, rules_changed = self._classify(path)
        if not relevant or self._stopping.is_set():
            return
        with self._cond:
            self._pending[path] = None
            if rules_changed or len(self._pending) > self._burst_limit:
                self._rescan = True
            if self._rescan and len(self._pending) > self._burst_limit:
                self._pending.clear()  # the rescan covers them; keep memory bounded
            self._touch(time.monotonic())
            self._cond.notify_all()

    def _classify(self, path: str) -> tuple[bool, bool]:
        """(worth queuing, changes the ignore rules), from the path's parts below its root."""
        root = next((r for r in self.roots if _within(path, r)), None)
        if root is None:
            return False, False
        parts = os.path.relpath(path, root).split(os.sep)
        name = parts[-1]
        if parts in ([".git"], [".git", "info", "exclude"]):
            return True, True
        if any(part in DEFAULT_SKIP_DIRS for part in parts):
            return False, False
        return True, name in RULE_FILES

    def _touch(self, now: float) -> None:
        if self._first_at is None:
            self._first_at = now
        self._last_at = now

    # -- the watcher's thread -----------------------------------------------------------------

    def _start_observer(self) -> None:
        roots = [r for r in self.roots if os.path.isdir(r)]
        for missing in sorted(set(self.roots) - set(roots)):
            logger.warning("workspace folder %s does not exist; not watching it", missing)
        if not roots:
            return
        observer = Observer()
        try:
            for root in roots:
                observer.schedule(_Events(self), root, recursive=True, event_filter=_EVENT_TYPES)
            observer.start()
        except Exception as exc:  # inotify watch or instance limit, permissions...
            logger.warning(
                "cannot watch %s for changes (%s); rescanning it periodically instead. On Linux, "
                "raising fs.inotify.max_user_watches lets copilot-ls watch it.",
                ", ".join(roots),
                exc,
            )
            observer.stop()
            self.mode = "rescan"
            return
        logging.getLogger(_OVERFLOW_LOGGER).addHandler(self._overflow)
        self._observer, self.mode = observer, "events"

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            index, paths, full = batch
            try:
                self._apply(index, paths, full)
            except Exception:  # the watcher must outlive any one bad batch
                logger.exception("applying %d changed paths to the index failed", len(paths))

    def _next_batch(self) -> tuple[SymbolIndex, list[str], bool] | None:
        """Wait for the next batch to be due: (index, paths, whole workspace?), or None."""
        with self._cond:
            while not self._stopping.is_set():
                now = time.monotonic()
                index = self._index
                if index is not None and self.mode == "rescan" and now >= self._next_rescan_at:
                    self._rescan = True
                    self._touch(now - self._max_delay_s)
                if index is None or self._first_at is None:
                    rescans = index is not None and self.mode == "rescan"
                    self._cond.wait(self._next_rescan_at - now if rescans else None)
                    continue
                due = min(self._last_at + self._debounce_s, self._first_at + self._max_delay_s)
                if now < due:
                    self._cond.wait(due - now)
                    continue
                paths, full = sorted(self._pending), self._rescan
                self._pending.clear()
                self._rescan, self._first_at = False, None
                return index, paths, full or len(paths) > self._burst_limit
        return None

    def _apply(self, index: SymbolIndex, paths: list[str], full: bool) -> None:
        if full:
            self._rules.reset()
            stats = refresh_index(self.roots, index, self._extract, cancel=self._stopping)
            # Without events, rescans are what finds changes: keep their CPU share small.
            wait = max(self._rescan_interval_s, RESCAN_COST_FACTOR * stats.seconds)
            self._next_rescan_at = time.monotonic() + wait
        else:
            stats = refresh_paths(paths, index, self._extract, self._rules, cancel=self._stopping)
        if self._snapshot is not None and (stats.parsed or stats.removed):
            self._snapshot.changed()
        if self.on_applied is not None:
            try:
                self.on_applied(AppliedBatch(tuple(paths), full, stats))
            except Exception:
                logger.exception("the watcher's on_applied callback failed")
