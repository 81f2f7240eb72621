"""`build_index` saves a snapshot after a cold build or a change, and leaves it alone when a
warm start finds nothing changed."""

from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path

from copilot_ls.index.build import build_index


def write(path: Path, text: str, mtime_s: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(mtime_s * 10**9, mtime_s * 10**9))


def test_an_unchanged_warm_start_does_not_rewrite_the_snapshot(tmp_path: Path) -> None:
    work, cache = tmp_path / "work", str(tmp_path / "cache")
    work.mkdir()
    write(work / "a.py", "def area(r):\n    return r * r\n", 1000)
    cold = build_index([str(work)], cache=cache)
    assert not cold.warm and cold.snapshot is not None
    os.utime(cold.snapshot, ns=(1, 1))  # so that a rewrite shows

    warm = build_index([str(work)], cache=cache)
    assert warm.warm and warm.snapshot == cold.snapshot
    assert os.stat(warm.snapshot).st_mtime_ns == 1
    assert [d.name for d in warm.index.get(str(work / "a.py")).definitions] == ["area"]


def test_a_warm_start_that_finds_a_change_saves_it(tmp_path: Path) -> None:
    work, cache = tmp_path / "work", str(tmp_path / "cache")
    work.mkdir()
    write(work / "a.py", "def area(r):\n    return r * r\n", 1000)
    write(work / "b.py", "def b():\n    pass\n", 1000)
    cold = build_index([str(work)], cache=cache)
    assert cold.snapshot is not None
    os.utime(cold.snapshot, ns=(1, 1))

    write(work / "b.py", "def b():\n    pass\n", 2000)  # touched only: the new mtime is kept
    touched = build_index([str(work)], cache=cache)
    assert touched.stats.retimed == 1 and os.stat(cold.snapshot).st_mtime_ns != 1
    os.utime(cold.snapshot, ns=(1, 1))

    (work / "b.py").unlink()
    removed = build_index([str(work)], cache=cache)
    assert removed.stats.removed == 1 and os.stat(cold.snapshot).st_mtime_ns != 1
    assert build_index([str(work)], cache=cache).index.paths() == [str(work / "a.py")]


def test_the_garbage_collector_is_on_again_after_a_build(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    assert gc.isenabled()
    build_index([str(tmp_path)], cache=str(tmp_path / "cache"))
    assert gc.isenabled()


def test_pause_is_asked_before_each_file_extracted_and_holds_the_build(tmp_path: Path) -> None:
    """`pause` runs before every file that needs extracting (not for files a warm start
    keeps), and the build waits for it: how the server lets completions go first."""
    work, cache = tmp_path / "work", str(tmp_path / "cache")
    work.mkdir()
    for name in ("a.py", "b.py", "c.py"):
        write(work / name, f"def {name[0]}_function():\n    pass\n", 1000)
    asked: list[bool] = []
    build = build_index([str(work)], cache=cache, pause=lambda: asked.append(True))
    assert len(asked) == 3 and build.index.stats().definitions == 3

    gate = threading.Event()
    released: list[float] = []
    timer = threading.Timer(0.3, gate.set)
    timer.start()
    write(work / "b.py", "def b_changed():\n    pass\n", 2000)
    started = time.monotonic()
    warm = build_index([str(work)], cache=cache, pause=lambda: released.append(gate.wait(5)))
    assert released == [True]  # only the changed file asked, and it waited for the gate
    assert time.monotonic() - started >= 0.25
    assert [d.name for d in warm.index.get(str(work / "b.py")).definitions] == ["b_changed"]
