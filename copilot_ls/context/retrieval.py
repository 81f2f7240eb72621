"""Context stage: definitions from other files that the code near the cursor uses.

The identifiers of the prefix window are looked up in the workspace index; definitions found
in other files are ranked (names used closest to the cursor first), deduplicated, fitted to a
token budget and rendered as a comment block with each definition's path, signature and doc.
Rendering is deterministic and ordered by file and line, so that the block stays byte-identical
between keystrokes as long as the same names are in view, and the KV cache stays valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from copilot_ls.index.model import Definition
from copilot_ls.index.store import SymbolIndex

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
MAX_NAMES = 64
"""Identifiers looked up per request, nearest to the cursor first."""
HASH_COMMENT = {".py", ".rb", ".sh", ".bash", ".zsh", ".pl", ".r", ".yaml", ".yml", ".toml"}


@dataclass(frozen=True)
class RelatedDefinition:
    path: str
    definition: Definition


def _comment_marker(path: str) -> str:
    return "#" if PurePath(path).suffix.lower() in HASH_COMMENT else "//"


def related_definitions(
    index: SymbolIndex, current_path: str, prefix: str, *, limit: int = 16
) -> list[RelatedDefinition]:
    """Definitions in other files of the names used in `prefix`, nearest use first."""
    names: list[str] = []
    seen: set[str] = set()
    for match in reversed(list(IDENTIFIER.finditer(prefix))):
        name = match.group(0)
        if name not in seen:
            seen.add(name)
            names.append(name)
            if len(names) >= MAX_NAMES:
                break
    found: list[RelatedDefinition] = []
    for name in names:
        for hit in index.definitions(name):
            if hit.path != current_path:
                found.append(RelatedDefinition(hit.path, hit.definition))
                break  # one definition per name: the first by path
        if len(found) >= limit:
            break
    return found


def render_context(
    related: list[RelatedDefinition],
    current_path: str,
    count_tokens: Callable[[str], int],
    budget: int,
    root: str | None = None,
) -> str:
    """A comment block for the top of the prompt, within `budget` tokens ("" when empty)."""
    marker = _comment_marker(current_path)
    chosen: list[tuple[RelatedDefinition, str]] = []
    used = 0
    for item in related:
        lines = [item.definition.signature]
        if item.definition.doc:
            lines.append("    " + item.definition.doc.strip().split("\n")[0][:160])
        entry = "\n".join(f"{marker} {line}" for line in lines)
        cost = count_tokens(entry) + 4
        if used + cost > budget:
            continue
        used += cost
        chosen.append((item, entry))
    if not chosen:
        return ""
    chosen.sort(key=lambda pair: (pair[0].path, pair[0].definition.span.start_line))
    blocks: list[str] = []
    current_file = None
    for item, entry in chosen:
        if item.path != current_file:
            current_file = item.path
            shown = _relative(item.path, root)
            blocks.append(f"{marker} From {shown}:")
        blocks.append(entry)
    return "\n".join(blocks) + "\n\n"


def _relative(path: str, root: str | None) -> str:
    if root and path.startswith(root.rstrip("/") + "/"):
        return path[len(root.rstrip("/")) + 1 :]
    return path
