"""`copilot-ls index DIR --json` builds the snapshot, and a second run is a warm start."""

import io
import json
import os
import subprocess
import sys


def run_index(folder, cache):
    out = subprocess.run(
        [sys.executable, "-m", "copilot_ls", "index", str(folder), "--json"],
        capture_output=True,
        text=True,
        env={"COPILOT_LS_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    return json.loads(out.stdout)


def test_second_run_is_a_warm_start_that_reparses_only_changed_files(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "a.py").write_text("def area(r):\n    return 3.14 * r * r\n")
    (work / "b.go").write_text("package main\n\nfunc Add(a, b int) int { return a + b }\n")
    first = run_index(work, tmp_path / "cache")
    assert first["files"] == 2 and first["symbols"] >= 2 and not first["warm_start"]
    assert first["languages"] == {"python": 1, "go": 1}
    (work / "a.py").write_text(
        "def area(r):\n    return 3.14159 * r * r\n\n\nclass Shape:\n    pass\n"
    )
    second = run_index(work, tmp_path / "cache")
    assert second["warm_start"] and second["parsed"] == 1 and second["reused"] == 1
    assert second["symbols"] == first["symbols"] + 1


def test_a_missing_folder_is_a_clear_error(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "copilot_ls", "index", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "not a folder" in out.stderr


def test_a_closed_output_pipe_ends_the_command_without_a_traceback(monkeypatch, capsys):
    """`copilot-ls schema | head -1`: when the reader is gone, the command stops quietly
    (exit status 1, as Python's documentation advises) instead of printing a traceback."""
    from copilot_ls import cli

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone
    closed = io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8")
    with capsys.disabled():
        monkeypatch.setattr(sys, "stdout", closed)
        assert cli.main(["schema"]) == 1
        monkeypatch.undo()
    closed.write("x" * 100_000)
    closed.close()  # it now writes to /dev/null: nothing left to fail at exit
