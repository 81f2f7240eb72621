"""Postprocess stage: check an edit with the language's parser before it is offered.

An edit is accepted only when it stays inside the range it was allowed to change and the whole
file, re-parsed with tree-sitter after the edit, has no syntax error (ERROR or MISSING node)
that it did not have before. A file that already had errors is judged on new errors only:
errors outside the changed range must be the same ones, at the same (shifted) places, and the
changed range may not hold more errors than it did. A parser recovering differently around an
old error is taken as a new error: refusing a good edit is cheaper than breaking a file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tree_sitter import Node

from copilot_ls.index.languages import LanguageSpec, get_language
from copilot_ls.postprocess.edits import Edit, apply_edits

log = logging.getLogger(__name__)

SNIPPET_CHARS = 30
"""How much of an unexpected text a refusal message quotes."""


class EditRefused(Exception):
    """The edit is unsafe; the message says why, in words meant for the user."""


@dataclass(frozen=True)
class SyntaxProblem:
    """One ERROR or MISSING node of a parse tree."""

    kind: str
    """`error` (text the grammar could not place) or `missing` (a token the parser invented)."""
    start_byte: int
    end_byte: int
    line: int
    """0-based line of its start."""
    text: str
    """The unexpected text (error), or the missing token's type (missing)."""

    def describe(self) -> str:
        if self.kind == "missing":
            return f"line {self.line + 1}: missing `{self.text}`"
        snippet = " ".join(self.text.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[: SNIPPET_CHARS - 1] + "…"
        return f"line {self.line + 1}: unexpected `{snippet}`"


def parser_language(language: str) -> LanguageSpec | None:
    """The language's spec when its grammar can be loaded, else None (edits cannot be checked)."""
    spec = get_language(language)
    if spec is None or spec.parser() is None:
        return None
    return spec


def syntax_problems(spec: LanguageSpec, text: str) -> list[SyntaxProblem]:
    """Every ERROR and MISSING node of `text`'s parse tree, outermost first, in text order."""
    parser = spec.parser()
    if parser is None:
        raise EditRefused(f"no {spec.name} parser is installed, so the edit cannot be checked")
    source = text.encode("utf-8", errors="surrogatepass")
    tree = parser.parse(source)
    return list(_problems(tree.root_node, source))


def _problems(node: Node, source: bytes) -> Iterator[SyntaxProblem]:
    if not node.has_error and not node.is_missing:
        return
    if node.is_missing or node.is_error:
        kind = "missing" if node.is_missing else "error"
        shown = node.type if node.is_missing else source[node.start_byte : node.end_byte]
        text = shown if isinstance(shown, str) else shown.decode("utf-8", errors="replace")
        yield SyntaxProblem(kind, node.start_byte, node.end_byte, node.start_point.row, text)
        if node.is_missing:
            return
    for child in node.children:  # an ERROR node may hold MISSING ones; keep the outermost only
        if not node.is_error:
            yield from _problems(child, source)


def check_edits(language: str, text: str, edits: Sequence[Edit], allowed: tuple[int, int]) -> str:
    """The text after `edits` if they are safe; raises `EditRefused` saying why otherwise.

    `allowed` is the character range of `text` the edits may change (start, end).
    """
    start, end = allowed
    for edit in edits:
        if edit.start < start or edit.end > end:
            raise EditRefused(
                f"the edit changes text outside the {_lines(text, start, end)} it was asked to "
                "change"
            )
    new_text = apply_edits(text, edits)
    kept_tail = len(text) - end
    if new_text[:start] != text[:start] or new_text[len(new_text) - kept_tail :] != text[end:]:
        raise EditRefused("the edit changes text outside the range it was asked to change")
    spec = parser_language(language)
    if spec is None:
        raise EditRefused(f"no parser for {language!r} files, so the edit cannot be checked")
    introduced = new_problems(spec, text, new_text, allowed)
    if introduced:
        shown = "; ".join(p.describe() for p in introduced[:2])
        raise EditRefused(f"the edit would introduce syntax errors ({shown})")
    return new_text


def new_problems(
    spec: LanguageSpec, old_text: str, new_text: str, allowed: tuple[int, int]
) -> list[SyntaxProblem]:
    """Problems of `new_text` that `old_text` did not have (see the module docstring)."""
    after = syntax_problems(spec, new_text)
    if not after:
        return []
    before = syntax_problems(spec, old_text)
    start_b = len(old_text[: allowed[0]].encode("utf-8", errors="surrogatepass"))
    end_b = len(old_text[: allowed[1]].encode("utf-8", errors="surrogatepass"))
    shift = len(new_text.encode("utf-8", errors="surrogatepass")) - len(
        old_text.encode("utf-8", errors="surrogatepass")
    )
    new_end_b = end_b + shift

    def where(problem: SyntaxProblem, lo: int, hi: int) -> str:
        if problem.end_byte <= lo:
            return "before"
        if problem.start_byte >= hi:
            return "after"
        return "inside"

    old_outside = {
        (p.kind, p.text, p.start_byte) for p in before if where(p, start_b, end_b) != "inside"
    }
    old_inside = sum(1 for p in before if where(p, start_b, end_b) == "inside")
    introduced: list[SyntaxProblem] = []
    inside: list[SyntaxProblem] = []
    for problem in after:
        place = where(problem, start_b, new_end_b)
        if place == "inside":
            inside.append(problem)
            continue
        at = problem.start_byte - (shift if place == "after" else 0)
        if (problem.kind, problem.text, at) not in old_outside:
            introduced.append(problem)
    if len(inside) > old_inside:
        introduced = inside + introduced
    return introduced


def _lines(text: str, start: int, end: int) -> str:
    first = text.count("\n", 0, start) + 1
    last = text.count("\n", 0, max(start, end - 1)) + 1
    return f"line {first}" if first == last else f"lines {first}-{last}"


def keep_parsed(language: str, code: str) -> str:
    """The longest start of `code` that ends before a top-level line and parses cleanly (an
    answer cut at the token limit loses its unfinished end); "" when there is none."""
    spec = parser_language(language)
    parser = spec.parser() if spec is not None else None
    if parser is None:
        return ""
    starts = [m.start() + 1 for m in re.finditer(r"\n(?=[^\s)\]}])", code) if m.start() > 0]
    cuts = [len(code), *reversed(starts)]
    for cut in cuts:
        head = code[:cut].rstrip()
        if (
            head
            and not parser.parse(head.encode("utf-8", errors="surrogatepass")).root_node.has_error
        ):
            return head + "\n"
    return ""
