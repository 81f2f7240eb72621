"""Index stage: bring a `SymbolIndex` up to date with the files on disk.

`refresh_index` walks the workspace (names and `stat` only), drops indexed files that are gone
or now ignored, and re-extracts only files whose (mtime_ns, size) differ from what is indexed;
a file whose mtime changed but whose bytes hash the same keeps its symbols with the new mtime.
Started from a snapshot (`persistence.load_snapshot`), this makes a warm start cost one `stat`
per unchanged file. Extraction is injected, so this module does not depend on tree-sitter:

    refresh_index(roots, index, lambda p, d, m: extract_file(p, d, mtime_ns=m))
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from copilot_ls.index.model import FileSymbols
from copilot_ls.index.store import SymbolIndex
from copilot_ls.index.walker import (
    DEFAULT_MAX_FILES,
    MAX_FILE_BYTES,
    Candidate,
    SkipReason,
    content_skip_reason,
    walk_workspace,
)

logger = logging.getLogger(__name__)

Extract = Callable[[str, bytes, int], FileSymbols]
"""(path, file bytes, mtime_ns) -> FileSymbols."""

Pause = Callable[[], object]
"""Called before each file is extracted; returns when indexing may go on (see `paced`)."""

Progress = Callable[[int, int], None]
"""(files processed, files to process): called after each file (or once with (0, 0)); keep it
cheap, and throttle there if it sends messages."""


def paced(extract: Extract, pause: Pause | None) -> Extract:
    """`extract` that first waits for `pause()`: how the server makes indexing, which competes
    with the model for the CPU and the GIL, step aside while a completion is being served."""
    if pause is None:
        return extract

    def extract_when_allowed(path: str, data: bytes, mtime_ns: int) -> FileSymbols:
        pause()
        return extract(path, data, mtime_ns)

    return extract_when_allowed


@dataclass
class RefreshStats:
    seen: int = 0
    """Candidate files found by the walk."""
    parsed: int = 0
    """Files (re-)extracted."""
    reused: int = 0
    """Files whose indexed symbols were kept (same mtime and size, or same content hash)."""
    retimed: int = 0
    """Of the reused files, those kept for their content hash: their new mtime was recorded."""
    removed: int = 0
    """Indexed files dropped: vanished, now ignored or skipped, or failing to extract."""
    failed: int = 0
    """Files whose extraction raised (logged; they are left out of the index)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Paths the walk or the content checks left out, by `SkipReason` value."""
    truncated: bool = False
    """The walk stopped at the file limit."""
    cancelled: bool = False
    seconds: float = 0.0


def refresh_index(
    roots: Iterable[str],
    index: SymbolIndex,
    extract: Extract,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> RefreshStats:
    """Update `index` to match the files under `roots`; see the module docstring.

    When `cancel` is set, the refresh stops soon after, leaving every indexed file either up to
    date or as it was; vanished files are only dropped once the walk has completed.
    """
    started = time.monotonic()
    stats = RefreshStats()
    candidates: list[Candidate] = []
    for item in walk_workspace(
        roots, max_files=max_files, max_file_bytes=max_file_bytes, check_content=False
    ):
        if cancel is not None and cancel.is_set():
            return _finish(stats, started, cancelled=True)
        if isinstance(item, Candidate):
            candidates.append(item)
        else:
            stats.skipped[item.reason.value] += 1
            stats.truncated |= item.reason is SkipReason.FILE_LIMIT
    stats.seen = len(candidates)

    seen_paths = {c.path for c in candidates}
    for path in index.paths():
        if path not in seen_paths and index.remove(path):
            stats.removed += 1

    total = len(candidates)
    for done, candidate in enumerate(candidates, start=1):
        if cancel is not None and cancel.is_set():
            return _finish(stats, started, cancelled=True)
        refresh_file(candidate, index, extract, stats, max_file_bytes)
        if progress is not None:
            progress(done, total)
    if progress is not None and total == 0:
        progress(0, 0)
    return _finish(stats, started, cancelled=False)


def refresh_file(
    candidate: Candidate,
    index: SymbolIndex,
    extract: Extract,
    stats: RefreshStats,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> None:
    """Bring one file the walk (or a watcher) found up to date in `index`: kept when its
    (mtime_ns, size) or its content hash match what is indexed, dropped when it can no longer be
    read or its content is not worth indexing, re-extracted otherwise; `stats` counts which."""
    path = candidate.path
    old = index.get(path)
    if old is not None and (old.mtime_ns, old.size) == (candidate.mtime_ns, candidate.size):
        stats.reused += 1
        return
    data = _read_indexable(path, max_file_bytes)
    if isinstance(data, SkipReason):
        stats.skipped[data.value] += 1
        if index.remove(path):
            stats.removed += 1
        return
    if old is not None and old.content_hash == content_hash(data):
        index.replace(dataclasses.replace(old, mtime_ns=candidate.mtime_ns, size=len(data)))
        stats.reused += 1
        stats.retimed += 1
        return
    try:
        symbols = extract(path, data, candidate.mtime_ns)
    except Exception:  # one bad file must not stop the refresh
        logger.exception("extracting symbols from %s failed; leaving it out of the index", path)
        stats.failed += 1
        if index.remove(path):
            stats.removed += 1
        return
    index.replace(symbols)
    stats.parsed += 1


def content_hash(data: bytes) -> str:
    """The digest `FileSymbols.content_hash` holds: blake2b, 16 bytes, hex."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _read_indexable(path: str, max_file_bytes: int) -> bytes | SkipReason:
    """The file's bytes, or why they should not be indexed: unreadable or vanished since the
    walk, grown past the limit, or binary, minified or generated. Read in one go (at most one
    byte past the limit): the content checks look at the head of what was read."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_file_bytes + 1)
    except OSError as exc:
        logger.info("cannot read %s: %s", path, exc)
        return SkipReason.UNREADABLE
    if len(data) > max_file_bytes:
        return SkipReason.TOO_LARGE
    reason = content_skip_reason(data)
    return data if reason is None else reason


def _finish(stats: RefreshStats, started: float, *, cancelled: bool) -> RefreshStats:
    stats.cancelled = cancelled
    stats.seconds = time.monotonic() - started
    logger.info(
        "index refresh%s: %d files seen, %d parsed, %d reused, %d removed, %d failed, "
        "skipped %s in %.2fs",
        " (cancelled)" if cancelled else "",
        stats.seen,
        stats.parsed,
        stats.reused,
        stats.removed,
        stats.failed,
        dict(stats.skipped) or "none",
        stats.seconds,
    )
    return stats
