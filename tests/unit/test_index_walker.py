"""The workspace walker yields the files worth indexing and says why it leaves others out."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot_ls.index import walker
from copilot_ls.index.walker import (
    MAX_AVERAGE_LINE_BYTES,
    MAX_FILE_BYTES,
    MAX_LINE_BYTES,
    MINIFIED_SNIFF_BYTES,
    Candidate,
    Skipped,
    SkipReason,
    content_skip_reason,
    walk_workspace,
)


def write(root: Path, rel: str, content: str | bytes = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


def walk(root: Path, **options: Any) -> tuple[list[str], dict[str, SkipReason]]:
    """Candidates (relative paths, in walk order) and skips (relative path -> reason)."""
    return collect(walk_workspace([str(root)], **options), root)


def collect(
    items: Iterator[Candidate | Skipped], root: Path
) -> tuple[list[str], dict[str, SkipReason]]:
    found: list[str] = []
    skipped: dict[str, SkipReason] = {}
    for item in items:
        rel = os.path.relpath(item.path, root)
        if isinstance(item, Candidate):
            found.append(rel)
        else:
            skipped[rel] = item.reason
    return found, skipped


def test_candidates_carry_size_and_mtime_in_name_order(tmp_path: Path) -> None:
    write(tmp_path, "b.py", "b = 2\n")
    write(tmp_path, "a.py", "a = 10\n")
    write(tmp_path, "sub/c.py")
    items = list(walk_workspace([str(tmp_path)]))
    assert [os.path.relpath(i.path, tmp_path) for i in items] == ["a.py", "b.py", "sub/c.py"]
    first = items[0]
    assert isinstance(first, Candidate)
    st = os.stat(first.path)
    assert (first.size, first.mtime_ns) == (7, st.st_mtime_ns)


def test_nested_gitignore_files_apply_with_negation_and_deeper_files_win(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.log\nsecret/\nlocal.py\n")
    write(tmp_path, "sub/.gitignore", "!keep.log\n")
    write(tmp_path, "sub/deeper/.gitignore", "local.py\n!local.py\nnotes.txt\n")
    for rel in ["a.log", "local.py", "secret/x.py", "sub/keep.log", "sub/other.log"]:
        write(tmp_path, rel)
    for rel in ["sub/local.py", "sub/deeper/local.py", "sub/deeper/notes.txt", "sub/ok.py"]:
        write(tmp_path, rel)
    found, skipped = walk(tmp_path)
    assert set(found) == {
        ".gitignore",
        "sub/.gitignore",
        "sub/deeper/.gitignore",
        "sub/keep.log",
        "sub/deeper/local.py",
        "sub/ok.py",
    }
    assert skipped == {
        "a.log": SkipReason.IGNORED,
        "local.py": SkipReason.IGNORED,
        "secret": SkipReason.IGNORED,
        "sub/other.log": SkipReason.IGNORED,
        "sub/local.py": SkipReason.IGNORED,
        "sub/deeper/notes.txt": SkipReason.IGNORED,
    }


def test_anchored_patterns_are_relative_to_their_ignore_file(tmp_path: Path) -> None:
    write(tmp_path, "pkg/.gitignore", "/gen.py\n")
    write(tmp_path, "pkg/gen.py")
    write(tmp_path, "pkg/inner/gen.py")
    write(tmp_path, "gen.py")
    found, skipped = walk(tmp_path)
    assert "pkg/inner/gen.py" in found and "gen.py" in found
    assert skipped == {"pkg/gen.py": SkipReason.IGNORED}


def test_ignore_files_above_a_folder_inside_a_git_work_tree_apply(tmp_path: Path) -> None:
    write(tmp_path, ".git/info/exclude", "scratch.py\n")
    write(tmp_path, ".gitignore", "*.log\n/packages/app/local.py\n")
    write(tmp_path, "packages/.gitignore", "!keep.log\n")
    for rel in ["a.py", "a.log", "keep.log", "local.py", "scratch.py", "sub/local.py"]:
        write(tmp_path, f"packages/app/{rel}")
    app = tmp_path / "packages" / "app"
    found, skipped = walk(app)
    assert found == ["a.py", "keep.log", "sub/local.py"]
    assert skipped == {
        "a.log": SkipReason.IGNORED,
        "local.py": SkipReason.IGNORED,
        "scratch.py": SkipReason.IGNORED,
    }


def test_a_folder_its_enclosing_work_tree_ignores_is_walked_on_its_own_terms(
    tmp_path: Path,
) -> None:
    write(tmp_path, ".git/HEAD", "ref: refs/heads/main\n")
    write(tmp_path, ".gitignore", "*\n")  # a home directory kept in git
    write(tmp_path, "projects/app/.gitignore", "*.log\n")
    write(tmp_path, "projects/app/a.py")
    write(tmp_path, "projects/app/a.log")
    found, skipped = walk(tmp_path / "projects" / "app")
    assert found == [".gitignore", "a.py"]
    assert skipped == {"a.log": SkipReason.IGNORED}


def test_git_info_exclude_is_honoured_and_git_itself_skipped(tmp_path: Path) -> None:
    write(tmp_path, ".git/info/exclude", "scratch.py\n")
    write(tmp_path, ".git/config", "[core]\n")
    write(tmp_path, "scratch.py")
    write(tmp_path, "main.py")
    found, skipped = walk(tmp_path)
    assert found == ["main.py"]
    assert skipped == {".git": SkipReason.DEFAULT_DIR, "scratch.py": SkipReason.IGNORED}


def test_copilotlsignore_excludes_and_can_reinclude_gitignored_files(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.gen.py\n")
    write(tmp_path, ".copilotlsignore", "fixtures/\n!wanted.gen.py\n")
    write(tmp_path, "fixtures/big.py")
    write(tmp_path, "wanted.gen.py")
    write(tmp_path, "other.gen.py")
    found, skipped = walk(tmp_path)
    assert "wanted.gen.py" in found
    assert skipped == {"fixtures": SkipReason.IGNORED, "other.gen.py": SkipReason.IGNORED}


def test_default_directories_and_virtualenvs_are_never_entered(tmp_path: Path) -> None:
    for d in ["node_modules", ".venv", "venv", "__pycache__", "dist", "build", "target"]:
        write(tmp_path, f"{d}/x.py")
    write(tmp_path, "myenv/pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path, "myenv/lib/site.py")
    write(tmp_path, "src/app.py")
    found, skipped = walk(tmp_path)
    assert found == ["src/app.py"]
    assert set(skipped.values()) == {SkipReason.DEFAULT_DIR}
    assert len(skipped) == 8


def test_binary_huge_minified_and_generated_files_are_skipped_with_reasons(
    tmp_path: Path,
) -> None:
    write(tmp_path, "blob.dat", b"abc\0def")
    write(tmp_path, "image.png", b"not even opened")
    write(tmp_path, "huge.py", b"#" * (MAX_FILE_BYTES + 1))
    write(tmp_path, "one_line.js", "var a=1;" * (MAX_LINE_BYTES // 8 + 1))
    write(tmp_path, "wide.js", ("x" * (MAX_AVERAGE_LINE_BYTES + 50) + "\n") * 40)
    write(tmp_path, "gen.go", "// Code generated by stringer. DO NOT EDIT.\npackage x\n")
    write(tmp_path, "gen.py", "# @generated by tool\nx = 1\n")
    write(tmp_path, "package-lock.json", "{}\n")
    write(tmp_path, "app.min.js", "a\n")
    write(tmp_path, "app.js.map", "{}\n")
    write(tmp_path, "fine.py")
    found, skipped = walk(tmp_path)
    assert found == ["fine.py"]
    assert skipped == {
        "blob.dat": SkipReason.BINARY,
        "image.png": SkipReason.BINARY,
        "huge.py": SkipReason.TOO_LARGE,
        "one_line.js": SkipReason.MINIFIED,
        "wide.js": SkipReason.MINIFIED,
        "gen.go": SkipReason.GENERATED,
        "gen.py": SkipReason.GENERATED,
        "package-lock.json": SkipReason.GENERATED,
        "app.min.js": SkipReason.GENERATED,
        "app.js.map": SkipReason.GENERATED,
    }


def test_content_checks_can_be_left_to_the_caller(tmp_path: Path) -> None:
    write(tmp_path, "blob.dat", b"abc\0def")
    found, skipped = walk(tmp_path, check_content=False)
    assert found == ["blob.dat"] and not skipped
    assert content_skip_reason(b"abc\0def") is SkipReason.BINARY
    assert content_skip_reason(b"def f():\n    return 1\n") is None
    assert content_skip_reason(b"") is None


@pytest.mark.parametrize("length", [MAX_LINE_BYTES - 1, MAX_LINE_BYTES, MAX_LINE_BYTES + 1])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_one_line_longer_than_the_limit_is_found_wherever_it_lies(length: int, where: str) -> None:
    """A long line among short ones (enough of them to keep the average line short): first,
    in the middle, or last with no newline after it; minified exactly when it is longer than
    MAX_LINE_BYTES."""
    short = b"x = 1\n" * 60
    long_line = b"z" * length
    data = {
        "first": long_line + b"\n" + short,
        "middle": short + long_line + b"\n" + short,
        "last": short + long_line,
    }[where]
    expected = SkipReason.MINIFIED if length > MAX_LINE_BYTES else None
    assert content_skip_reason(data) is expected


def test_only_the_head_is_sniffed_for_long_lines() -> None:
    head = b"x = 1\n" * (MINIFIED_SNIFF_BYTES // 6 + 1)
    assert content_skip_reason(head + b"z" * (MAX_LINE_BYTES + 1)) is None


def test_symlink_loops_end_and_each_directory_is_walked_once(tmp_path: Path) -> None:
    write(tmp_path, "a/x.py")
    os.symlink("..", tmp_path / "a" / "up")
    os.symlink(tmp_path / "a", tmp_path / "a_again")
    os.symlink("self", tmp_path / "self")  # a link to itself: stat fails with ELOOP
    found, skipped = walk(tmp_path)
    assert found == ["a/x.py"]
    assert skipped == {
        "a/up": SkipReason.ALREADY_VISITED,
        "a_again": SkipReason.ALREADY_VISITED,
        "self": SkipReason.UNREADABLE,
    }


def test_a_directory_that_cannot_be_listed_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, which chmod 000 does not stop; simulate the refusal instead.
    write(tmp_path, "locked/secret.py")
    write(tmp_path, "open.py")
    real_scandir = os.scandir
    locked = str(tmp_path / "locked")

    def scandir(path: str) -> object:
        if path == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(walker.os, "scandir", scandir)
    found, skipped = walk(tmp_path)
    assert found == ["open.py"]
    assert skipped == {"locked": SkipReason.UNREADABLE}


def test_files_and_directories_vanishing_mid_walk_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "a.py")
    write(tmp_path, "b.py")
    write(tmp_path, "sub/c.py")
    items = walk_workspace([str(tmp_path)])
    first = next(items)
    assert os.path.basename(first.path) == "a.py"
    os.remove(tmp_path / "b.py")
    os.remove(tmp_path / "sub" / "c.py")
    os.rmdir(tmp_path / "sub")
    found, skipped = collect(items, tmp_path)
    assert found == []
    assert skipped == {"b.py": SkipReason.UNREADABLE, "sub": SkipReason.UNREADABLE}


def test_undecodable_file_names_are_skipped_and_the_walk_goes_on(tmp_path: Path) -> None:
    bad = os.path.join(os.fsencode(tmp_path), b"bad\xff.py")
    with open(bad, "wb") as f:
        f.write(b"x = 1\n")
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"dir\xfe"))
    write(tmp_path, "good.py")
    found, skipped = walk(tmp_path)
    assert found == ["good.py"]
    assert sorted(skipped.values()) == [SkipReason.UNDECODABLE_NAME] * 2


def test_the_walk_stops_at_the_file_limit_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(5):
        write(tmp_path, f"f{i}.py")
    with caplog.at_level(logging.WARNING, logger=walker.__name__):
        found, skipped = walk(tmp_path, max_files=3)
    assert found == ["f0.py", "f1.py", "f2.py"]
    assert skipped == {"f3.py": SkipReason.FILE_LIMIT}
    assert "stopped indexing at 3 files" in caplog.text


def test_several_roots_are_walked_and_a_missing_one_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "one/a.py")
    write(tmp_path, "two/b.py")
    roots = [str(tmp_path / "two"), str(tmp_path / "one"), str(tmp_path / "gone")]
    found, skipped = collect(walk_workspace(roots), tmp_path)
    assert found == ["one/a.py", "two/b.py"]
    assert skipped == {"gone": SkipReason.UNREADABLE}
