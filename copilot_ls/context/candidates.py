"""Context stage: which files are worth searching for code similar to the cursor's.

A workspace may hold tens of thousands of files; scoring every chunk of every one per request
would cost far more than the completion. The candidates are the files the user is likely to
be working with: open and recently edited documents, the files the current file imports and
those that import it, the files defining names used near the cursor, and its neighbours in
the same directory. Each lookup is a dictionary probe or one directory listing.
"""

from __future__ import annotations

import logging
import os
import posixpath
from collections.abc import Iterable

from copilot_ls.index.model import FileSymbols
from copilot_ls.index.store import SymbolIndex

log = logging.getLogger(__name__)

MAX_CANDIDATE_FILES = 50
MAX_SAME_DIRECTORY = 20
MAX_IMPORTERS_SCANNED = 400
MAX_IMPORTERS_CHECKED = 32
"""A module imported by thousands of files (a common name) is not worth resolving them all."""
_SCRIPT = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".d.ts")
_SUFFIXES: dict[str, tuple[str, ...]] = {
    ".py": (".py", ".pyi", "/__init__.py"),
    ".pyi": (".pyi", ".py", "/__init__.py"),
    ".rs": (".rs", "/mod.rs"),
    **{ext: (*_SCRIPT, "/index.ts", "/index.tsx", "/index.js") for ext in _SCRIPT},
}
_KEEP_DOTS = (".h", ".hpp", ".hh", ".hxx", ".inc", ".js", ".ts", ".css", ".json")
"""Module strings ending so are file names, not dotted module paths."""


def resolve_import(
    module: str, directory: str, root: str | None, suffix: str, index: SymbolIndex
) -> str | None:
    """The indexed file `module` (as written in an import) names, from a file in `directory`."""
    for base in _bases(module, directory, root):
        if base in index:
            return base
        for ending in _SUFFIXES.get(suffix, (suffix,)):
            if base + ending in index:
                return base + ending
    return None


def _bases(module: str, directory: str, root: str | None) -> list[str]:
    if module.startswith(("./", "../")):
        return [posixpath.normpath(posixpath.join(directory, module))]
    if module.startswith("/"):
        return [module]
    if module.startswith("."):  # Python relative import: one dot per package level
        rest = module.lstrip(".")
        base = directory
        for _ in range(len(module) - len(rest) - 1):
            base = posixpath.dirname(base)
        return [posixpath.join(base, rest.replace(".", "/") if rest else "__init__")]
    relative = module.replace("::", "/")
    if "/" not in relative and not relative.endswith(_KEEP_DOTS):
        relative = relative.replace(".", "/")
    relative = relative.removeprefix("crate/")
    bases = [posixpath.join(directory, relative)]
    if root:
        bases.append(posixpath.join(root, relative))
    return bases


def imported_files(
    symbols: FileSymbols | None, current_path: str, root: str | None, index: SymbolIndex
) -> list[str]:
    """Indexed files the current file imports, in import order."""
    if symbols is None:
        return []
    directory, suffix = split_path(current_path)
    found: dict[str, None] = {}
    for module in symbols.imports:
        path = resolve_import(module, directory, root, suffix, index)
        if path is not None and path != current_path:
            found.setdefault(path, None)
    return list(found)


def importing_files(current_path: str, root: str | None, index: SymbolIndex) -> list[str]:
    """Indexed files whose imports resolve to the current file."""
    suffix = split_path(current_path)[1]
    stem = posixpath.basename(current_path)[: -len(suffix) or None]
    names = {stem, "./" + stem, "." + stem}
    if root and current_path.startswith(root.rstrip("/") + "/"):
        relative = current_path[len(root.rstrip("/")) + 1 :][: -len(suffix) or None]
        names.update({relative, relative.replace("/", ".")})
    directory = posixpath.dirname(current_path)
    found: dict[str, None] = {}
    checked = 0
    for name in sorted(names):
        # Only a name written from the root can be imported from anywhere; the others
        # resolve from the importer's directory, so other directories are not even checked.
        anywhere = name not in (stem, "./" + stem, "." + stem) or directory == root
        for path in index.importers(name)[:MAX_IMPORTERS_SCANNED]:
            there, there_suffix = split_path(path)
            if path == current_path or path in found or (not anywhere and there != directory):
                continue
            checked += 1
            if resolve_import(name, there, root, there_suffix, index) == current_path:
                found[path] = None
            if checked >= MAX_IMPORTERS_CHECKED:
                return list(found)
    return list(found)


def same_directory(current_path: str, index: SymbolIndex) -> list[str]:
    """Indexed files next to the current one, by name."""
    directory = posixpath.dirname(current_path)
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    found: list[str] = []
    for name in names:
        path = posixpath.join(directory, name)
        if path != current_path and path in index:
            found.append(path)
            if len(found) >= MAX_SAME_DIRECTORY:
                break
    return found


def first_distinct(groups: Iterable[Iterable[str]], exclude: str, limit: int) -> list[str]:
    """Paths of `groups` in order, each once, without `exclude`, at most `limit`."""
    out: dict[str, None] = {}
    for group in groups:
        for path in group:
            if path != exclude:
                out.setdefault(path, None)
                if len(out) >= limit:
                    return list(out)
    return list(out)


def split_path(path: str) -> tuple[str, str]:
    """Directory and suffix (`.d.ts` counts as one) of a path."""
    name = posixpath.basename(path)
    suffix = ".d.ts" if name.endswith(".d.ts") else posixpath.splitext(name)[1]
    return posixpath.dirname(path), suffix
