"""Prompts stage: fill-in-the-middle templates, one registered per model family.

A template turns (prefix, suffix) into prompt parts: text, and special tokens named by their
exact text in the model's vocabulary. The family is detected from the vocabulary itself: the
first registered template whose marker tokens all exist wins. A model with none of them is
prompted with the prefix alone (`PrefixOnly`), the suffix then only trims the answer.

Families trained on whole repositories (Qwen2.5-Coder, StarCoder2) also have a repo-level
layout: other files of the repository, each after a file-separator token and its path, then
the current file's path and its fill-in-the-middle prompt. `build_repo_prompt` writes it,
with the real special tokens, in the order each family's published format gives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from copilot_ls.backends.base import PromptPart, Special


@dataclass(frozen=True)
class FimPrompt:
    """Prompt parts, and which part ends at the cursor (for token healing)."""

    parts: tuple[PromptPart, ...]
    cursor_part: int
    uses_suffix: bool


@dataclass(frozen=True)
class FimTemplate:
    """How one model family writes a fill-in-the-middle prompt."""

    family: str
    markers: tuple[str, ...]
    """Special tokens that must exist in the vocabulary for this family to be detected."""
    build: Callable[[str, str], FimPrompt]
    stop_markers: tuple[str, ...] = ()
    """Further special tokens that end the middle (besides end-of-generation tokens)."""
    repo: RepoLayout | None = None
    """The repo-level layout, when the family was trained with one."""


@dataclass(frozen=True)
class RepoLayout:
    """How a family was trained to read other files of the repository before the current one."""

    file_separator: str
    repo_name: str | None = None
    """The token before the repository's name; None when the vocabulary lacks it."""
    newline_after_name: bool = False
    """Qwen2.5-Coder writes a newline after the repository name; StarCoder2 does not."""
    path_in_prefix: bool = False
    """StarCoder2 writes the current file's path after `<fim_prefix>`, Qwen2.5-Coder before it."""


FIM_TEMPLATES: dict[str, FimTemplate] = {}


def register_fim_template(
    family: str,
    markers: tuple[str, ...],
    *,
    stop_markers: tuple[str, ...] = (),
    repo: RepoLayout | None = None,
) -> Callable[[Callable[[str, str], FimPrompt]], Callable[[str, str], FimPrompt]]:
    """Class the decorated builder as the FIM template of `family`."""

    def decorate(build: Callable[[str, str], FimPrompt]) -> Callable[[str, str], FimPrompt]:
        FIM_TEMPLATES[family] = FimTemplate(family, markers, build, stop_markers, repo)
        return build

    return decorate


def _psm(pre: str, suf: str, mid: str) -> Callable[[str, str], FimPrompt]:
    """Prefix-suffix-middle layout with three marker tokens."""

    def build(prefix: str, suffix: str) -> FimPrompt:
        parts = (Special(pre), prefix, Special(suf), suffix, Special(mid))
        return FimPrompt(parts, cursor_part=1, uses_suffix=True)

    return build


@register_fim_template(
    "qwen",
    ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    stop_markers=("<|fim_pad|>", "<|file_sep|>", "<|repo_name|>"),
    repo=RepoLayout("<|file_sep|>", "<|repo_name|>", newline_after_name=True),
)
def qwen(prefix: str, suffix: str) -> FimPrompt:
    return _psm("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>")(prefix, suffix)


@register_fim_template(
    "starcoder",
    ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    stop_markers=("<fim_pad>", "<file_sep>", "<|endoftext|>"),
    repo=RepoLayout("<file_sep>", "<repo_name>", path_in_prefix=True),
)
def starcoder(prefix: str, suffix: str) -> FimPrompt:
    return _psm("<fim_prefix>", "<fim_suffix>", "<fim_middle>")(prefix, suffix)


@register_fim_template(
    "deepseek",
    ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
)
def deepseek(prefix: str, suffix: str) -> FimPrompt:
    return _psm("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>")(prefix, suffix)


@register_fim_template("codestral", ("[PREFIX]", "[SUFFIX]"))
def codestral(prefix: str, suffix: str) -> FimPrompt:
    """Codestral puts the suffix first (SPM): typing then only appends to the prompt."""
    parts = (Special("[SUFFIX]"), suffix, Special("[PREFIX]"), prefix)
    return FimPrompt(parts, cursor_part=3, uses_suffix=True)


@register_fim_template("codellama", ("<PRE>", "<SUF>", "<MID>"), stop_markers=("<EOT>",))
def codellama(prefix: str, suffix: str) -> FimPrompt:
    """Plain PSM over the marker tokens, as llama.cpp's own server builds it for CodeLlama."""
    return _psm("<PRE>", "<SUF>", "<MID>")(prefix, suffix)


@register_fim_template("codellama-spm", ("▁<PRE>", "▁<SUF>", "▁<MID>"), stop_markers=("▁<EOT>",))
def codellama_sentencepiece(prefix: str, suffix: str) -> FimPrompt:
    """The same family converted from its SentencePiece vocabulary, where markers carry `▁`."""
    return _psm("▁<PRE>", "▁<SUF>", "▁<MID>")(prefix, suffix)


def prefix_only(prefix: str, suffix: str) -> FimPrompt:
    """For models without FIM tokens: continue the prefix; the suffix is used to trim."""
    return FimPrompt((prefix,), cursor_part=0, uses_suffix=False)


PREFIX_ONLY = FimTemplate("none", (), prefix_only)


def detect_template(has_special: Callable[[str], bool]) -> FimTemplate:
    """The FIM template of the model whose vocabulary `has_special` describes."""
    for template in FIM_TEMPLATES.values():
        if all(has_special(marker) for marker in template.markers):
            return template
    return PREFIX_ONLY


def repo_layout(template: FimTemplate, has_special: Callable[[str], bool]) -> RepoLayout | None:
    """The template's repo-level layout as far as the vocabulary has its tokens, else None."""
    layout = template.repo
    if layout is None or not has_special(layout.file_separator):
        return None
    if layout.repo_name is not None and not has_special(layout.repo_name):
        return replace(layout, repo_name=None)
    return layout


def repo_context_parts(
    layout: RepoLayout, repo_name: str, files: Sequence[tuple[str, str]]
) -> tuple[PromptPart, ...]:
    """What comes before the current file: the repository's name, then each (path, text) file
    after a separator token, each text ending with one newline."""
    parts: list[PromptPart] = []
    if layout.repo_name is not None and repo_name:
        parts += [
            Special(layout.repo_name),
            repo_name + ("\n" if layout.newline_after_name else ""),
        ]
    for path, text in files:
        body = text.rstrip("\n")
        parts += [Special(layout.file_separator), f"{path}\n{body}\n"]
    return tuple(parts)


def build_repo_prompt(
    template: FimTemplate,
    layout: RepoLayout,
    context: tuple[PromptPart, ...],
    current_path: str,
    prefix: str,
    suffix: str,
) -> FimPrompt:
    """The repo-level prompt: `context` (from `repo_context_parts`), then the current file."""
    if layout.path_in_prefix:
        inner = template.build(f"{current_path}\n{prefix}", suffix)
        head: tuple[PromptPart, ...] = (*context, Special(layout.file_separator))
    else:
        inner = template.build(prefix, suffix)
        head = (*context, Special(layout.file_separator), f"{current_path}\n")
    return FimPrompt(head + inner.parts, inner.cursor_part + len(head), inner.uses_suffix)
