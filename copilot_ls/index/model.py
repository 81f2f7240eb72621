"""Index stage: what the workspace index knows about one file. No LSP types here.

Plain immutable types so that extraction (tree-sitter), the in-memory store and the msgpack
snapshot agree on one shape: named tuples for what an index holds by the hundred thousand
(definitions, spans, chunks), as they cost a fraction of a frozen dataclass to build. Lines
and columns are 0-based; columns count code points.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Final, NamedTuple, TypeVar

_T = TypeVar("_T")


class Span(NamedTuple):
    """Where a definition is: from its first character to the one after its last (a named
    tuple: immutable, and several times cheaper to build than a frozen dataclass)."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int


class Definition(NamedTuple):
    """A named definition: function, class, method, struct, interface, constant... A named
    tuple, as `Span` is: an index builds one per definition, and a frozen dataclass costs
    several times more to build (from a file or from a snapshot)."""

    name: str
    kind: str
    """One of: function, method, class, struct, interface, enum, trait, type, constant,
    variable, module, macro, field."""
    span: Span
    signature: str
    """The definition's first line(s) up to its body, stripped, e.g. `def area(self) -> float:`."""
    doc: str = ""
    """Its doc comment or docstring, if any, without comment markers."""
    container: str = ""
    """Enclosing class/struct/impl/namespace name, if any."""


class Chunk(NamedTuple):
    """A stretch of a file, cut at definition or blank-line boundaries, for similarity search.

    Only the line range is kept: the text is read from the editor buffer or the file when a
    request needs it, which keeps the index and its snapshot small."""

    start_line: int
    end_line: int
    """Exclusive."""


class References(AbstractSet[str]):
    """A file's referenced identifiers, a set of names kept as one UTF-8 blob: the names joined
    by newlines, each once, in no particular order.

    Extraction finds hundreds of names per file and nothing reads most of them; as one blob
    they cost no decode, no string object and no hashing per name until they are read, and a
    snapshot stores them as one binary field. An immutable set of strings (`in`, iteration,
    `len`, comparisons with other sets); equal to any set holding the same names, whatever the
    order of the blob. `in` searches the blob: build a `frozenset` to test many names."""

    __slots__ = ("_blob",)

    def __init__(self, blob: bytes = b"") -> None:
        """`blob`: distinct, non-empty names without newlines, UTF-8, joined by b"\\n"."""
        self._blob: Final = blob

    @classmethod
    def of(cls, names: Iterable[str]) -> References:
        """The set of `names` (empty names, and names holding a newline, left out)."""
        unique = dict.fromkeys(n for n in names if n and "\n" not in n)
        return cls("\n".join(unique).encode("utf-8", errors="surrogatepass"))

    @classmethod
    def _from_iterable(cls, items: Iterable[_T]) -> frozenset[_T]:
        return frozenset(items)  # the result of the `Set` operators (`&`, `|`, `-`)

    @property
    def blob(self) -> bytes:
        """The names as stored: UTF-8, joined by b"\\n"."""
        return self._blob

    def __contains__(self, name: object) -> bool:
        if type(name) is not str or not name or "\n" in name:
            return False
        blob = self._blob
        needle = name.encode("utf-8", errors="surrogatepass")
        size, at = len(needle), blob.find(needle)
        while at >= 0:  # a hit counts only as a whole name, between newlines or the ends
            end = at + size
            if (at == 0 or blob[at - 1] == 10) and (end == len(blob) or blob[end] == 10):
                return True
            at = blob.find(needle, end)
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return self._blob.count(b"\n") + 1 if self._blob else 0

    def __bool__(self) -> bool:
        return bool(self._blob)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, References):
            if self._blob == other._blob:
                return True
            return len(self) == len(other) and frozenset(self._words()) == frozenset(other._words())
        if isinstance(other, AbstractSet):
            return frozenset(self._names()) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._names()))  # as a frozenset of the same names hashes

    def __repr__(self) -> str:
        return f"References({sorted(self._names())!r})"

    def _words(self) -> list[bytes]:
        return self._blob.split(b"\n") if self._blob else []

    def _names(self) -> list[str]:
        if not self._blob:
            return []
        try:
            text = self._blob.decode("utf-8", errors="surrogatepass")
        except UnicodeDecodeError:  # not from `of` or extraction (a damaged snapshot?)
            text = self._blob.decode("utf-8", errors="replace")
        return text.split("\n")


NO_REFERENCES: Final = References()


@dataclass(frozen=True)
class FileSymbols:
    """Everything extracted from one file."""

    path: str
    """Absolute path."""
    language: str
    """Language name from the registry, or "text" for files without a grammar."""
    content_hash: str
    """Hex digest of the file's bytes (blake2b, 16 bytes)."""
    mtime_ns: int
    size: int
    definitions: tuple[Definition, ...] = ()
    imports: tuple[str, ...] = ()
    """Imported modules or names as written (e.g. `os.path`, `./util`, `std::fmt`)."""
    references: References = NO_REFERENCES
    """Identifiers the file uses: its identifier-like words (in code, comments and strings alike),
    less those found only as the names of its own definitions."""
    chunks: tuple[Chunk, ...] = ()
