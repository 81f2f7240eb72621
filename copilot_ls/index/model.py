"""Index stage: what the workspace index knows about one file. No LSP types here.

Plain frozen dataclasses so that extraction (tree-sitter), the in-memory store and the msgpack
snapshot agree on one shape. Lines and columns are 0-based; columns count code points.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    start_line: int
    start_col: int
    end_line: int
    end_col: int


@dataclass(frozen=True)
class Definition:
    """A named definition: function, class, method, struct, interface, constant..."""

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


@dataclass(frozen=True)
class Chunk:
    """A stretch of a file, cut at definition or blank-line boundaries, for similarity search.

    Only the line range is kept: the text is read from the editor buffer or the file when a
    request needs it, which keeps the index and its snapshot small."""

    start_line: int
    end_line: int
    """Exclusive."""


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
    references: frozenset[str] = field(default_factory=frozenset)
    """Identifiers the file uses: its identifier-like words (in code, comments and strings alike),
    less those found only as the names of its own definitions."""
    chunks: tuple[Chunk, ...] = ()
