"""Evaluation stage: where to mask. Lines of real code chosen from an indexed repository.

A masking site is one line: the cursor goes after its indentation, the rest of the line is
removed, and the lines below stay in the document, as when a user types a new line in the
middle of a file. Only real code qualifies: tree-sitter must parse the line as code (not a
comment, a docstring or another string, not an import), long enough to be worth predicting,
without a trailing comment (free text nobody can predict), and not among a file's first lines.

With `cross-file` (the default, as CrossCodeEval does) a line must also use a name that the
workspace index defines in another file and not in the line's own file: the lines where
cross-file context can matter. In Python, a builtin's name or a method of a builtin type never
counts (`items.append(x)` does not use the project's `def append`, whatever the index says).
Selection is deterministic for a repository, a seed and a mode.
"""

from __future__ import annotations

import builtins
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tree_sitter import Node, QueryCursor, Tree

from copilot_ls.index.languages import LanguageSpec, language_for_path
from copilot_ls.index.store import SymbolIndex

log = logging.getLogger(__name__)

SiteMode = Literal["cross-file", "any"]

SKIP_FIRST_LINES = 5
"""Lines at the top of a file never masked: a completion needs some code above it."""
MIN_CHARS = 8
"""Shortest masked text: `)`, `else:` or `pass` measure nothing."""
MAX_CHARS = 160
"""Longest masked text: longer lines are mostly data, not code."""
MIN_NAME_CHARS = 3
"""Shorter names (`i`, `fn`, `io`) are too ambiguous to count as cross-file uses."""
MAX_SCAN_FILES = 1000
"""Files read to find candidate lines; a larger repository is sampled (with the seed)."""

IMPORT_NODES = frozenset(
    {
        "import_statement",
        "import_from_statement",
        "future_import_statement",
        "import_declaration",
        "package_clause",
        "package_declaration",
        "use_declaration",
        "extern_crate_declaration",
        "preproc_include",
        "using_directive",
    }
)
"""Node types of imports, in the 11 indexed languages: predicting them is a different task."""


@dataclass(frozen=True)
class MaskSite:
    """One line to mask: where the cursor goes and the text it hides."""

    path: str
    """Absolute path of the file."""
    line: int
    """0-based line."""
    column: int
    """Characters of indentation before the cursor (code points)."""
    target: str
    """The masked text: the line from its first non-blank character, trailing blanks cut."""
    cross_file_names: tuple[str, ...] = ()
    """Names on the line that the index defines in another file and not in this one."""


@dataclass
class SiteSelection:
    """The chosen sites, the texts of their files, and how many lines could have been chosen."""

    sites: list[MaskSite]
    texts: dict[str, str]
    """File text by path, for the files of the chosen sites."""
    eligible: int
    """Lines that qualified, the chosen ones included."""
    files_scanned: int


def read_source(path: str) -> str | None:
    """A file's text exactly as on disk (no newline translation, BOM removed); None when it
    cannot be read or is not UTF-8."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        log.info("skipping %s: not UTF-8", path)
        return None


def mask(text: str, site: MaskSite) -> tuple[str, int]:
    """The document with the site's target removed, and the cursor's offset in it."""
    lines = text.split("\n")
    if not 0 <= site.line < len(lines):
        raise ValueError(f"{site.path}: line {site.line} is outside the file")
    start = sum(len(row) + 1 for row in lines[: site.line]) + site.column
    if text[start : start + len(site.target)] != site.target:
        raise ValueError(f"{site.path}:{site.line + 1} no longer holds the masked text")
    return text[:start] + text[start + len(site.target) :], start


def _is_text(node_type: str) -> bool:
    """Comments and strings (docstrings, heredocs, text blocks) in any of the grammars."""
    return (
        "comment" in node_type
        or "string" in node_type
        or node_type in ("heredoc_body", "text_block")
    )


def _lineage(node: Node | None) -> list[str]:
    """The types of `node` and of all its ancestors, innermost first."""
    types: list[str] = []
    while node is not None:
        types.append(node.type)
        node = node.parent
    return types


def _references_by_row(spec: LanguageSpec, tree: Tree) -> dict[int, list[str]]:
    """The names the language's reference queries capture (calls, attributes, types: the
    index's notion of a use, which leaves local variables out), by row, in order."""
    queries = spec.queries()
    by_row: dict[int, list[Node]] = {}
    if queries is None:
        return {}
    for pattern, captures in QueryCursor(queries.query).matches(tree.root_node):
        if queries.pattern_kinds[pattern] != "references":
            continue
        for capture, nodes in captures.items():
            if capture.startswith("reference"):
                for node in nodes:
                    by_row.setdefault(node.start_point.row, []).append(node)
    return {
        row: [(n.text or b"").decode("utf-8", errors="replace") for n in sorted(nodes, key=_start)]
        for row, nodes in by_row.items()
    }


