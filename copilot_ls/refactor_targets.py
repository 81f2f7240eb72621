"""Code-action targets and listing: which actions apply where, and what each one changes,
found with tree-sitter. No model, no LSP types: listing code actions is a parse, nothing more.

A target is a run of whole lines: the selection's lines, or the function/class around the
cursor (with its decorators), found with the language's tags query (`grammars/<language>/
tags.scm`, the one the workspace index uses). Offsets index the document's Python string.
Also here: where the unit tests of a file go, and the import a Python test file needs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from tree_sitter import Node, QueryCursor

from copilot_ls.index.languages import LanguageSpec, get_language, language_for_path

DEFINITION_KINDS = frozenset(
    {"function", "method", "class", "struct", "interface", "enum", "trait", "module"}
)


@dataclass(frozen=True)
class Target:
    """Whole lines `[start, end)` of the document; `end` is past the last line's newline."""

    start: int
    end: int
    selection: tuple[int, int] | None = None
    """Extract function: the selected range inside the target."""


@dataclass(frozen=True)
class Definition:
    """A function, method, class... with the lines it covers."""

    name: str
    kind: str
    target: Target
    body: int | None
    """Python: where the line of the body's first statement starts (a docstring goes there);
    None when the body shares the header's line."""
    has_doc: bool
    depth: int
    """How many definitions enclose it."""
    top_name: str
    """The name of the outermost definition around it (itself at top level)."""


def language_of(path: str) -> str | None:
    """The language of `path` when its parser is installed; None otherwise."""
    spec = language_for_path(path)
    return spec.name if spec is not None else None


def whole_lines(text: str, start: int, end: int) -> Target:
    """The lines `[start, end)` touches; a range ending at a line's start leaves that line out."""
    if end > start and text[end - 1 : end] == "\n":
        end -= 1
    first = text.rfind("\n", 0, start) + 1
    newline = text.find("\n", max(start, end))
    return Target(first, len(text) if newline < 0 else newline + 1)


def definitions(language: str, text: str) -> list[Definition]:
    """Every function/class-like definition of `text`, in text order."""
    spec = get_language(language)
    parser = spec.parser() if spec is not None else None
    queries = spec.queries() if spec is not None else None
    if spec is None or parser is None or queries is None:
        return []
    source = text.encode("utf-8", errors="surrogatepass")
    tree = parser.parse(source)
    chars = _CharOffsets(source)
    found: dict[int, tuple[Node, str, str, bool]] = {}
    for pattern, captures in QueryCursor(queries.query).matches(tree.root_node):
        if queries.pattern_kinds[pattern] != "tags" or "name" not in captures:
            continue
        kind = next((c[11:] for c in captures if c.startswith("definition.")), "")
        if kind not in DEFINITION_KINDS:
            continue
        node = captures["definition." + kind][0]
        if node.id not in found:
            named = captures["name"][0]
            name = source[named.start_byte : named.end_byte].decode("utf-8", errors="replace")
            has_doc = "doc" in captures or _comment_above(_outer(spec, node))
            found[node.id] = (node, name, kind, has_doc)
    ordered = sorted(found.values(), key=lambda item: (item[0].start_byte, -item[0].end_byte))
    result: list[Definition] = []
    for node, name, kind, has_doc in ordered:
        outer = _outer(spec, node)
        parents = [d for d in result if d.target.start <= chars(outer.start_byte) < d.target.end]
        span = whole_lines(text, chars(outer.start_byte), chars(outer.end_byte))
        result.append(
            Definition(
                name=name,
                kind=kind,
                target=span,
                body=_body_line(node, text, chars) if language == "python" else span.start,
                has_doc=has_doc,
                depth=len(parents),
                top_name=parents[0].name if parents else name,
            )
        )
    return result


def enclosing(
    found: list[Definition], start: int, end: int, *, outermost: bool = False
) -> Definition | None:
    """The innermost (or outermost) definition whose lines hold the characters `start` to
    `end` (both included); without one, the first definition starting inside the range."""
    holding = [d for d in found if d.target.start <= start and max(start, end) < d.target.end]
    if holding:
        return min(holding, key=lambda d: d.depth) if outermost else max(holding, key=_depth)
    inside = [d for d in found if start <= d.target.start < end]
    return inside[0] if inside else None


def _depth(definition: Definition) -> int:
    return definition.depth


def where_tests_go(path: str, language: str, roots: tuple[str, ...] | list[str]) -> str | None:
    """Where the unit tests of `path` go, inside the workspace; None when unknown."""
    root = _root_of(path, roots)
    if root is None:
        return None
    folder, base = os.path.split(path)
    stem, ext = os.path.splitext(base)
    if stem.startswith("test_") or stem.endswith(("_test", ".test", ".spec", "Test")):
        return None  # already a test file
    if language == "python":
        return os.path.join(root, "tests", f"test_{stem}.py")
    if language in ("javascript", "typescript", "tsx"):
        return os.path.join(folder, f"{stem}.test{ext}")
    if language == "go":
        return os.path.join(folder, f"{stem}_test.go")
    if language == "java":
        return os.path.join(folder, f"{stem}Test.java")
    if language == "ruby":
        return os.path.join(root, "test", f"test_{stem}.rb")
    return None


