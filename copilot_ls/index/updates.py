"""Index stage: bring a `SymbolIndex` up to date for a set of paths that changed on disk.

`refresh_paths` is the single-path counterpart of `refresh.refresh_index`, for a file watcher
or the editor's `workspace/didChangeWatchedFiles`: a file is re-extracted only when its
(mtime_ns, size) and then its content hash differ from what is indexed; a file that vanished,
or that the walk would skip (ignored, in a skipped directory, binary, huge, minified,
generated, not a regular file) is dropped; a directory that appeared is walked with the same
rules; a directory that vanished, or that is now skipped, takes every indexed file under it
along. Paths may arrive in any order and more than once; the result is the same.
"""

from __future__ import annotations

import bisect
import logging
import os
import stat
import threading
import time
from collections.abc import Iterable, Iterator

from copilot_ls.index.path_rules import PathRules
from copilot_ls.index.refresh import Extract, RefreshStats, refresh_file
from copilot_ls.index.store import SymbolIndex
from copilot_ls.index.walker import DEFAULT_MAX_FILES, MAX_FILE_BYTES, Candidate, SkipReason

logger = logging.getLogger(__name__)


class _Batch:
    """What one `refresh_paths` call shares between paths."""

    def __init__(self, index: SymbolIndex, extract: Extract, rules: PathRules) -> None:
        self.index = index
        self.extract = extract
        self.rules = rules
        self.stats = RefreshStats()
        self.max_file_bytes = MAX_FILE_BYTES
        self.max_files = DEFAULT_MAX_FILES
        self.gone: list[str] = []
        """Directories whose indexed files all go: vanished, or now skipped."""
        self.done: set[str] = set()
        """Files already brought up to date (a file and its new directory both queued)."""
        self.walked: dict[str, set[str]] = {}
        """Directories walked, and the files found there: indexed files under them not found
        are gone."""


def refresh_paths(
    paths: Iterable[str],
    index: SymbolIndex,
    extract: Extract,
    rules: PathRules,
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
    cancel: threading.Event | None = None,
) -> RefreshStats:
    """Update `index` for `paths` (files or directories, existing or not); see the module
    docstring. New files are not added once the index holds `max_files` files. When `cancel`
    is set, stops soon after, leaving every indexed file either up to date or as it was."""
    started = time.monotonic()
    batch = _Batch(index, extract, rules)
    batch.max_file_bytes, batch.max_files = max_file_bytes, max_files
    for path in sorted({os.path.abspath(p) for p in paths}):
        if cancel is not None and cancel.is_set():
            batch.stats.cancelled = True
            break
        _refresh_path(path, batch)
    if not batch.stats.cancelled:
        _drop_missing(batch)
    batch.stats.seconds = time.monotonic() - started
    stats = batch.stats
    logger.debug(
        "index update: %d files seen, %d parsed, %d reused, %d removed, %d failed in %.3fs",
        stats.seen,
        stats.parsed,
        stats.reused,
        stats.removed,
        stats.failed,
        stats.seconds,
    )
    return stats


def _refresh_path(path: str, batch: _Batch) -> None:
    try:
        st = os.stat(path)
    except OSError:  # vanished (or never was): a file, or a directory with files under it
        _remove(path, batch)
        batch.gone.append(path)
        return
    if stat.S_ISDIR(st.st_mode):
        reason = batch.rules.skip_reason(path, is_dir=True)
        if reason is not None:
            batch.stats.skipped[reason.value] += 1
            batch.gone.append(path)
        else:
            _refresh_directory(path, batch)
        return
    _refresh_existing_file(path, st, batch)


def _refresh_existing_file(path: str, st: os.stat_result, batch: _Batch) -> None:
    if path in batch.done:
        return
    batch.done.add(path)
    reason = batch.rules.skip_reason(path)
    if reason is None and not stat.S_ISREG(st.st_mode):
        reason = SkipReason.NOT_REGULAR
    if reason is None and st.st_size > batch.max_file_bytes:
        reason = SkipReason.TOO_LARGE
    if reason is None and path not in batch.index and len(batch.index) >= batch.max_files:
        reason = SkipReason.FILE_LIMIT
        batch.stats.truncated = True
    if reason is not None:
        batch.stats.skipped[reason.value] += 1
        _remove(path, batch)
        return
    batch.stats.seen += 1
    candidate = Candidate(path, st.st_size, st.st_mtime_ns)
    refresh_file(candidate, batch.index, batch.extract, batch.stats, batch.max_file_bytes)


def _refresh_directory(directory: str, batch: _Batch) -> None:
    found = batch.walked.setdefault(directory, set())
    for path, st in _files_under(directory, batch):
        found.add(path)
        _refresh_existing_file(path, st, batch)


def _files_under(directory: str, batch: _Batch) -> Iterator[tuple[str, os.stat_result]]:
    """Files under `directory` that the walk's directory and ignore rules keep, with their
    `stat`; symlinked directories are followed once each."""
    visited: set[tuple[int, int]] = set()
    stack = [directory]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
            st = os.stat(current)
        except OSError as exc:
            logger.info("cannot list %s: %s", current, exc)
            batch.stats.skipped[SkipReason.UNREADABLE.value] += 1
            continue
        if (st.st_dev, st.st_ino) in visited:
            continue
        visited.add((st.st_dev, st.st_ino))
        for entry in entries:
            try:
                st = entry.stat()
            except OSError:  # vanished since the listing, or a dangling link
                continue
            if not stat.S_ISDIR(st.st_mode):
                yield entry.path, st
            elif batch.rules.skip_reason(entry.path, is_dir=True) is None:
                stack.append(entry.path)


def _remove(path: str, batch: _Batch) -> None:
    if batch.index.remove(path):
        batch.stats.removed += 1


def _drop_missing(batch: _Batch) -> None:
    """Drop indexed files under vanished or skipped directories, and those under walked
    directories that the walk did not find (one pass over the sorted paths per directory)."""
    if not batch.gone and not batch.walked:
        return
    indexed = batch.index.paths()
    for directory in batch.gone:
        for path in _under(indexed, directory):
            _remove(path, batch)
    for directory, found in batch.walked.items():
        for path in _under(indexed, directory):
            if path not in found:
                _remove(path, batch)


def _under(sorted_paths: list[str], directory: str) -> list[str]:
    prefix = directory.rstrip(os.sep) + os.sep
    start = bisect.bisect_left(sorted_paths, prefix)
    end = start
    while end < len(sorted_paths) and sorted_paths[end].startswith(prefix):
        end += 1
    return sorted_paths[start:end]
