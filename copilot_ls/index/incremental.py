"""Index stage: re-parse open documents incrementally as they are edited.

`DocumentTrees` keeps, per open document (keyed by absolute path), the bytes last parsed and
their tree-sitter `Tree`. Given the document's new bytes it finds the one edit that turns the
old bytes into the new ones (their common prefix and suffix, widened to whole UTF-8
characters), applies it to the old tree with `Tree.edit` and parses again from it, so that
tree-sitter reuses every subtree the edit did not touch. Several editor changes made between
two updates fold into that one edit. No LSP types here: bytes in, trees out.

Parsers belong to the thread that calls `update` (`LanguageSpec.parser`); calls for one
`DocumentTrees` are serialised by its lock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from tree_sitter import Tree

from copilot_ls.index.languages import LanguageSpec, language_for_path

logger = logging.getLogger(__name__)

Point = tuple[int, int]
"""(row, column) as tree-sitter counts them: 0-based lines, columns in bytes."""

_BLOCK = 4096
"""Bytes compared at a time when looking for the common prefix or suffix."""


@dataclass(frozen=True)
class SourceEdit:
    """One replaced stretch of bytes, in the shape `Tree.edit` takes."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: Point
    old_end_point: Point
    new_end_point: Point

    @property
    def first_line(self) -> int:
        """The first line the edit touched."""
        return self.start_point[0]

    @property
    def last_line(self) -> int:
        """The line, in the new text, where the replacement ends (where the user typed last)."""
        return self.new_end_point[0]


@dataclass(frozen=True)
class ParsedDocument:
    """The outcome of one `DocumentTrees.update`."""

    path: str
    source: bytes
    tree: Tree
    spec: LanguageSpec
    edit: SourceEdit | None
    """What changed since the previous update; None for a first (or a fresh) parse."""
    incremental: bool
    """The previous tree was reused."""


def diff_edit(old: bytes, new: bytes) -> SourceEdit | None:
    """The single edit turning `old` into `new` (None when they are equal): everything between
    their common prefix and their common suffix, which never overlap, widened so that it
    starts and ends on UTF-8 character boundaries."""
    if old == new:
        return None
    start = _common_prefix(old, new)
    suffix = _common_suffix(old, new, min(len(old), len(new)) - start)
    while start > 0 and (_is_continuation(old, start) or _is_continuation(new, start)):
        start -= 1  # the bytes before `start` are common, so both texts back up alike
    old_end, new_end = len(old) - suffix, len(new) - suffix
    while old_end < len(old) and _is_continuation(old, old_end):
        old_end, new_end = old_end + 1, new_end + 1  # the suffix is common: same bytes in new
    return SourceEdit(
        start_byte=start,
        old_end_byte=old_end,
        new_end_byte=new_end,
        start_point=point_at(new, start),
        old_end_point=point_at(old, old_end),
        new_end_point=point_at(new, new_end),
    )


def point_at(source: bytes, offset: int) -> Point:
    """The (row, byte column) of byte `offset` in `source`."""
    row = source.count(b"\n", 0, offset)
    return row, offset - (source.rfind(b"\n", 0, offset) + 1)


class DocumentTrees:
    """The last parsed bytes and tree of each open document, updated incrementally."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._docs: dict[str, ParsedDocument] = {}

    def update(self, path: str, source: bytes) -> ParsedDocument | None:
        """Parse `source` as the new content of `path`, reusing its previous tree when there is
        one; None when `path` is in no language with a grammar (or the parse failed)."""
        spec = language_for_path(path)
        parser = spec.parser() if spec is not None else None
        if spec is None or parser is None:
            return None
        with self._lock:
            previous = self._docs.pop(path, None)
            if previous is not None and previous.spec is not spec:
                previous = None
            edit = diff_edit(previous.source, source) if previous is not None else None
            if previous is not None and edit is None:
                self._docs[path] = previous  # nothing changed: the tree still fits
                return ParsedDocument(path, source, previous.tree, spec, None, True)
            old_tree = previous.tree if previous is not None else None
            if old_tree is not None and edit is not None:
                old_tree.edit(
                    start_byte=edit.start_byte,
                    old_end_byte=edit.old_end_byte,
                    new_end_byte=edit.new_end_byte,
                    start_point=edit.start_point,
                    old_end_point=edit.old_end_point,
                    new_end_point=edit.new_end_point,
                )
            try:
                tree = (
                    parser.parse(source, old_tree) if old_tree is not None else parser.parse(source)
                )
            except Exception:  # the old tree was edited already: forget it and start afresh
                logger.exception("cannot parse %s", path)
                return None
            if tree is None:
                return None
            parsed = ParsedDocument(path, source, tree, spec, edit, old_tree is not None)
            self._docs[path] = parsed
            return parsed

    def forget(self, path: str) -> None:
        """Drop what is kept for `path` (the document was closed)."""
        with self._lock:
            self._docs.pop(path, None)

    def get(self, path: str) -> ParsedDocument | None:
        with self._lock:
            return self._docs.get(path)

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return path in self._docs

    def paths(self) -> list[str]:
        with self._lock:
            return sorted(self._docs)


def _is_continuation(data: bytes, offset: int) -> bool:
    """Whether byte `offset` continues a UTF-8 character begun before it (10xxxxxx)."""
    return offset < len(data) and data[offset] & 0xC0 == 0x80


def _common_prefix(a: bytes, b: bytes) -> int:
    """The length of the longest common prefix, found block by block, then by bisection."""
    limit = min(len(a), len(b))
    at = 0
    while at < limit:
        end = min(at + _BLOCK, limit)
        if a[at:end] != b[at:end]:
            return _bisect_mismatch(a, b, at, end)
        at = end
    return limit


def _bisect_mismatch(a: bytes, b: bytes, lo: int, hi: int) -> int:
    """The first offset in [lo, hi) where `a` and `b` differ; a[lo:hi] != b[lo:hi]."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """The length of the longest common suffix, at most `limit` bytes."""
    done = 0
    while done < limit:
        size = min(_BLOCK, limit - done)
        a_block = a[len(a) - done - size : len(a) - done]
        b_block = b[len(b) - done - size : len(b) - done]
        if a_block != b_block:
            return done + _common_prefix(a_block[::-1], b_block[::-1])
        done += size
    return limit
