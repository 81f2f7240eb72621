"""Index stage: what extraction reads around a definition's node besides its name: the wrappers
around it (decorators, `export`), its doc comment or docstring, and its signature line.

Every node property read from Python costs about half a microsecond, and an index reads these
for every definition of a workspace, so node types are compared as kind ids (`KindIds`) and
each property is read once.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tree_sitter import Language, Node

from copilot_ls.index.languages import LanguageSpec

MAX_SIGNATURE_CHARS = 200

_BODY_TYPES = frozenset(
    "block statement_block class_body compound_statement declaration_list field_declaration_list"
    " enum_body enum_variant_list interface_body body_statement".split()
)
_COMMENT_MARKERS = re.compile(r"^\s*(?:/\*+!?|\*/|\*(?!/)|//[/!]?|#+|--)\s?")
_XML_DOC_TAGS = re.compile(r"</?(?:summary|remarks|returns|para)>")
_COMMENT_START = re.compile(rb"#|//|/\*|--|<!|=begin")
"""What every comment of the supported languages starts with (a superset: a head holding none
of these holds no comment node)."""
_STRING_QUOTES = re.compile(r"^[rRbBuUfF]*(\"\"\"|'''|\"|')(.*)\1$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class KindIds:
    """A grammar's node kind ids for the node types extraction tests (comparing ints rather
    than building a type string per node)."""

    wrappers: frozenset[int]
    skip_above: frozenset[int]
    comments: frozenset[int]
    bodies: frozenset[int]
    body_field: int | None


_KIND_IDS: dict[str, KindIds] = {}


def kind_ids(spec: LanguageSpec, language: Language) -> KindIds:
    """The kind ids of `spec`'s grammar (`language`) that extraction tests, computed once."""
    ids = _KIND_IDS.get(spec.name)
    if ids is None:
        names = [language.node_kind_for_id(i) or "" for i in range(language.node_kind_count)]

        def matching(test: Callable[[str], bool]) -> frozenset[int]:
            return frozenset(i for i, name in enumerate(names) if test(name))

        ids = _KIND_IDS[spec.name] = KindIds(
            wrappers=matching(spec.wrappers.__contains__),
            skip_above=matching(spec.skip_above.__contains__),
            comments=matching(lambda name: "comment" in name),
            bodies=matching(_BODY_TYPES.__contains__),
            body_field=language.field_id_for_name("body"),
        )
    return ids


def outer_node(ids: KindIds, node: Node) -> Node:
    """The node with its wrappers (decorators, `export`, `template<...>`) around it; in a group
    (Go's `const (...)`) only the first member takes the group's wrapper and doc comment."""
    parent = node.parent
    while parent is not None and parent.kind_id in ids.wrappers:
        before = node.prev_named_sibling
        if before is not None and before.kind_id == node.kind_id:
            break
        node, parent = parent, parent.parent
    return node


def comment_above(ids: KindIds, node: Node, next_row: int) -> tuple[str, int]:
    """The comment block ending on the line just above `node` (which starts on `next_row`) and
    its first line, or ("", -1)."""
    comments: list[Node] = []
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.kind_id in ids.skip_above:
        next_row, sibling = sibling.start_point[0], sibling.prev_named_sibling
    while sibling is not None and sibling.kind_id in ids.comments:
        if _end_row(sibling) < next_row - 1:
            break
        before = sibling.prev_sibling
        if before is not None and _end_row(before) == sibling.start_point[0]:
            break  # a trailing comment of the line above, not a doc comment
        comments.append(sibling)
        next_row, sibling = sibling.start_point[0], sibling.prev_named_sibling
    if not comments:
        return "", -1
    comments.reverse()
    return comment_text([node_text(c) for c in comments]), comments[0].start_point[0]


def comment_text(comments: list[str]) -> str:
    """A doc comment's text from its comments' texts, in order (a `#!` line left out)."""
    raw = "\n".join(c.rstrip() for c in comments if not c.startswith("#!"))
    return _strip_comment(raw)


