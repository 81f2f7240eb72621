"""Single-path index updates follow the walker's rules: `PathRules` skips what the walk skips,
and `refresh_paths` re-extracts, keeps or drops exactly the files that changed."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from copilot_ls.index.extract import extract_file
from copilot_ls.index.model import FileSymbols
from copilot_ls.index.path_rules import PathRules
from copilot_ls.index.refresh import refresh_index
from copilot_ls.index.store import SymbolIndex
from copilot_ls.index.updates import refresh_paths
from copilot_ls.index.walker import Candidate, SkipReason, walk_workspace


def extract(path: str, data: bytes, mtime_ns: int) -> FileSymbols:
    return extract_file(path, data, mtime_ns=mtime_ns)


def write(root: Path, rel: str, content: str | bytes = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


def py(function: str) -> str:
    return f"def {function}():\n    return 1\n"


def indexed(root: Path) -> tuple[SymbolIndex, PathRules]:
    index = SymbolIndex()
    refresh_index([str(root)], index, extract)
    return index, PathRules([str(root)])


# -- PathRules ---------------------------------------------------------------------------------


def test_path_rules_keep_exactly_the_files_the_walk_keeps(tmp_path: Path) -> None:
    work = tmp_path / "repo" / "packages" / "app"
    write(tmp_path / "repo", ".git/info/exclude", "scratch.py\n")
    write(tmp_path / "repo", ".gitignore", "*.log\n/packages/app/local.py\n")
    write(work, ".gitignore", "secret/\n!keep.log\n")
    write(work, "sub/.gitignore", "*.tmp.py\n")
    write(work, ".copilotlsignore", "vendored/\n")
    write(work, "venvish/pyvenv.cfg", "home = /usr\n")
    rels = [
        "a.py", "a.log", "keep.log", "local.py", "scratch.py", "secret/x.py", "sub/b.py",
        "sub/c.tmp.py", "sub/local.py", "vendored/v.py", "node_modules/m/i.js", ".git/HEAD",
        "build/out.py", "venvish/lib/site.py", "image.png", "package-lock.json", "app.min.js",
        "deep/er/still.py",
    ]  # fmt: skip
    for rel in rels:
        write(work, rel)
    walked = {
        item.path for item in walk_workspace([str(work)], check_content=False)
        if isinstance(item, Candidate)
    }  # fmt: skip
    rules = PathRules([str(work)])
    kept = {
        os.path.join(directory, name)
        for directory, _dirs, names in os.walk(work)
        for name in names
        if rules.skip_reason(os.path.join(directory, name)) is None
    }
    assert kept == walked
    assert os.path.join(work, "sub", "b.py") in kept and len(kept) >= 5


def test_path_rules_give_the_walks_reasons(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "ignored/\n")
    rules = PathRules([str(tmp_path)])
    assert rules.skip_reason(str(tmp_path / "ignored" / "a.py")) is SkipReason.IGNORED
    assert rules.skip_reason(str(tmp_path / "ignored"), is_dir=True) is SkipReason.IGNORED
    assert rules.skip_reason(str(tmp_path / ".git" / "config")) is SkipReason.DEFAULT_DIR
    assert rules.skip_reason(str(tmp_path / "x" / "logo.PNG")) is SkipReason.BINARY
    assert rules.skip_reason(str(tmp_path / "yarn.lock")) is SkipReason.GENERATED
    assert rules.skip_reason(str(tmp_path.parent / "elsewhere.py")) is SkipReason.IGNORED
    assert rules.skip_reason(str(tmp_path)) is None
    assert rules.skip_reason(str(tmp_path / "not-yet" / "there.py")) is None


def test_path_rules_read_ignore_files_again_after_reset(tmp_path: Path) -> None:
    rules = PathRules([str(tmp_path)])
    path = str(tmp_path / "later.py")
    assert rules.skip_reason(path) is None
    write(tmp_path, ".gitignore", "later.py\n")
    assert rules.skip_reason(path) is None  # cached until told
    rules.reset()
    assert rules.skip_reason(path) is SkipReason.IGNORED


# -- refresh_paths -----------------------------------------------------------------------------


def test_changed_files_are_reextracted_and_unchanged_ones_kept(tmp_path: Path) -> None:
    a = write(tmp_path, "a.py", py("old_name"))
    b = write(tmp_path, "b.py", py("stable"))
    index, rules = indexed(tmp_path)
    a.write_text(py("new_name") + "\n")
    os.utime(b, ns=(b.stat().st_atime_ns, b.stat().st_mtime_ns + 10**9))  # touched only
    stats = refresh_paths([str(a), str(b), str(a)], index, extract, rules)
    assert (stats.parsed, stats.reused) == (1, 1)
    assert index.definitions("new_name") and not index.definitions("old_name")
    file_b = index.get(str(b))
    assert file_b is not None and file_b.mtime_ns == b.stat().st_mtime_ns
    again = refresh_paths([str(a), str(b)], index, extract, rules)
    assert (again.parsed, again.reused) == (0, 2)


def test_deleted_files_and_directories_leave_the_index(tmp_path: Path) -> None:
    gone = write(tmp_path, "gone.py", py("gone_fn"))
    for i in range(5):
        write(tmp_path, f"pkg/sub/m{i}.py", py(f"pkg_fn{i}"))
    write(tmp_path, "pkgless.py", py("neighbour"))  # shares the "pkg" prefix, not the folder
    index, rules = indexed(tmp_path)
    gone.unlink()
    for i in range(5):
        (tmp_path / "pkg" / "sub" / f"m{i}.py").unlink()
    for directory in [tmp_path / "pkg" / "sub", tmp_path / "pkg"]:
        directory.rmdir()
    stats = refresh_paths([str(gone), str(tmp_path / "pkg")], index, extract, rules)
    assert stats.removed == 6
    assert index.paths() == [str(tmp_path / "pkgless.py")]


def test_files_the_walk_would_skip_are_dropped(tmp_path: Path) -> None:
    names = ["binary.py", "minified.js", "generated.go", "huge.py", "ignored.py"]
    paths = [write(tmp_path, name, py(f"fn_{i}")) for i, name in enumerate(names)]
    index, _rules = indexed(tmp_path)
    assert len(index) == 5
    paths[0].write_bytes(b"\0\1\2 binary")
    paths[1].write_text("var a=1;" * 2000)
    paths[2].write_text("// Code generated by protoc. DO NOT EDIT.\npackage x\n")
    paths[3].write_text("x = 1\n" * 200_000)
    write(tmp_path, ".gitignore", "ignored.py\n")
    stats = refresh_paths([str(p) for p in paths], index, extract, PathRules([str(tmp_path)]))
    assert len(index) == 0
    assert stats.removed == 5
    assert {"binary", "minified", "generated", "too_large", "ignored"} <= set(stats.skipped)


def test_a_new_directory_is_walked_with_the_ignore_rules(tmp_path: Path) -> None:
    index, rules = indexed(tmp_path)
    write(tmp_path, "new/.gitignore", "skip/\n")
    write(tmp_path, "new/a.py", py("new_a"))
    write(tmp_path, "new/deeper/b.py", py("new_b"))
    write(tmp_path, "new/skip/c.py", py("skipped_c"))
    write(tmp_path, "new/node_modules/d.py", py("skipped_d"))
    refresh_paths([str(tmp_path / "new")], index, extract, rules)
    assert index.definitions("new_a") and index.definitions("new_b")
    assert not index.definitions("skipped_c") and not index.definitions("skipped_d")


def test_a_directory_that_became_ignored_takes_its_files_along(tmp_path: Path) -> None:
    for i in range(3):
        write(tmp_path, f"out/f{i}.py", py(f"out_fn{i}"))
    index, _rules = indexed(tmp_path)
    write(tmp_path, ".gitignore", "out/\n")
    refresh_paths([str(tmp_path / "out")], index, extract, PathRules([str(tmp_path)]))
    assert not any(p.startswith(str(tmp_path / "out")) for p in index.paths())


def test_new_files_stop_at_the_file_limit(tmp_path: Path) -> None:
    write(tmp_path, "a.py", py("first"))
    index, rules = indexed(tmp_path)
    b = write(tmp_path, "b.py", py("second"))
    a = write(tmp_path, "a.py", py("first_changed"))
    stats = refresh_paths([str(a), str(b)], index, extract, rules, max_files=1)
    assert stats.truncated and stats.skipped["file_limit"] == 1
    assert index.definitions("first_changed") and not index.definitions("second")


def test_a_cancelled_update_leaves_files_as_they_were(tmp_path: Path) -> None:
    a = write(tmp_path, "a.py", py("before"))
    index, rules = indexed(tmp_path)
    a.write_text(py("after"))
    cancel = threading.Event()
    cancel.set()
    stats = refresh_paths([str(a)], index, extract, rules, cancel=cancel)
    assert stats.cancelled and index.definitions("before")


def test_a_file_replaced_by_a_fifo_is_dropped_without_reading_it(tmp_path: Path) -> None:
    path = write(tmp_path, "pipe.py", py("was_a_file"))
    index, rules = indexed(tmp_path)
    path.unlink()
    os.mkfifo(path)  # opening it to read would block until a writer came
    stats = refresh_paths([str(path)], index, extract, rules)
    assert len(index) == 0 and stats.skipped["not_regular"] == 1
