"""Index stage: a msgpack snapshot of a `SymbolIndex` per workspace, for warm starts.

One file per set of workspace roots, named by a hash of the sorted roots, under
`<cache dir>/index/` (mode 0700; the file 0600). The cache dir is, in order: the `cache_dir`
argument, `$COPILOT_LS_CACHE_DIR`, platformdirs' `user_cache_dir("copilot-ls")` (which honours
`$XDG_CACHE_HOME`). The file is one msgpack array `[header, files]` whose header carries
`SNAPSHOT_FORMAT_VERSION`, the roots and a table of the names, kinds and containers that
definitions use, which records then name by their position in it (each name is stored, decoded
and held in memory once); a file's references are one binary field, their newline-joined
blob. The dataclasses of `model.py` are written explicitly as flat columns (no pickle), so that
decoding is a few C-level passes per file rather than Python work per definition. Writes are
atomic (temp file in the same directory, fsync, os.replace); `load_snapshot` returns None, with
a log line, for a missing, corrupt, truncated or old-version snapshot, and never raises on bad
data.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any, BinaryIO

import msgpack
import platformdirs

from copilot_ls.index.model import (
    NO_REFERENCES,
    Chunk,
    Definition,
    FileSymbols,
    References,
    Span,
)
from copilot_ls.index.store import SymbolIndex

logger = logging.getLogger(__name__)

SNAPSHOT_FORMAT_VERSION = 6
"""Bump whenever the encoding or what extraction produces changes (6: Python's `from . import
events` also imports `.events`): older snapshots are then rebuilt rather than misread."""

SNAPSHOT_MAGIC = "copilot-ls-index"
"""First header field, so that a stray msgpack file is never taken for a snapshot."""

CACHE_DIR_ENV = "COPILOT_LS_CACHE_DIR"
"""Environment variable overriding the cache directory (tests, sandboxes)."""

SNAPSHOT_SUFFIX = ".msgpack"

_MAX_ITEMS = 8_000_000
"""Cap on any one msgpack array/map/string in a snapshot (the string table is the longest), so
that a corrupt length field cannot make the reader allocate gigabytes before failing."""

_MAX_BUFFER_BYTES = 64 * 1024 * 1024


class SnapshotFormatError(ValueError):
    """A snapshot's content does not have the shape this version writes."""


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The copilot-ls cache directory: `override`, `$COPILOT_LS_CACHE_DIR`, or the user's."""
    if override is not None:
        return Path(override)
    from_env = os.environ.get(CACHE_DIR_ENV)
    if from_env:
        return Path(from_env)
    return Path(platformdirs.user_cache_dir("copilot-ls", appauthor=False))


def normalize_roots(roots: Iterable[str]) -> list[str]:
    """Absolute, normalised, de-duplicated and sorted: the identity of a workspace."""
    return sorted({os.path.abspath(r) for r in roots})


def snapshot_path(roots: Iterable[str], *, cache: str | os.PathLike[str] | None = None) -> Path:
    """Where the snapshot for this set of workspace roots lives."""
    joined = "\0".join(normalize_roots(roots)).encode("utf-8", "surrogateescape")
    key = hashlib.blake2b(joined, digest_size=16).hexdigest()
    return cache_dir(cache) / "index" / (key + SNAPSHOT_SUFFIX)


def save_snapshot(
    index: SymbolIndex, roots: Iterable[str], *, cache: str | os.PathLike[str] | None = None
) -> Path | None:
    """Write `index` atomically as the snapshot for `roots`; its path, or None (logged) when it
    could not be written."""
    root_list = normalize_roots(roots)
    path = snapshot_path(root_list, cache=cache)
    files = index.all_files()
    try:
        _ensure_private_dir(path.parent)
        _write_atomically(path, root_list, files)
    except (OSError, ValueError, TypeError, OverflowError) as exc:
        logger.warning("could not write the index snapshot %s: %s", path, exc)
        return None
    logger.info("saved the index snapshot (%d files) to %s", len(files), path)
    return path


def load_snapshot(
    roots: Iterable[str], *, cache: str | os.PathLike[str] | None = None
) -> SymbolIndex | None:
    """The snapshot for `roots` as a new `SymbolIndex`, or None (logged) when there is none or
    it cannot be used."""
    root_list = normalize_roots(roots)
    path = snapshot_path(root_list, cache=cache)
    try:
        with open(path, "rb") as f, gc_paused():
            index = SymbolIndex(_read(f, root_list))
    except FileNotFoundError:
        logger.info("no index snapshot at %s; indexing from scratch", path)
        return None
    except SnapshotFormatError as exc:
        logger.info("ignoring the index snapshot %s: %s", path, exc)
        return None
    except Exception as exc:  # bad data of any kind (msgpack raises several types): no snapshot
        logger.warning("ignoring the unreadable index snapshot %s: %r", path, exc)
        return None
    logger.info("loaded the index snapshot (%d files) from %s", len(index), path)
    return index


# -- file handling ---------------------------------------------------------------------------


def _ensure_private_dir(directory: Path) -> None:
    # The parent (the user's cache dir, or whatever the override names) is created if missing
    # but never re-moded; the `index` directory is ours and kept at 0700.
    directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.mkdir(mode=0o700, exist_ok=True)
    if directory.stat().st_mode & 0o777 != 0o700:
        os.chmod(directory, 0o700)


def _write_atomically(path: Path, roots: list[str], files: list[FileSymbols]) -> None:
    # mkstemp creates the file with mode 0600, in the same directory so os.replace is atomic.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".snapshot-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            packer = msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape")
            table = _string_table(files)
            f.write(packer.pack_array_header(2))
            f.write(packer.pack(_encode_header(roots, table)))
            f.write(packer.pack_array_header(len(files)))
            for symbols in files:
                f.write(packer.pack(encode_file_symbols(symbols, table)))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: loading or building an index allocates millions of
    objects, none of them cyclic, and the collections this triggers otherwise take a large share
    of the time (half of a snapshot's load). Nests. Leaving the outermost pause freezes what
    exists (`gc.freeze`) before the collector is on again: the index is long-lived, and would
    otherwise be traversed at once (a third of a second for the standard library's) and again
    at every full collection. Frozen objects are still freed when no longer referenced."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; not possible everywhere (Windows), hence best effort."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read(f: BinaryIO, roots: list[str]) -> list[FileSymbols]:
    unpacker = msgpack.Unpacker(
        f,
        raw=False,
        unicode_errors="surrogateescape",
        strict_map_key=True,
        max_buffer_size=_MAX_BUFFER_BYTES,
        max_str_len=_MAX_BUFFER_BYTES,
        max_bin_len=_MAX_BUFFER_BYTES,
        max_array_len=_MAX_ITEMS,
        max_map_len=_MAX_ITEMS,
        max_ext_len=0,
    )
    if unpacker.read_array_header() != 2:
        raise SnapshotFormatError("not a copilot-ls index snapshot")
    strings = _check_header(unpacker.unpack(), roots)
    count = unpacker.read_array_header()
    files = [decode_file_symbols(unpacker.unpack(), strings) for _ in range(count)]
    # Anything after the last file means the file was not written by this code.
    try:
        unpacker.unpack()
    except msgpack.OutOfData:
        return files
    raise SnapshotFormatError("trailing data after the last file")


# -- encoding --------------------------------------------------------------------------------


def _encode_header(roots: list[str], table: dict[str, int]) -> dict[str, Any]:
    return {
        "magic": SNAPSHOT_MAGIC,
        "version": SNAPSHOT_FORMAT_VERSION,
        "roots": roots,
        "strings": list(table),
    }


def _check_header(header: Any, roots: list[str]) -> tuple[str, ...]:
    """The header's string table, once the header says the snapshot is ours and current."""
    if not isinstance(header, dict) or header.get("magic") != SNAPSHOT_MAGIC:
        raise SnapshotFormatError("not a copilot-ls index snapshot")
    if header.get("version") != SNAPSHOT_FORMAT_VERSION:
        raise SnapshotFormatError(
            f"format version {header.get('version')!r}, expected {SNAPSHOT_FORMAT_VERSION}"
        )
    if header.get("roots") != roots:
        raise SnapshotFormatError(f"written for roots {header.get('roots')!r}, not {roots!r}")
    strings = header.get("strings")
    if type(strings) is not list or not _all_of(str, strings):
        raise SnapshotFormatError("malformed string table")
    # Interned: the names are the store's dictionary keys, and compare by identity there.
    return tuple(map(sys.intern, strings))


def _string_table(files: list[FileSymbols]) -> dict[str, int]:
    """Every name, kind and container of `files`' definitions, each once, with its position."""
    # C-level passes (`dict.fromkeys` over `map`s): a workspace has a hundred thousand
    # definitions, and a Python loop over them is a large part of a save.
    definitions = list(chain.from_iterable(map(attrgetter("definitions"), files)))
    names = dict.fromkeys(map(attrgetter("name"), definitions))
    names.update(dict.fromkeys(map(attrgetter("kind"), definitions)))
    names.update(dict.fromkeys(map(attrgetter("container"), definitions)))
    return dict(zip(names, range(len(names)), strict=True))


_DEF_INTS = 7
"""Per definition, in a record's int column: name, kind and container (string table
positions), then the span's start line, start column, end line, end column."""
_DEF_TEXTS = 2
"""Per definition, in a record's text column: signature, doc."""

_NAME, _KIND, _CONTAINER, _SPAN = map(attrgetter, ("name", "kind", "container", "span"))
_SPAN_FIELDS = ("start_line", "start_col", "end_line", "end_col")
_TEXTS = attrgetter("signature", "doc")


def encode_file_symbols(s: FileSymbols, table: dict[str, int]) -> list[Any]:
    """FileSymbols as a msgpack-ready list: `[path, language, content_hash, mtime_ns, size,
    definition ints, definition texts, imports, references, chunks]`, the definitions flattened
    into two columns (see `_DEF_INTS`, `_DEF_TEXTS`), references as their blob (msgpack bin, see
    `References`) and chunks flat as `[start0, end0, start1, end1, ...]`."""
    position = table.__getitem__
    definitions = s.definitions
    spans = list(map(_SPAN, definitions))
    # Column by column with C-level `map`s, then interleaved: no Python code per definition.
    ints = list(
        chain.from_iterable(
            zip(
                map(position, map(_NAME, definitions)),
                map(position, map(_KIND, definitions)),
                map(position, map(_CONTAINER, definitions)),
                *(map(attrgetter(field), spans) for field in _SPAN_FIELDS),
                strict=True,
            )
        )
    )
    return [
        s.path,
        s.language,
        s.content_hash,
        s.mtime_ns,
        s.size,
        ints,
        list(chain.from_iterable(map(_TEXTS, definitions))),
        list(s.imports),
        _references_blob(s.references),
        [n for c in s.chunks for n in (c.start_line, c.end_line)],
    ]


# Decoding is most of a warm start's time, and a snapshot holds hundreds of thousands of
# definitions: every step below is a C-level pass over a column (type checks through
# `set(map(type, ...))`, objects built by `map`), never Python code per definition.


def decode_file_symbols(raw: Any, strings: tuple[str, ...]) -> FileSymbols:
    """The inverse of `encode_file_symbols`, given the header's string table;
    SnapshotFormatError when the shape is wrong."""
    if type(raw) is not list or len(raw) != 10:
        raise SnapshotFormatError("malformed file record")
    path, language, content_hash, mtime_ns, size, ints, texts, imports, refs, chunks = raw
    if not (
        type(path) is str
        and type(language) is str
        and type(content_hash) is str
        and type(mtime_ns) is int
        and type(size) is int
        and type(chunks) is list
    ):
        raise SnapshotFormatError(f"malformed file record for {path!r}")
    return FileSymbols(
        path,
        sys.intern(language),
        content_hash,
        mtime_ns,
        size,
        _decode_definitions(ints, texts, strings),
        _strings(imports),
        _decode_references(refs),
        _decode_chunks(chunks),
    )


def _decode_definitions(ints: Any, texts: Any, strings: tuple[str, ...]) -> tuple[Definition, ...]:
    if type(ints) is not list or type(texts) is not list:
        raise SnapshotFormatError("malformed definitions")
    count = len(texts) // _DEF_TEXTS
    if len(texts) != count * _DEF_TEXTS or len(ints) != count * _DEF_INTS:
        raise SnapshotFormatError("malformed definitions")
    if not (_all_of(int, ints) and _all_of(str, texts)) or min(ints, default=0) < 0:
        raise SnapshotFormatError("malformed definitions")
    string = strings.__getitem__
    names, kinds, containers = (map(string, ints[k::_DEF_INTS]) for k in range(3))
    spans = map(
        Span, ints[3::_DEF_INTS], ints[4::_DEF_INTS], ints[5::_DEF_INTS], ints[6::_DEF_INTS]
    )
    try:
        return tuple(
            map(
                Definition,
                names,
                kinds,
                spans,
                texts[0::_DEF_TEXTS],
                texts[1::_DEF_TEXTS],
                containers,
            )
        )
    except IndexError:
        raise SnapshotFormatError("a definition names a string the table does not have") from None


def _references_blob(references: References | Iterable[str]) -> bytes:
    """The stored form of a file's references (a plain set of names is accepted too)."""
    if isinstance(references, References):
        return references.blob
    return References.of(references).blob


def _decode_references(raw: Any) -> References:
    if type(raw) is not bytes:
        raise SnapshotFormatError("malformed references")
    return References(raw) if raw else NO_REFERENCES


def _decode_chunks(raw: list[Any]) -> tuple[Chunk, ...]:
    """Chunks are stored flat, [start0, end0, start1, end1, ...]."""
    if len(raw) % 2 or not _all_of(int, raw):
        raise SnapshotFormatError("malformed chunk list")
    return tuple(map(Chunk, raw[0::2], raw[1::2]))


def _strings(raw: Any) -> tuple[str, ...]:
    if type(raw) is not list or not _all_of(str, raw):
        raise SnapshotFormatError("expected a list of strings")
    return tuple(raw)


def _all_of(kind: type, values: list[Any]) -> bool:
    """Whether every value is exactly of type `kind` (not a subclass: no bools for ints)."""
    return set(map(type, values)) <= {kind}