def _end_row(node: Node) -> int:
    """The last line `node` covers (a Rust line comment ends at column 0 of the next one)."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point.row else row


def _strip_comment(raw: str) -> str:
    """A comment block's text without comment markers or XML doc tags, dedented."""
    lines = []
    for line in raw.splitlines():
        line = line.rstrip()
        if line.endswith("*/"):
            line = line[:-2].rstrip()
        line = _XML_DOC_TAGS.sub("", _COMMENT_MARKERS.sub("", line, count=1))
        lines.append(line.rstrip())
    return inspect.cleandoc("\n".join(lines))


def docstring(node: Node) -> tuple[str, int]:
    """A docstring's text without its quotes, as `inspect.cleandoc` cleans it, and -1: unlike a
    comment above, it does not move where the definition's block starts."""
    return docstring_text(node_text(node)), -1


def docstring_text(raw: str) -> str:
    """`docstring` of a string literal's source text."""
    match = _STRING_QUOTES.match(raw)
    text = match.group(2) if match else raw
    if "\n" not in text:  # what `cleandoc` makes of one line, without its cost
        return text.expandtabs().lstrip()
    return inspect.cleandoc(text)


def signature(ids: KindIds, node: Node, head_node: Node, kind: str, source: bytes) -> str:
    """The definition's text up to its body, on one line, without comments, from the start of
    `head_node`: the definition, or a wrapper that starts on the same line (`export`, Go's
    `type`)."""
    body = None if ids.body_field is None else node.child_by_field_id(ids.body_field)
    if body is None:
        for child in node.children:
            if child.kind_id in ids.bodies:
                body = child
                break
    return signature_text(
        source,
        head_node.start_byte,
        head_node.end_byte,
        -1 if body is None else body.start_byte,
        kind,
        lambda stop: _comment_cuts(head_node, stop),
    )


def signature_text(
    source: bytes,
    start: int,
    end: int,
    body_start: int,
    kind: str,
    cuts: Callable[[int], Sequence[int]] | Sequence[int] | None,
) -> str:
    """`signature` from byte offsets: the head node's `start` and `end`, its body's start (-1:
    none), and the comments to leave out of a head spanning lines, as flattened (start, end)
    pairs, sorted (or a function of the body's start that finds them)."""
    if body_start > start:
        head = source[start:body_start].rstrip()
        if b"\n" in head and _COMMENT_START.search(head):  # else no comment to cut out
            ranges = cuts(body_start) if callable(cuts) else cuts or ()
            head = _without(source, start, body_start, ranges)
    else:
        line_end = source.find(b"\n", start, end)
        head = source[start : end if line_end < 0 else line_end].rstrip()
        if kind not in ("variable", "constant", "field"):
            head = head.removesuffix(b"{")
    text = " ".join(head.decode("utf-8", errors="replace").split())
    text = text.replace("( ", "(").replace(" )", ")")
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[: MAX_SIGNATURE_CHARS - 1] + "…"
    return text


def _comment_cuts(node: Node, stop: int) -> list[int]:
    """The comments inside `node` that start before `stop`, as flattened (start, end) byte
    pairs, sorted. Only what starts before `stop` is looked at: a comment further on (in the
    body of a definition that a wrapper holds) must not pull the text after `stop` in."""
    cuts: list[tuple[int, int]] = []
    pending = [c for c in node.children if c.start_byte < stop]
    while pending:
        child = pending.pop()
        if "comment" in child.type:
            cuts.append((child.start_byte, child.end_byte))
        else:
            pending.extend(c for c in child.children if c.start_byte < stop)
    return [offset for pair in sorted(cuts) for offset in pair]


def _without(source: bytes, start: int, stop: int, cuts: Sequence[int]) -> bytes:
    """`source[start:stop]` with the `cuts` (flattened (start, end) pairs, sorted) left out."""
    pieces, at = [], start
    for index in range(0, len(cuts), 2):
        pieces.append(source[at : cuts[index]])
        at = cuts[index + 1]
    pieces.append(source[at:stop])
    return b" ".join(pieces)


def node_text(node: Node) -> str:
    """The node's source text (valid UTF-8 by the time it is parsed, see `parseable_source`)."""
    return (node.text or b"").decode("utf-8", errors="replace")
