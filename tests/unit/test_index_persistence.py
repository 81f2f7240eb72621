"""Index snapshots round-trip, fail soft on bad data, and make warm refreshes cheap."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any

import msgpack
import pytest

from copilot_ls.index import persistence
from copilot_ls.index.model import Chunk, Definition, FileSymbols, References, Span
from copilot_ls.index.persistence import (
    CACHE_DIR_ENV,
    SNAPSHOT_FORMAT_VERSION,
    load_snapshot,
    save_snapshot,
    snapshot_path,
)
from copilot_ls.index.refresh import content_hash, refresh_index
from copilot_ls.index.store import SymbolIndex

ROOTS = ["/work/project", "/work/lib"]


def rich_file(path: str) -> FileSymbols:
    return FileSymbols(
        path=path,
        language="python",
        content_hash="ab" * 16,
        mtime_ns=1_700_000_000_123_456_789,
        size=4242,
        definitions=(
            Definition(
                "Shape", "class", Span(0, 0, 9, 0), "class Shape:", doc="Füße 形", container=""
            ),
            Definition(
                "area", "method", Span(2, 4, 3, 20), "def area(self) -> float:", "", "Shape"
            ),
        ),
        imports=("os.path", "./util"),
        references=References(b"math\npi"),
        chunks=(Chunk(0, 5), Chunk(5, 9)),
    )


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_a_snapshot_round_trips_to_an_equal_index(cache: Path) -> None:
    index = SymbolIndex([rich_file("/work/project/b.py"), rich_file("/work/lib/a.py")])
    index.replace(FileSymbols("/work/project/empty.txt", "text", "00" * 16, 0, 0))
    path = save_snapshot(index, ROOTS, cache=cache)
    assert path == snapshot_path(ROOTS, cache=cache) and path.exists()
    loaded = load_snapshot(list(reversed(ROOTS)), cache=cache)
    assert loaded is not None
    assert loaded.all_files() == index.all_files()
    assert loaded.stats() == index.stats()


def test_snapshot_files_are_private_and_no_temp_files_are_left(cache: Path) -> None:
    path = save_snapshot(SymbolIndex([rich_file("/work/lib/a.py")]), ROOTS, cache=cache)
    assert path is not None
    save_snapshot(SymbolIndex(), ROOTS, cache=cache)  # overwrite in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert os.listdir(path.parent) == [path.name]


def test_a_failed_write_keeps_the_old_snapshot_and_cleans_up(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_snapshot(SymbolIndex([rich_file("/work/lib/a.py")]), ROOTS, cache=cache)
    assert path is not None

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(persistence.os, "replace", fail)
    assert save_snapshot(SymbolIndex(), ROOTS, cache=cache) is None
    monkeypatch.undo()
    assert os.listdir(path.parent) == [path.name]
    loaded = load_snapshot(ROOTS, cache=cache)
    assert loaded is not None and loaded.paths() == ["/work/lib/a.py"]


def test_one_file_per_workspace_in_the_cache_dir_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "env-cache"))
    first, second = snapshot_path(["/a", "/b"]), snapshot_path(["/b", "/a/"])
    assert first == second and first.parent == tmp_path / "env-cache" / "index"
    assert snapshot_path(["/a"]) != first


def test_a_missing_snapshot_gives_none_and_a_log_line(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=persistence.__name__):
        assert load_snapshot(ROOTS, cache=cache) is None
    assert "no index snapshot" in caplog.text


def write_raw(cache: Path, data: bytes) -> None:
    path = snapshot_path(ROOTS, cache=cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def header(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "magic": persistence.SNAPSHOT_MAGIC,
        "version": SNAPSHOT_FORMAT_VERSION,
        "roots": sorted(ROOTS),
    }
    return {**fields, **changes}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(os.urandom(4096), id="random-bytes"),
        pytest.param(msgpack.packb({"not": "a snapshot"}), id="other-msgpack"),
        pytest.param(msgpack.packb([header(version=0), []]), id="old-version"),
        pytest.param(msgpack.packb([header(magic="other"), []]), id="wrong-magic"),
        pytest.param(msgpack.packb([header(roots=["/elsewhere"]), []]), id="other-roots"),
        pytest.param(msgpack.packb([header(), [["/p", "python", 1]]]), id="wrong-shape"),
        pytest.param(msgpack.packb([header(), [[1] * 9]]), id="wrong-types"),
        pytest.param(msgpack.packb([header(), []]) + b"\x01", id="trailing-data"),
    ],
)
def test_unusable_snapshots_give_none_and_never_raise(
    cache: Path, caplog: pytest.LogCaptureFixture, data: bytes
) -> None:
    write_raw(cache, data)
    with caplog.at_level(logging.INFO, logger=persistence.__name__):
        assert load_snapshot(ROOTS, cache=cache) is None
    assert "ignoring" in caplog.text


def test_a_truncated_snapshot_gives_none(cache: Path) -> None:
    index = SymbolIndex([rich_file(f"/work/lib/{i}.py") for i in range(20)])
    path = save_snapshot(index, ROOTS, cache=cache)
    assert path is not None
    data = path.read_bytes()
    for cut in (1, len(data) // 3, len(data) - 1):
        path.write_bytes(data[:cut])
        assert load_snapshot(ROOTS, cache=cache) is None


# -- warm refresh -----------------------------------------------------------------------------


class CountingExtract:
    """A stand-in for tree-sitter extraction: each `def NAME` line becomes a function."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, path: str, data: bytes, mtime_ns: int) -> FileSymbols:
        self.calls.append(os.path.basename(path))
        if b"explode" in data:
            raise ValueError("grammar crashed")
        lines = data.decode().splitlines()
        defs = tuple(
            Definition(line[4:].strip(), "function", Span(i, 0, i, len(line)), line)
            for i, line in enumerate(lines)
            if line.startswith("def ")
        )
        return FileSymbols(path, "python", content_hash(data), mtime_ns, len(data), defs)


