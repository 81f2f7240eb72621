"""Index stage: the workspace walk's rules applied to single paths, for updates between walks.

The watcher and the open-buffer indexer ask `PathRules` whether `walk_workspace(roots)` would
keep a path, without walking: the same default skipped directories, ignore files (`.gitignore`,
`.git/info/exclude`, the project ignore file) and file-name rules.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from copilot_ls.index.walker import (
    _IGNORE_SOURCES,
    DEFAULT_SKIP_DIRS,
    SkipReason,
    _decodable,
    _enclosing_layers,
    _ignore_layers,
    _ignored,
    _Layer,
    name_skip_reason,
)


class PathRules:
    """The walk's rules for single paths, for updates between two walks: why
    `walk_workspace(roots)` would leave a path out by its name, a directory above it or the
    ignore files (the file's content is not read; a path outside every root is `IGNORED`).
    Ignore files are read once per directory; call `reset()` after one changes."""

    def __init__(
        self, roots: Iterable[str], *, skip_dirs: frozenset[str] = DEFAULT_SKIP_DIRS
    ) -> None:
        self.roots = sorted({os.path.abspath(r) for r in roots})
        self._skip_dirs = skip_dirs
        # (root, directory) -> (its relative path, the layers in force inside it, why skipped)
        self._dirs: dict[tuple[str, str], tuple[str, tuple[_Layer, ...], SkipReason | None]] = {}

    def reset(self) -> None:
        """Forget what was read from ignore files and directories."""
        self._dirs.clear()

    def skip_reason(self, path: str, *, is_dir: bool = False) -> SkipReason | None:
        """Why the walk would leave `path` (a file, or a directory when `is_dir`) out, or None."""
        path = os.path.abspath(path)
        reasons = [self._reason(root, path, is_dir) for root in self.roots if _within(path, root)]
        if not reasons or None in reasons:
            return None if reasons else SkipReason.IGNORED
        return reasons[0]

    def _reason(self, root: str, path: str, is_dir: bool) -> SkipReason | None:
        if path == root:
            return None
        rel_dir, layers, reason = self._directory(root, os.path.dirname(path))
        name = os.path.basename(path)
        if reason is not None or not _decodable(name):
            return reason or SkipReason.UNDECODABLE_NAME
        if is_dir:
            return self._directory_reason(path, rel_dir + name + "/", layers)
        return SkipReason.IGNORED if _ignored(rel_dir + name, layers) else name_skip_reason(name)

    def _directory(
        self, root: str, directory: str
    ) -> tuple[str, tuple[_Layer, ...], SkipReason | None]:
        cached = self._dirs.get((root, directory))
        if cached is not None:
            return cached
        if directory == root:
            (rel_dir, layers), reason = _enclosing_layers(root), None
        else:
            parent_rel, layers, reason = self._directory(root, os.path.dirname(directory))
            rel_dir = parent_rel + os.path.basename(directory) + "/"
            if reason is None:
                reason = self._directory_reason(directory, rel_dir, layers)
        if reason is None:
            present = {n for n in _IGNORE_SOURCES if os.path.lexists(os.path.join(directory, n))}
            layers += _ignore_layers(directory, rel_dir, present)
        entry = self._dirs[(root, directory)] = (rel_dir, layers, reason)
        return entry

    def _directory_reason(
        self, directory: str, rel: str, layers: tuple[_Layer, ...]
    ) -> SkipReason | None:
        if os.path.basename(directory) in self._skip_dirs:
            return SkipReason.DEFAULT_DIR
        if _ignored(rel, layers):
            return SkipReason.IGNORED
        if os.path.exists(os.path.join(directory, "pyvenv.cfg")):
            return SkipReason.DEFAULT_DIR
        return None


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
