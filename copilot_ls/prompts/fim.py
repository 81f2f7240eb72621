"""Prompts stage: fill-in-the-middle templates, one registered per model family.

A template turns (prefix, suffix) into prompt parts: text, and special tokens named by their
exact text in the model's vocabulary. The family is detected from the vocabulary itself: the
first registered template whose marker tokens all exist wins. A model with none of them is
prompted with the prefix alone (`PrefixOnly`), the suffix then only trims the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    file_separator: str | None = None
    """Repo-level context token, when the family was trained with one."""


FIM_TEMPLATES: dict[str, FimTemplate] = {}


def register_fim_template(
    family: str,
    markers: tuple[str, ...],
    *,
    stop_markers: tuple[str, ...] = (),
    file_separator: str | None = None,
) -> Callable[[Callable[[str, str], FimPrompt]], Callable[[str, str], FimPrompt]]:
    """Class the decorated builder as the FIM template of `family`."""

    def decorate(build: Callable[[str, str], FimPrompt]) -> Callable[[str, str], FimPrompt]:
        FIM_TEMPLATES[family] = FimTemplate(family, markers, build, stop_markers, file_separator)
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
    file_separator="<|file_sep|>",
)
def qwen(prefix: str, suffix: str) -> FimPrompt:
    return _psm("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>")(prefix, suffix)


@register_fim_template(
    "starcoder",
    ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    stop_markers=("<fim_pad>", "<file_sep>", "<|endoftext|>"),
    file_separator="<file_sep>",
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