def put(root: Path, name: str, text: str, mtime_s: int) -> None:
    path = root / name
    path.write_text(text)
    os.utime(path, ns=(mtime_s * 10**9, mtime_s * 10**9))


def test_a_warm_refresh_from_a_snapshot_re_extracts_only_changed_files(
    tmp_path: Path, cache: Path
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    for name in ["a.py", "b.py", "c.py", "d.py"]:
        put(root, name, f"def {name[0]}\n", 1000)
    extract = CountingExtract()
    index = SymbolIndex()
    cold = refresh_index([str(root)], index, extract)
    assert (cold.seen, cold.parsed, cold.reused) == (4, 4, 0)
    assert save_snapshot(index, [str(root)], cache=cache) is not None

    put(root, "b.py", "def b2\n", 2000)  # new content
    put(root, "c.py", "def c\n", 3000)  # touched: same bytes, new mtime
    (root / "d.py").unlink()
    put(root, "e.py", "def e\n", 1000)
    warm = load_snapshot([str(root)], cache=cache)
    assert warm is not None
    extract.calls.clear()
    stats = refresh_index([str(root)], warm, extract)

    assert sorted(extract.calls) == ["b.py", "e.py"]
    assert (stats.seen, stats.parsed, stats.reused, stats.removed) == (4, 2, 2, 1)
    assert [h.path for h in warm.definitions("b2")] == [str(root / "b.py")]
    touched = warm.get(str(root / "c.py"))
    assert touched is not None and touched.mtime_ns == 3000 * 10**9
    assert warm.get(str(root / "d.py")) is None


def test_files_that_become_ignored_or_binary_leave_the_index(tmp_path: Path) -> None:
    put(tmp_path, "a.py", "def a\n", 1000)
    put(tmp_path, "b.py", "def b\n", 1000)
    index = SymbolIndex()
    refresh_index([str(tmp_path)], index, CountingExtract())
    (tmp_path / "b.py").write_bytes(b"\0\1\2")
    (tmp_path / ".gitignore").write_text("a.py\n")
    stats = refresh_index([str(tmp_path)], index, CountingExtract())
    assert index.paths() == [str(tmp_path / ".gitignore")]
    assert stats.removed == 2
    assert stats.skipped == {"binary": 1, "ignored": 1}


def test_a_failing_extraction_is_logged_and_the_rest_indexed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    put(tmp_path, "bad.py", "explode\n", 1000)
    put(tmp_path, "good.py", "def good\n", 1000)
    index = SymbolIndex()
    stats = refresh_index([str(tmp_path)], index, CountingExtract())
    assert (stats.parsed, stats.failed) == (1, 1)
    assert index.paths() == [str(tmp_path / "good.py")]
    assert "bad.py failed" in caplog.text


def test_progress_is_reported_and_cancellation_stops_early(tmp_path: Path) -> None:
    for i in range(3):
        put(tmp_path, f"f{i}.py", f"def f{i}\n", 1000)
    calls: list[tuple[int, int]] = []
    refresh_index(
        [str(tmp_path)], SymbolIndex(), CountingExtract(), progress=lambda *a: calls.append(a)
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]

    cancel = threading.Event()
    cancel.set()
    extract = CountingExtract()
    stats = refresh_index([str(tmp_path)], SymbolIndex(), extract, cancel=cancel)
    assert stats.cancelled and extract.calls == []


# -- format 5: string table, columns, references blob -----------------------------------------


def test_names_are_stored_once_and_shared_by_the_loaded_files(cache: Path) -> None:
    files = [rich_file(f"/work/lib/{i}.py") for i in range(50)]
    path = save_snapshot(SymbolIndex(files), ROOTS, cache=cache)
    assert path is not None
    # "Shape" names a class and is `area`'s container in 50 files: one msgpack string of 5 bytes.
    assert path.read_bytes().count(b"\xa5Shape") == 1
    loaded = load_snapshot(ROOTS, cache=cache)
    assert loaded is not None
    first, last = loaded.get("/work/lib/0.py"), loaded.get("/work/lib/49.py")
    assert first is not None and last is not None
    assert first.definitions[0].name is last.definitions[0].name
    assert first.definitions[1].container is first.definitions[0].name


def test_references_are_stored_as_one_binary_field_and_load_equal(cache: Path) -> None:
    path = save_snapshot(SymbolIndex([rich_file("/work/lib/a.py")]), ROOTS, cache=cache)
    assert path is not None and b"\xc4\x07math\npi" in path.read_bytes()  # msgpack bin 8
    loaded = load_snapshot(ROOTS, cache=cache)
    assert loaded is not None
    symbols = loaded.get("/work/lib/a.py")
    assert symbols is not None and symbols.references == References(b"pi\nmath")
    assert "pi" in symbols.references and "p" not in symbols.references


def test_references_given_as_a_plain_set_are_saved_too(cache: Path) -> None:
    names: Any = frozenset({"x"})  # not a `References`: what older callers pass
    symbols = FileSymbols("/work/lib/a.py", "python", "00" * 16, 0, 0, references=names)
    save_snapshot(SymbolIndex([symbols]), ROOTS, cache=cache)
    loaded = load_snapshot(ROOTS, cache=cache)
    assert loaded is not None and loaded.get("/work/lib/a.py") == symbols


def snapshot_with(record: list[object], strings: list[object] | None = None) -> bytes:
    table = ["Shape", "class", ""] if strings is None else strings
    return msgpack.packb([header(strings=table), [record]])


def good_record(**changes: object) -> list[object]:
    fields: dict[str, object] = {
        "ints": [0, 1, 2, 0, 0, 9, 0],
        "texts": ["class Shape:", "doc"],
        "refs": b"Shape\nmath",
    }
    fields.update(changes)
    return [
        "/p.py",
        "python",
        "ab" * 16,
        1,
        2,
        fields["ints"],
        fields["texts"],
        [],
        fields["refs"],
        [],
    ]


def test_a_well_formed_record_loads(cache: Path) -> None:
    write_raw(cache, snapshot_with(good_record()))
    loaded = load_snapshot(ROOTS, cache=cache)
    assert loaded is not None
    symbols = loaded.get("/p.py")
    assert symbols is not None and symbols.references == frozenset({"Shape", "math"})
    assert symbols.definitions == (
        Definition("Shape", "class", Span(0, 0, 9, 0), "class Shape:", "doc", ""),
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(snapshot_with(good_record(ints=[0, 1, 9, 0, 0, 9, 0])), id="name-past-table"),
        pytest.param(snapshot_with(good_record(ints=[0, 1, 2, -1, 0, 9, 0])), id="negative"),
        pytest.param(snapshot_with(good_record(ints=[0, 1, 2, 0, 0, 9])), id="short-ints"),
        pytest.param(snapshot_with(good_record(ints=[0, 1, 2, True, 0, 9, 0])), id="bool"),
        pytest.param(snapshot_with(good_record(texts=["class Shape:"])), id="short-texts"),
        pytest.param(snapshot_with(good_record(texts=["class Shape:", 3])), id="int-doc"),
        pytest.param(snapshot_with(good_record(refs=[0])), id="references-as-positions"),
        pytest.param(snapshot_with(good_record(refs="Shape")), id="references-as-text"),
        pytest.param(snapshot_with(good_record(), strings=["Shape", 1, ""]), id="bad-table"),
        pytest.param(msgpack.packb([header(), []]), id="no-table"),
    ],
)
def test_malformed_records_give_none(
    cache: Path, caplog: pytest.LogCaptureFixture, data: bytes
) -> None:
    write_raw(cache, data)
    with caplog.at_level(logging.INFO, logger=persistence.__name__):
        assert load_snapshot(ROOTS, cache=cache) is None
    assert "ignoring" in caplog.text


def test_a_refresh_counts_files_kept_for_their_content_hash(tmp_path: Path) -> None:
    put(tmp_path, "a.py", "def a\n", 1000)
    index = SymbolIndex()
    refresh_index([str(tmp_path)], index, CountingExtract())
    put(tmp_path, "a.py", "def a\n", 2000)  # same bytes, new mtime
    stats = refresh_index([str(tmp_path)], index, CountingExtract())
    assert (stats.parsed, stats.reused, stats.retimed) == (0, 1, 1)