def python_module(path: str, roots: tuple[str, ...] | list[str]) -> str:
    """The dotted module name of a Python file, from its workspace folder (`src/` left out)."""
    root = _root_of(path, roots) or os.path.dirname(path)
    relative = os.path.relpath(os.path.splitext(path)[0], root).split(os.sep)
    if relative and relative[0] == "src" and len(relative) > 1:
        relative = relative[1:]
    if len(relative) > 1 and relative[-1] == "__init__":
        relative = relative[:-1]
    return ".".join(relative)


def _root_of(path: str, roots: tuple[str, ...] | list[str]) -> str | None:
    real = os.path.realpath(path)
    for root in sorted(roots, key=len, reverse=True):
        base = os.path.realpath(root)
        if real.startswith(base.rstrip(os.sep) + os.sep):
            return base
    return None


class _CharOffsets:
    """Byte offsets of the UTF-8 source -> offsets in the Python string."""

    def __init__(self, source: bytes) -> None:
        self._source = source
        self._ascii = source.isascii()

    def __call__(self, byte: int) -> int:
        if self._ascii:
            return byte
        return len(self._source[:byte].decode("utf-8", errors="surrogatepass"))


def _outer(spec: LanguageSpec, node: Node) -> Node:
    """The definition with what wraps it (decorators, `export`, `template<...>`)."""
    while node.parent is not None and node.parent.type in spec.wrappers:
        node = node.parent
    return node


def _comment_above(node: Node) -> bool:
    """Whether a comment ends on the line just above `node` (its doc comment)."""
    before = node.prev_named_sibling
    return (
        before is not None
        and "comment" in before.type
        and before.end_point.row >= node.start_point.row - 1
    )


def _body_line(node: Node, text: str, chars: _CharOffsets) -> int | None:
    """Python: the start of the line holding the body's first statement, if not the header's."""
    body = node.child_by_field_name("body")
    if body is None or not body.named_children:
        return None
    first = body.named_children[0]
    if first.start_point.row == node.start_point.row:
        return None
    offset = chars(first.start_byte)
    return text.rfind("\n", 0, offset) + 1


# ---- which actions apply where -------------------------------------------------------

MAX_QUICKFIXES = 3
TYPED_LANGUAGES = frozenset({"python", "typescript", "tsx"})


@dataclass(frozen=True)
class ActionInfo:
    title: str
    kind: str
    """LSP code action kind: refactor.rewrite, refactor.extract, quickfix or source."""
    done: str
    """What the result message says once the edit is ready."""


ACTIONS: dict[str, ActionInfo] = {
    "fix": ActionInfo("Fix", "quickfix", "fixed"),
    "docstring": ActionInfo("Add docstring", "refactor.rewrite", "documented"),
    "annotations": ActionInfo("Add type annotations", "refactor.rewrite", "annotated"),
    "simplify": ActionInfo("Simplify / rewrite", "refactor.rewrite", "rewrote"),
    "extract": ActionInfo("Extract function", "refactor.extract", "extracted a function from"),
    "tests": ActionInfo("Generate unit tests", "source", "wrote tests for"),
    "explain": ActionInfo("Explain", "source", "explained"),
}


@dataclass(frozen=True)
class Problem:
    """A diagnostic the client sent with the code-action request."""

    message: str
    start: int
    end: int


@dataclass(frozen=True)
class Offer:
    """One action to list; nothing has run yet."""

    action: str
    title: str
    kind: str
    problem: Problem | None = None


def inside_roots(path: str, roots: Sequence[str]) -> bool:
    """Whether `path` (links resolved) lies in one of the workspace folders."""
    real = os.path.realpath(path)
    return any(real.startswith(os.path.realpath(root).rstrip(os.sep) + os.sep) for root in roots)


# ---- listing: a parse, never the model -----------------------------------------------------


def offers(
    path: str,
    text: str,
    start: int,
    end: int,
    roots: Sequence[str],
    problems: Sequence[Problem] = (),
) -> list[Offer]:
    """The actions that make sense at this selection or cursor."""
    language = language_of(path)
    found = definitions(language, text) if language else []
    selected, point = selection_point(text, start, end)
    target = enclosing(found, start, point)
    name = f" `{target.name}`" if target else ""
    listed: list[Offer] = []
    if language is not None and inside_roots(path, roots):
        for problem in problems[:MAX_QUICKFIXES]:
            first_line = problem.message.strip().split("\n")[0][:60]
            listed.append(Offer("fix", f"Fix: {first_line}", "quickfix", problem))
        if target and not target.has_doc and target.body is not None:
            listed.append(_offer("docstring", f" to{name}"))
        if target and language in TYPED_LANGUAGES and target.kind in ("function", "method"):
            listed.append(_offer("annotations", f" to{name}"))
        if selected or target:
            listed.append(_offer("simplify", " selection" if selected else name))
        if selected:
            listed.append(_offer("extract", " from selection"))
        if target and where_tests_go(path, language, tuple(roots)) is not None:
            listed.append(_offer("tests", f" for{name}"))
    if language is not None and (selected or target):
        listed.append(_offer("explain", " selection" if selected else name))
    return listed


def _offer(action: str, suffix: str) -> Offer:
    info = ACTIONS[action]
    return Offer(action, info.title + suffix, info.kind)


def selection_point(text: str, start: int, end: int) -> tuple[bool, int]:
    """Whether real text is selected, and the selection's last character (the cursor else)."""
    if not text[start:end].strip():
        return False, start
    end = len(text[:end].rstrip())
    return True, max(start, end - 1)
