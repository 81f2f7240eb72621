"""Index stage: bring a workspace's index up to date, starting from its snapshot when it has one.

Load the msgpack snapshot (a warm start), re-extract only what changed on disk, save the
result atomically. Used by `copilot-ls index` and, later, by the server at start-up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from copilot_ls.index.extract import extract_file
from copilot_ls.index.model import FileSymbols
from copilot_ls.index.persistence import load_snapshot, save_snapshot
from copilot_ls.index.refresh import Progress, RefreshStats, refresh_index
from copilot_ls.index.store import SymbolIndex


@dataclass
class IndexBuild:
    index: SymbolIndex
    stats: RefreshStats
    warm: bool
    """A snapshot was found and used."""
    snapshot: str | None
    """Where the snapshot was saved (None when it could not be)."""


def _extract(path: str, data: bytes, mtime_ns: int) -> FileSymbols:
    return extract_file(path, data, mtime_ns=mtime_ns)


def build_index(
    roots: Iterable[str],
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    cache: str | None = None,
) -> IndexBuild:
    """The up-to-date index of `roots`, saved as their snapshot."""
    root_list = list(roots)
    loaded = load_snapshot(root_list, cache=cache)
    index = loaded if loaded is not None else SymbolIndex()
    stats = refresh_index(root_list, index, _extract, progress=progress, cancel=cancel)
    saved = None if stats.cancelled else save_snapshot(index, root_list, cache=cache)
    return IndexBuild(index, stats, loaded is not None, str(saved) if saved else None)
