"""Index stage: bring a workspace's index up to date, starting from its snapshot when it has one.

Load the msgpack snapshot (a warm start), re-extract only what changed on disk, save the
result atomically, and only when something changed: a warm start over an unchanged workspace
costs the load and one `stat` per file. Used by `copilot-ls index` and by the server at start-up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from copilot_ls.index.extract import extract_file
from copilot_ls.index.model import FileSymbols
from copilot_ls.index.persistence import gc_paused, load_snapshot, save_snapshot, snapshot_path
from copilot_ls.index.refresh import Pause, Progress, RefreshStats, paced, refresh_index
from copilot_ls.index.store import SymbolIndex


@dataclass
class IndexBuild:
    index: SymbolIndex
    stats: RefreshStats
    warm: bool
    """A snapshot was found and used."""
    snapshot: str | None
    """Where the snapshot is: saved now, or loaded and still current (None when it could not
    be saved, or the build was cancelled)."""


def _extract(path: str, data: bytes, mtime_ns: int) -> FileSymbols:
    return extract_file(path, data, mtime_ns=mtime_ns)


def build_index(
    roots: Iterable[str],
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    cache: str | None = None,
    pause: Pause | None = None,
) -> IndexBuild:
    """The up-to-date index of `roots`, saved as their snapshot; `pause` is called before
    each file is extracted (see `refresh.paced`)."""
    root_list = list(roots)
    with gc_paused():
        loaded = load_snapshot(root_list, cache=cache)
        index = loaded if loaded is not None else SymbolIndex()
        extract = paced(_extract, pause)
        stats = refresh_index(root_list, index, extract, progress=progress, cancel=cancel)
        if stats.cancelled:
            return IndexBuild(index, stats, loaded is not None, None)
        if loaded is not None and not _changed(stats):
            return IndexBuild(index, stats, True, str(snapshot_path(root_list, cache=cache)))
        saved = save_snapshot(index, root_list, cache=cache)
    return IndexBuild(index, stats, loaded is not None, str(saved) if saved else None)


def _changed(stats: RefreshStats) -> bool:
    """Whether a refresh changed anything a snapshot holds."""
    return bool(stats.parsed or stats.removed or stats.failed or stats.retimed)
