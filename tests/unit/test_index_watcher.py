"""The index watcher turns file-system events and editor notifications into debounced,
coalesced index updates, honours the walker's ignore rules and survives file-system trouble."""

from __future__ import annotations

import errno
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot_ls.index import watcher as watcher_module
from copilot_ls.index.refresh import refresh_index
from copilot_ls.index.store import SymbolIndex
from copilot_ls.index.watcher import AppliedBatch, IndexWatcher, SnapshotSaver

# watchdog 7 warns when it adds a watch twice for one folder, which happens when folders are
# created or moved in quickly; it keeps one watch, so nothing is missed.
pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")

TIMEOUT_S = 30.0
"""Generous: the test machine is small and shared."""


def wait_until(predicate: Callable[[], object], timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def defines(index: SymbolIndex, name: str) -> bool:
    return bool(index.definitions(name))


def write(path: Path, function: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"def {function}():\n    return 1\n")
    return path


class Recorder:
    """Collects the batches a watcher applies."""

    def __init__(self) -> None:
        self.batches: list[AppliedBatch] = []
        self._lock = threading.Lock()

    def __call__(self, batch: AppliedBatch) -> None:
        with self._lock:
            self.batches.append(batch)

    def count(self) -> int:
        with self._lock:
            return len(self.batches)


@pytest.fixture
def watchers() -> Iterator[list[IndexWatcher]]:
    started: list[IndexWatcher] = []
    yield started
    for w in started:
        w.stop()


@pytest.fixture
def start(watchers: list[IndexWatcher]) -> Callable[..., tuple[IndexWatcher, SymbolIndex]]:
    """Start a watcher over `root` on an index built by a first refresh, and attach it."""

    def make(root: Path, **options: Any) -> tuple[IndexWatcher, SymbolIndex]:
        w = IndexWatcher([str(root)], **options)
        watchers.append(w)
        w.start()
        index = SymbolIndex()
        refresh_index([str(root)], index, w._extract)
        w.attach(index)
        return w, index

    return make


# -- debounce and coalescing ------------------------------------------------------------------


def test_many_events_for_the_same_files_are_applied_as_one_batch(tmp_path: Path) -> None:
    files = [str(write(tmp_path / f"m{i}.py", f"fn{i}")) for i in range(50)]
    recorder = Recorder()
    w = IndexWatcher([str(tmp_path)], observe=False, on_applied=recorder)
    w.start()
    try:
        for _ in range(20):  # 1,000 notifications, before the index is attached
            w.notify(files)
        index = SymbolIndex()
        w.attach(index)
        wait_until(lambda: recorder.count() >= 1)
        wait_until(lambda: all(defines(index, f"fn{i}") for i in range(50)))
        time.sleep(0.3)  # any second batch would be due by now
        assert recorder.count() == 1
        assert recorder.batches[0].paths == tuple(sorted(files))
        assert not recorder.batches[0].full
    finally:
        w.stop()


def test_events_keep_coming_but_a_batch_is_applied_within_the_max_delay(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    w, index = start(tmp_path, observe=False, debounce_s=1.0, max_delay_s=0.3)
    path = write(tmp_path / "stream.py", "streamed")
    started = time.monotonic()
    # An event every 20 ms never leaves the 1 s of quiet that the debounce waits for.
    while not defines(index, "streamed"):
        w.notify([str(path)])
        time.sleep(0.02)
        assert time.monotonic() - started < TIMEOUT_S


def test_a_burst_above_the_limit_becomes_one_full_refresh(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    recorder = Recorder()
    w, index = start(tmp_path, observe=False, on_applied=recorder, burst_limit=10)
    paths = [str(write(tmp_path / f"b{i}.py", f"burst{i}")) for i in range(30)]
    w.notify(paths)
    wait_until(lambda: all(defines(index, f"burst{i}") for i in range(30)))
    wait_until(lambda: any(b.full for b in recorder.batches))  # on_applied follows the update


def test_changes_made_before_attach_are_applied_once_attached(tmp_path: Path) -> None:
    w = IndexWatcher([str(tmp_path)])
    w.start()
    try:
        index = SymbolIndex()
        refresh_index([str(tmp_path)], index, w._extract)  # the initial walk: nothing yet
        write(tmp_path / "late.py", "written_during_the_walk")
        time.sleep(0.3)  # the event arrives while no index is attached
        assert not defines(index, "written_during_the_walk")
        w.attach(index)
        wait_until(lambda: defines(index, "written_during_the_walk"))
    finally:
        w.stop()


# -- real disk ---------------------------------------------------------------------------------


def test_files_created_modified_renamed_and_deleted_on_disk_are_picked_up(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    w, index = start(tmp_path)
    assert w.mode == "events"
    path = write(tmp_path / "pkg" / "a.py", "created_fn")
    wait_until(lambda: defines(index, "created_fn"))
    write(path, "modified_fn")
    wait_until(lambda: defines(index, "modified_fn") and not defines(index, "created_fn"))
    renamed = tmp_path / "pkg" / "b.py"
    path.rename(renamed)
    wait_until(lambda: index.paths() == [str(renamed)])
    renamed.unlink()
    wait_until(lambda: len(index) == 0)


def test_directories_deleted_or_moved_take_their_files_along(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    def files_under(folder: str) -> set[str]:
        return {str(tmp_path / folder / "deep" / f"m{i}.py") for i in range(20)}

    for i in range(20):
        write(tmp_path / "lib" / "deep" / f"m{i}.py", f"lib_fn{i}")
    keep = {str(tmp_path / "keep.py")}
    write(tmp_path / "keep.py", "kept")
    _w, index = start(tmp_path)
    assert set(index.paths()) == files_under("lib") | keep
    (tmp_path / "lib").rename(tmp_path / "moved")
    wait_until(lambda: set(index.paths()) == files_under("moved") | keep)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    shutil.move(str(tmp_path / "moved"), str(outside))
    wait_until(lambda: set(index.paths()) == keep)
    shutil.move(str(outside), str(tmp_path / "back"))
    wait_until(lambda: set(index.paths()) == files_under("back") | keep)
    shutil.rmtree(tmp_path / "back")
    wait_until(lambda: set(index.paths()) == keep)


# -- ignore rules ------------------------------------------------------------------------------


def test_ignored_files_and_directories_are_never_indexed(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    (tmp_path / ".gitignore").write_text("secret.py\nout/\n")
    (tmp_path / ".git").mkdir()
    _w, index = start(tmp_path)
    write(tmp_path / "secret.py", "secret_fn")
    write(tmp_path / "out" / "gen.py", "out_fn")
    write(tmp_path / ".git" / "hooks" / "x.py", "git_fn")
    write(tmp_path / "node_modules" / "dep" / "index.py", "dep_fn")
    write(tmp_path / "sentinel.py", "sentinel")  # written last, so applied last
    wait_until(lambda: defines(index, "sentinel"))
    assert not any(defines(index, n) for n in ["secret_fn", "out_fn", "git_fn", "dep_fn"])


def test_the_servers_own_log_file_is_never_queued(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    """A `--log-file` inside the workspace would otherwise feed back: each event on it logged
    into it, which is another event."""
    log_file = tmp_path / "copilot-ls.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    logging.getLogger().addHandler(handler)
    try:
        recorder = Recorder()
        _w, index = start(tmp_path, on_applied=recorder)
        for n in range(3):
            with log_file.open("a") as f:
                f.write(f"line {n}\n")
        write(tmp_path / "sentinel.py", "sentinel")
        wait_until(lambda: defines(index, "sentinel"))
        applied = [path for batch in recorder.batches for path in batch.paths]
        assert str(tmp_path / "sentinel.py") in applied
        assert str(log_file) not in applied
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def test_a_gitignore_change_takes_effect_both_ways(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    write(tmp_path / "sub" / "local.py", "local_fn")
    recorder = Recorder()
    _w, index = start(tmp_path, on_applied=recorder)
    assert defines(index, "local_fn")
    (tmp_path / "sub" / ".gitignore").write_text("local.py\n")
    wait_until(lambda: not defines(index, "local_fn"))
    wait_until(lambda: any(b.full for b in recorder.batches))  # on_applied follows the update
    (tmp_path / "sub" / ".gitignore").write_text("# nothing ignored\n")
    wait_until(lambda: defines(index, "local_fn"))


def test_the_project_ignore_file_is_reread_too(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    write(tmp_path / "vendored.py", "vendored_fn")
    _w, index = start(tmp_path)
    (tmp_path / ".copilotlsignore").write_text("vendored.py\n")
    wait_until(lambda: not defines(index, "vendored_fn"))
    write(tmp_path / "vendored.py", "vendored_again")
    write(tmp_path / "after.py", "after_fn")
    wait_until(lambda: defines(index, "after_fn"))
    assert not defines(index, "vendored_again")


# -- trouble -----------------------------------------------------------------------------------


def test_paths_that_vanish_before_they_are_read_are_fine(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    recorder = Recorder()
    w, index = start(tmp_path, on_applied=recorder)
    w.notify([str(tmp_path / "never-existed.py"), str(tmp_path / "no" / "such" / "dir")])
    for i in range(20):
        write(tmp_path / f"flash{i}.py", f"flash{i}").unlink()
    write(tmp_path / "stays.py", "stays_fn")
    wait_until(lambda: defines(index, "stays_fn"))
    assert index.paths() == [str(tmp_path / "stays.py")]
    wait_until(lambda: recorder.count() >= 1)


def test_a_missing_root_is_left_out_and_the_others_are_watched(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    w = IndexWatcher([str(tmp_path / "missing"), str(real)])
    w.start()
    try:
        index = SymbolIndex()
        w.attach(index)
        assert w.mode == "events"
        write(real / "a.py", "in_real_root")
        wait_until(lambda: defines(index, "in_real_root"))
    finally:
        w.stop()
    only_missing = IndexWatcher([str(tmp_path / "missing")])
    only_missing.start()
    assert only_missing.mode == "off"
    only_missing.stop()


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "inotify watch limit reached"),
        OSError(errno.EMFILE, "inotify instance limit reached"),
        PermissionError(errno.EACCES, "Permission denied"),
    ],
)
def test_when_inotify_cannot_start_the_roots_are_rescanned_instead(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    start: Callable[..., tuple[IndexWatcher, SymbolIndex]],
    error: OSError,
) -> None:
    class FullObserver(watcher_module.Observer):  # type: ignore[misc, valid-type]
        def start(self) -> None:
            raise error

    monkeypatch.setattr(watcher_module, "Observer", FullObserver)
    w, index = start(tmp_path, rescan_interval_s=0.2)
    assert w.mode == "rescan"
    write(tmp_path / "polled.py", "found_by_rescan")
    wait_until(lambda: defines(index, "found_by_rescan"))


def test_lost_events_reported_by_watchdog_trigger_a_full_refresh(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    recorder = Recorder()
    _w, index = start(tmp_path, on_applied=recorder)
    (tmp_path / "missed.py").write_text("def missed():\n    pass\n")
    logging.getLogger("watchdog.observers.inotify_c").warning(
        "Inotify queue overflowed; filesystem events were lost"
    )
    wait_until(lambda: any(b.full for b in recorder.batches))
    wait_until(lambda: defines(index, "missed"))


def test_a_failing_extraction_or_callback_does_not_stop_the_watcher(
    tmp_path: Path, start: Callable[..., tuple[IndexWatcher, SymbolIndex]]
) -> None:
    def extract(path: str, data: bytes, mtime_ns: int) -> Any:
        if path.endswith("bad.py"):
            raise ValueError("boom")
        return watcher_module._extract_file(path, data, mtime_ns)

    def on_applied(batch: AppliedBatch) -> None:
        raise RuntimeError("callback trouble")

    _w, index = start(tmp_path, extract=extract, on_applied=on_applied)
    write(tmp_path / "bad.py", "bad_fn")
    write(tmp_path / "good.py", "good_fn")
    wait_until(lambda: defines(index, "good_fn"))
    write(tmp_path / "later.py", "later_fn")
    wait_until(lambda: defines(index, "later_fn"))
    assert not defines(index, "bad_fn")


def test_stop_ends_the_threads_and_later_changes_are_not_applied(tmp_path: Path) -> None:
    before = {t.ident for t in threading.enumerate()}
    w = IndexWatcher([str(tmp_path)])
    w.start()
    index = SymbolIndex()
    w.attach(index)
    write(tmp_path / "a.py", "before_stop")
    wait_until(lambda: defines(index, "before_stop"))
    w.stop()
    w.stop()  # idempotent
    wait_until(lambda: {t.ident for t in threading.enumerate() if t.is_alive()} <= before)
    write(tmp_path / "b.py", "after_stop")
    w.notify([str(tmp_path / "b.py")])
    time.sleep(0.3)
    assert not defines(index, "after_stop")


# -- snapshot saving ---------------------------------------------------------------------------


def test_the_snapshot_is_saved_once_per_interval_after_changes_and_at_flush() -> None:
    saved = threading.Event()
    calls: list[float] = []

    def save() -> None:
        calls.append(time.monotonic())
        saved.set()

    saver = SnapshotSaver(save, interval_s=1.0)
    for _ in range(100):
        saver.changed()
    assert saved.wait(TIMEOUT_S)
    time.sleep(1.5)  # a second timer, if one were started, would have fired
    assert len(calls) == 1
    saver.flush()  # nothing changed since
    assert len(calls) == 1
    saver.changed()
    saver.flush()
    assert len(calls) == 2


def test_stopping_a_watcher_saves_the_snapshot_when_changes_are_pending(tmp_path: Path) -> None:
    calls: list[int] = []
    w = IndexWatcher([str(tmp_path)])
    w.start()
    index = SymbolIndex()
    w.attach(index, SnapshotSaver(lambda: calls.append(len(index)), interval_s=3600))
    write(tmp_path / "a.py", "saved_fn")
    wait_until(lambda: defines(index, "saved_fn"))
    assert calls == []
    w.stop()
    assert calls == [1]


def test_events_are_counted_under_the_root_they_belong_to(tmp_path: Path) -> None:
    """Only a path's parts below its root decide: a root inside a `build` folder is watched."""
    root = tmp_path / "build" / "project"
    root.mkdir(parents=True)
    w = IndexWatcher([str(root)], observe=False)
    assert w._classify(str(root / "a.py")) == (True, False)
    assert w._classify(str(root / "sub" / ".gitignore")) == (True, True)
    assert w._classify(str(root / ".git" / "info" / "exclude")) == (True, True)
    assert w._classify(str(root / ".git" / "index")) == (False, False)
    assert w._classify(str(root / "node_modules" / "x.js")) == (False, False)
    assert w._classify(str(tmp_path / "elsewhere.py")) == (False, False)
