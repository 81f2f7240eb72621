"""Postprocess stage: candidate text -> text safe to show at the cursor.

Each filter takes the candidate and the cursor's surroundings and returns the candidate,
changed, or `None` to drop it. `clean_completion` runs them in order; a filter that raises is
logged and skipped, it never fails the completion.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

Mode = Literal["single", "multi"]

CLOSERS = ")]}>\"'`;,:"
OPENERS = ("(", "[", "{", ":", "=>", "->", "=")
BLANK_RUN = 2
"""This many consecutive blank lines end a multi-line completion."""


@dataclass(frozen=True)
class Surroundings:
    """What the filters need to know about the cursor's place in the file."""

    line_prefix: str
    """The cursor's line up to the cursor."""
    line_suffix: str
    """The cursor's line after the cursor."""
    suffix: str
    """All text after the cursor in the window (starts with `line_suffix`)."""
    mode: Mode


Filter = Callable[[str, Surroundings], "str | None"]


def choose_mode(line_suffix: str, setting: str = "auto") -> Mode:
    """One line when real text follows the cursor on its line, a block otherwise.

    Closing brackets and quotes alone after the cursor (the editor's auto-pairs) do not count.
    """
    if setting == "always":
        return "multi"
    if setting == "never":
        return "single"
    rest = line_suffix.strip()
    return "multi" if all(ch in CLOSERS for ch in rest) else "single"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def cut_to_line(text: str, where: Surroundings) -> str | None:
    """Single-line mode: keep the text up to the end of the cursor's line."""
    if where.mode != "single":
        return text
    return text.split("\n", 1)[0]


def cut_to_block(text: str, where: Surroundings) -> str | None:
    """Multi-line mode: stop at a dedent below the cursor's block, or at a run of blank lines.

    A closing-bracket line at the boundary (`}` of a C block) is kept, then the text ends.
    """
    if where.mode != "multi":
        return text
    line = where.line_prefix
    base = _indent(line) if line.strip() else len(line)
    opens_block = line.rstrip().endswith(OPENERS)
    lines = text.split("\n")
    kept = [lines[0]]
    blanks = 0
    for current in lines[1:]:
        if not current.strip():
            blanks += 1
            if blanks >= BLANK_RUN:
                break
            kept.append(current)
            continue
        blanks = 0
        indent = _indent(current)
        if indent < base or (opens_block and indent == base):
            if current.lstrip()[:1] in ")]}":
                kept.append(current)
            break
        kept.append(current)
    return "\n".join(kept)


def drop_suffix_overlap(text: str, where: Surroundings) -> str | None:
    """Remove what the file already has after the cursor.

    On the cursor's line: the longest tail of the candidate that the rest of the line starts
    with (the model re-typed `):` that is already there). Below it: candidate lines from the
    first one that repeats the next non-blank line of the file.
    """
    rest = where.line_suffix.strip()
    if rest and "\n" not in text:
        for size in range(min(len(rest), len(text)), 0, -1):
            if text.endswith(rest[:size]):
                return text[: len(text) - size]
        return text
    following = [line.strip() for line in where.suffix.split("\n")[1:] if line.strip()]
    if not following:
        return text
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if index > 0 and line.strip() and line.strip() == following[0]:
            return "\n".join(lines[:index]).rstrip()
    return text


def strip_trailing_whitespace(text: str, where: Surroundings) -> str | None:
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip()


def cut_repetition(text: str, where: Surroundings) -> str | None:
    """Small models loop: keep a line that repeats the previous non-blank one only once."""
    lines = text.split("\n")
    kept: list[str] = []
    for line in lines:
        previous = next((k for k in reversed(kept) if k.strip()), None)
        if line.strip() and previous is not None and line.strip() == previous.strip():
            break
        kept.append(line)
    return "\n".join(kept)


def reject_empty(text: str, where: Surroundings) -> str | None:
    return text if text.strip() else None


def reject_echo_of_prefix(text: str, where: Surroundings) -> str | None:
    """A candidate that only re-types the line before the cursor adds nothing."""
    stripped = text.strip()
    if stripped and re.fullmatch(re.escape(stripped), where.line_prefix.strip()):
        return None
    return text


DEFAULT_FILTERS: tuple[Filter, ...] = (
    cut_to_line,
    cut_to_block,
    cut_repetition,
    drop_suffix_overlap,
    strip_trailing_whitespace,
    reject_echo_of_prefix,
    reject_empty,
)


def clean_completion(
    text: str, where: Surroundings, filters: Sequence[Filter] = DEFAULT_FILTERS
) -> str | None:
    """Run the filters in order; `None` means there is nothing worth showing."""
    candidate: str | None = text
    for step in filters:
        if candidate is None:
            return None
        try:
            candidate = step(candidate, where)
        except Exception:
            log.exception("post-processor %s failed; skipped", getattr(step, "__name__", step))
    return candidate


def early_stop(where: Surroundings) -> Callable[[str], bool]:
    """Stop generating as soon as the post-processors would cut the rest anyway."""

    def single(text: str) -> bool:
        return "\n" in text

    def multi(text: str) -> bool:
        if "\n" not in text:
            return False
        complete = text[: text.rfind("\n")]
        lines = complete.count("\n") + 1
        if lines < 2:
            return False
        kept = cut_to_block(complete, where) or ""
        kept = cut_repetition(kept, where) or ""
        return kept.count("\n") + 1 < lines

    return single if where.mode == "single" else multi