def _start(node: Node) -> int:
    return node.start_byte


_PYTHON_BUILTINS = frozenset(dir(builtins)).union(
    *(dir(kind) for kind in (str, bytes, bytearray, list, tuple, dict, set, frozenset, int, float))
)
"""Names a Python line may use without drawing on any file of the project."""


def _cross_file_names(names: list[str], path: str, index: SymbolIndex) -> tuple[str, ...]:
    """The names defined in another file of the index and not in `path` itself (for Python,
    builtins and builtin types' methods left out)."""
    chosen: list[str] = []
    python = path.endswith((".py", ".pyi"))
    for name in dict.fromkeys(names):
        if len(name) < MIN_NAME_CHARS or (python and name in _PYTHON_BUILTINS):
            continue
        where = {hit.path for hit in index.definitions(name)}
        if where and path not in where:
            chosen.append(name)
    return tuple(chosen)


def _site_at(
    path: str,
    line: str,
    row: int,
    tree: Tree,
    references: list[str],
    index: SymbolIndex,
    mode: SiteMode,
) -> MaskSite | None:
    """The site of one line, or None when the line does not qualify."""
    content = line.strip()
    if not MIN_CHARS <= len(content) <= MAX_CHARS or not any(c.isalpha() for c in content):
        return None
    column = len(line) - len(line.lstrip())
    start = len(line[:column].encode("utf-8"))
    end = start + len(content.encode("utf-8"))
    root = tree.root_node
    covering = root.descendant_for_point_range((row, start), (row, end))
    if covering is None or covering.has_error:
        return None
    lineage = _lineage(covering)
    if any(_is_text(t) for t in lineage) or IMPORT_NODES.intersection(lineage):
        return None
    last = root.descendant_for_point_range((row, end - 1), (row, end))
    if last is not None and "comment" in last.type:  # a trailing comment
        return None
    names = _cross_file_names(references, path, index)
    if mode == "cross-file" and not names:
        return None
    return MaskSite(path, row, column, content, names)


def candidate_sites(path: str, text: str, index: SymbolIndex, mode: SiteMode) -> list[MaskSite]:
    """Every line of one file that qualifies, top to bottom."""
    spec = language_for_path(path)
    parser = spec.parser() if spec is not None else None
    if spec is None or parser is None:
        return []
    tree = parser.parse(text.encode("utf-8"))
    references = _references_by_row(spec, tree)
    sites = []
    for row, line in enumerate(text.split("\n")):
        if row >= SKIP_FIRST_LINES:
            site = _site_at(path, line, row, tree, references.get(row, []), index, mode)
            if site is not None:
                sites.append(site)
    return sites


def select_sites(
    index: SymbolIndex, n: int, *, seed: int = 0, mode: SiteMode = "cross-file"
) -> SiteSelection:
    """`n` sites drawn at random (seeded) among the qualifying lines of the indexed files,
    sorted by path and line; fewer when fewer qualify."""
    rng = random.Random(seed)
    paths = [f.path for f in index.all_files() if f.language != "text"]
    if len(paths) > MAX_SCAN_FILES:
        paths = sorted(rng.sample(paths, MAX_SCAN_FILES))
    pool: list[MaskSite] = []
    texts: dict[str, str] = {}
    for path in paths:
        text = read_source(path)
        if text is None:
            continue
        found = candidate_sites(path, text, index, mode)
        if found:
            pool.extend(found)
            texts[path] = text
    chosen = sorted(rng.sample(pool, min(n, len(pool))), key=lambda s: (s.path, s.line))
    used = {site.path for site in chosen}
    return SiteSelection(
        chosen, {p: t for p, t in texts.items() if p in used}, len(pool), len(paths)
    )
