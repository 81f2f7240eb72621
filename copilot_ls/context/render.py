"""Context stage: the chosen context written the way the model reads it.

With a repo-level layout (a FIM family trained with file-separator tokens) each chosen file
becomes a separator, its path and its chosen lines, and the current file follows with its path;
otherwise each chosen file is written as code under a path comment (`# pricing.py`), and the
current file's path comment follows, above the window. Skipped lines between two chosen ones
are marked with a `...` comment line. The rendering is a pure function of the selection, so
the same selection always gives byte-identical prompt text (the KV cache depends on it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from copilot_ls.backends.base import PromptPart
from copilot_ls.prompts.fim import (
    FimPrompt,
    FimTemplate,
    RepoLayout,
    build_repo_prompt,
    repo_context_parts,
)

from .selection import ContextItem, ContextSelection, SelectedFile

_HASH = {".py", ".pyi", ".rb", ".sh", ".bash", ".zsh", ".pl", ".r", ".yaml", ".yml", ".toml"}
_HASH_NAMES = {"makefile", "dockerfile", "cmakelists.txt"}
_DASHES = {".lua", ".sql", ".hs", ".elm", ".ada"}


def comment_marker(path: str) -> str:
    """The line-comment marker of the file's language (`//` when unknown)."""
    pure = PurePosixPath(path)
    suffix = pure.suffix.lower()
    if suffix in _HASH or pure.name.lower() in _HASH_NAMES:
        return "#"
    if suffix in _DASHES:
        return "--"
    return "//"


def shown_path(path: str, root: str | None) -> str:
    """`path` relative to the workspace root when inside it."""
    if root:
        base = root.rstrip("/") + "/"
        if path.startswith(base):
            return path[len(base) :]
    return path


def file_text(selected: SelectedFile) -> str:
    """The chosen lines of a file, a `...` comment where lines were skipped."""
    marker = comment_marker(selected.path)
    out: list[str] = []
    previous: int | None = None
    for number, text in selected.lines:
        if previous is not None and number != previous + 1:
            indent = text[: len(text) - len(text.lstrip())]
            out.append(f"{indent}{marker} ...")
        out.append(text)
        previous = number
    return "\n".join(out) + "\n"


def comment_block(selection: ContextSelection, current_path: str, root: str | None) -> str:
    """The selection as a stream of files, each under a path comment (`# pricing.py`), then
    the current file's own path comment: the repository layout DeepSeek-Coder was trained on,
    and what any model has seen in concatenated source. The code itself stays code: commented
    out, a small model continues the comments instead of the code."""
    if not selection:
        return ""
    marker = comment_marker(current_path)
    blocks = [
        f"{marker} {shown_path(selected.path, root)}\n{file_text(selected)}"
        for selected in selection.files
    ]
    return "\n".join(blocks) + f"\n{marker} {shown_path(current_path, root)}\n"


@dataclass(frozen=True)
class RenderedContext:
    """The context ready to go into a prompt, with its exact token cost."""

    items: tuple[ContextItem, ...] = ()
    tokens: int = 0
    comment_block: str = ""
    layout: RepoLayout | None = None
    repo_parts: tuple[PromptPart, ...] = ()
    current_path: str = ""

    def prompt(self, template: FimTemplate, prefix: str, suffix: str) -> FimPrompt:
        """The template's prompt for the window, with this context in front."""
        if self.layout is not None:
            return build_repo_prompt(
                template, self.layout, self.repo_parts, self.current_path, prefix, suffix
            )
        return template.build(self.comment_block + prefix, suffix)


NO_CONTEXT = RenderedContext()


def render(
    selection: ContextSelection,
    current_path: str,
    root: str | None,
    layout: RepoLayout | None,
    count_tokens: Callable[[str], int],
) -> RenderedContext:
    """Render `selection` for a model with `layout` (None: as comments)."""
    if not selection:
        return NO_CONTEXT
    if layout is None:
        block = comment_block(selection, current_path, root)
        return RenderedContext(selection.items, count_tokens(block), comment_block=block)
    files = [(shown_path(f.path, root), file_text(f)) for f in selection.files]
    name = PurePosixPath(root.rstrip("/")).name if root else ""
    parts = repo_context_parts(layout, name, files)
    current = shown_path(current_path, root)
    cost = sum(count_tokens(p) if isinstance(p, str) else 1 for p in parts)
    cost += 1 + count_tokens(current + "\n")  # the current file's separator and path
    return RenderedContext(selection.items, cost, "", layout, parts, current)
