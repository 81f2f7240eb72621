"""Index stage: a msgpack snapshot of a `SymbolIndex` per workspace, for warm starts.

One file per set of workspace roots, named by a hash of the sorted roots, under
`<cache dir>/index/` (mode 0700; the file 0600). The cache dir is, in order: the `cache_dir`
argument, `$COPILOT_LS_CACHE_DIR`, platformdirs' `user_cache_dir("copilot-ls")` (which honours
`$XDG_CACHE_HOME`). The file is one msgpack array `[header, files]` whose header carries
`SNAPSHOT_FORMAT_VERSION` and the roots; the dataclasses of `model.py` are written explicitly
as arrays (no pickle). Writes are atomic (temp file in the same directory, fsync, os.replace);
`load_snapshot` returns None, with a log line, for a missing, corrupt, truncated or
old-version snapshot, and never raises on bad data.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import msgpack
import platformdirs

from copilot_ls.index.model import Chunk, Definition, FileSymbols, Span
from copilot_ls.index.store import SymbolIndex

logger = logging.getLogger(__name__)

SNAPSHOT_FORMAT_VERSION = 2
"""Bump whenever the encoding below or the meaning of a model field changes: older snapshots
are then ignored (and rebuilt) rather than misread."""

SNAPSHOT_MAGIC = "copilot-ls-index"
"""First header field, so that a stray msgpack file is never taken for a snapshot."""

CACHE_DIR_ENV = "COPILOT_LS_CACHE_DIR"
"""Environment variable overriding the cache directory (tests, sandboxes)."""

SNAPSHOT_SUFFIX = ".msgpack"

_MAX_ITEMS = 1_000_000
"""Cap on any one msgpack array/map/string in a snapshot, so that a corrupt length field
cannot make the reader allocate gigabytes before failing."""

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
        with open(path, "rb") as f, _gc_paused():
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
            f.write(packer.pack_array_header(2))
            f.write(packer.pack(_encode_header(roots)))
            f.write(packer.pack_array_header(len(files)))
            for symbols in files:
                f.write(packer.pack(encode_file_symbols(symbols)))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: decoding allocates millions of objects, none of them
    cyclic, and the collections this triggers otherwise take half of the load time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
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
    _check_header(unpacker.unpack(), roots)
    count = unpacker.read_array_header()
    files = [decode_file_symbols(unpacker.unpack()) for _ in range(count)]
    # Anything after the last file means the file was not written by this code.
    try:
        unpacker.unpack()
    except msgpack.OutOfData:
        return files
    raise SnapshotFormatError("trailing data after the last file")


# -- encoding --------------------------------------------------------------------------------


def _encode_header(roots: list[str]) -> dict[str, Any]:
    return {"magic": SNAPSHOT_MAGIC, "version": SNAPSHOT_FORMAT_VERSION, "roots": roots}


def _check_header(header: Any, roots: list[str]) -> None:
    if not isinstance(header, dict) or header.get("magic") != SNAPSHOT_MAGIC:
        raise SnapshotFormatError("not a copilot-ls index snapshot")
    if header.get("version") != SNAPSHOT_FORMAT_VERSION:
        raise SnapshotFormatError(
            f"format version {header.get('version')!r}, expected {SNAPSHOT_FORMAT_VERSION}"
        )
    if header.get("roots") != roots:
        raise SnapshotFormatError(f"written for roots {header.get('roots')!r}, not {roots!r}")


def encode_file_symbols(s: FileSymbols) -> list[Any]:
    """FileSymbols as nested msgpack-ready lists, fields in declaration order (spans flattened
    into their definitions)."""
    return [
        s.path,
        s.language,
        s.content_hash,
        s.mtime_ns,
        s.size,
        [_encode_definition(d) for d in s.definitions],
        list(s.imports),
        sorted(s.references),
        [n for c in s.chunks for n in (c.start_line, c.end_line)],
    ]


def _encode_definition(d: Definition) -> list[Any]:
    span = d.span
    return [
        d.name,
        d.kind,
        span.start_line,
        span.start_col,
        span.end_line,
        span.end_col,
        d.signature,
        d.doc,
        d.container,
    ]


# The decoders check types inline (`type(x) is str`) rather than through helper calls: a
# snapshot holds hundreds of thousands of definitions, and this is most of a warm start's time.


def decode_file_symbols(raw: Any) -> FileSymbols:
    """The inverse of `encode_file_symbols`; SnapshotFormatError when the shape is wrong."""
    if type(raw) is not list or len(raw) != 9:
        raise SnapshotFormatError("malformed file record")
    path, language, content_hash, mtime_ns, size, defs, imports, refs, chunks = raw
    if not (
        type(path) is str
        and type(language) is str
        and type(content_hash) is str
        and type(mtime_ns) is int
        and type(size) is int
        and type(defs) is list
        and type(chunks) is list
    ):
        raise SnapshotFormatError(f"malformed file record for {path!r}")
    return FileSymbols(
        path,
        language,
        content_hash,
        mtime_ns,
        size,
        tuple(map(_decode_definition, defs)),
        _strings(imports),
        frozenset(_strings(refs)),
        _decode_chunks(chunks),
    )


def _decode_definition(raw: Any) -> Definition:
    if type(raw) is not list or len(raw) != 9:
        raise SnapshotFormatError("malformed definition")
    name, kind, start_line, start_col, end_line, end_col, signature, doc, container = raw
    if not (
        type(name) is str
        and type(kind) is str
        and type(start_line) is int
        and type(start_col) is int
        and type(end_line) is int
        and type(end_col) is int
        and type(signature) is str
        and type(doc) is str
        and type(container) is str
    ):
        raise SnapshotFormatError(f"malformed definition {name!r}")
    span = Span(start_line, start_col, end_line, end_col)
    return Definition(name, kind, span, signature, doc, container)


def _decode_chunks(raw: list[Any]) -> tuple[Chunk, ...]:
    """Chunks are stored flat, [start0, end0, start1, end1, ...]."""
    if len(raw) % 2 or not all(type(n) is int for n in raw):
        raise SnapshotFormatError("malformed chunk list")
    return tuple(Chunk(raw[k], raw[k + 1]) for k in range(0, len(raw), 2))


def _strings(raw: Any) -> tuple[str, ...]:
    if type(raw) is not list or not all(type(v) is str for v in raw):
        raise SnapshotFormatError("expected a list of strings")
    return tuple(raw)
