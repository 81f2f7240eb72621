"""Headless Neovim 0.11+ with the shipped config (editor-configs/neovim/copilot-ls.lua) gets a
completion from the real server and inserts all of it when the user accepts the item.

tests/editors/neovim_driver.lua does the editor side (attach, a raw textDocument/completion,
then insert mode, <C-Space>, <C-n><C-y>) and writes what happened to a JSON file read here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.editor,
    pytest.mark.model,
    pytest.mark.skipif(shutil.which("nvim") is None, reason="nvim is not on PATH"),
]

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "editor-configs" / "neovim" / "copilot-ls.lua"
DRIVER = Path(__file__).with_name("neovim_driver.lua")
INIT_OPTIONS = {"completion": {"maxTokens": 24}}
DRIVER_TIMEOUT_S = 120  # the model loads in ~1 s and a completion takes 1-5 s on a slow CPU

HEAD = '''def fibonacci(n):
    """Return the n-th Fibonacci number."""
    if n < 2:
        return n
'''
CASES = {
    # After `return `: a one-line completion the model knows.
    "return": HEAD + "    return \n",
    # At an empty indented line: a multi-line block, whose later lines Neovim 0.11 would drop.
    "block": HEAD + "    \n",
}
LINE = 4  # 0-based line of the cursor; it sits at the end of that line


def _tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_neovim(workspace: Path, source: str) -> tuple[dict[str, Any], str]:
    """Run the driver on `source`; returns its JSON and a diagnostic text for failures."""
    (workspace / "pyproject.toml").write_text("[project]\nname = 'demo'\n")  # a root marker
    path = workspace / "fib.py"
    path.write_text(source)
    out = workspace / "nvim-result.json"
    server_log = workspace / "copilot-ls.log"
    state = workspace / "xdg-state"  # Neovim's lsp.log goes here
    cmd = [sys.executable, "-m", "copilot_ls", "--log-level", "DEBUG"]
    cmd += ["--log-file", str(server_log)]
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(workspace / "xdg-config"),
        "XDG_DATA_HOME": str(workspace / "xdg-data"),
        "XDG_STATE_HOME": str(state),
        "COPILOT_LS_CONFIG": str(CONFIG),
        "COPILOT_LS_CMD": json.dumps(cmd),
        "COPILOT_LS_INIT": json.dumps(INIT_OPTIONS),
        "COPILOT_LS_FILE": str(path),
        "COPILOT_LS_LINE": str(LINE),
        "COPILOT_LS_OUT": str(out),
        "COPILOT_LS_TIMEOUT": str(DRIVER_TIMEOUT_S),
    }
    argv = ["nvim", "--headless", "--clean", "-c", f"luafile {DRIVER}"]
    try:
        proc = subprocess.run(
            argv,
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=DRIVER_TIMEOUT_S + 60,
        )
        stderr, rc = proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        stderr, rc = f"nvim killed after {exc.timeout} s; stderr: {exc.stderr!r}", None
    result = json.loads(out.read_text()) if out.exists() else {}
    diagnostics = "\n".join(
        [
            f"nvim exit code: {rc}",
            f"nvim stderr:\n{stderr}",
            f":messages:\n{result.get('messages', '(no result file)')}",
            f"driver steps: {result.get('steps')}",
            f"driver error: {result.get('error')}",
            f"Neovim LSP log (tail):\n{_tail(state / 'nvim' / 'lsp.log')}",
            f"copilot-ls log (tail):\n{_tail(server_log)}",
        ]
    )
    return result, diagnostics


@pytest.mark.parametrize("case", list(CASES))
def test_neovim_inserts_the_whole_completion(tmp_path, case):
    source = CASES[case]
    result, diagnostics = run_neovim(tmp_path, source)
    assert result, f"the driver wrote no result\n{diagnostics}"
    assert result.get("attached"), f"copilot_ls never attached\n{diagnostics}"
    assert result["filetype"] == "python"
    assert result["client"]["root_dir"] == str(tmp_path), diagnostics
    assert result["client"]["init_options"] == INIT_OPTIONS

    # The raw response, as Neovim's client received it.
    assert not result.get("raw_error"), diagnostics
    items = (result.get("raw") or {}).get("items") or []
    assert len(items) >= 1, f"no completion items\n{diagnostics}"
    edit = items[0]["textEdit"]
    text = edit["newText"]
    assert text.strip(), f"empty completion\n{diagnostics}"

    # The item was accepted from the popup menu, and all of its text is in the buffer.
    assert result.get("error") is None, diagnostics
    assert result["complete_done_reason"] == "accept", diagnostics
    lines = source.splitlines()
    before = lines[LINE]
    start = edit["range"]["start"]["character"]  # ASCII source: UTF-16 units are bytes
    expected = [*lines[:LINE], *(before[:start] + text).split("\n"), *lines[LINE + 1 :]]
    assert result["buffer"] == expected, (
        f"buffer after accepting {text!r}:\n" + "\n".join(result["buffer"]) + f"\n{diagnostics}"
    )
    assert "copilot-ls settings" not in result["messages"], diagnostics  # init_options parsed
    last = result.get("last_completion") or {}
    assert last.get("text"), f"copilot-ls.lastCompletion: {last}\n{diagnostics}"
    if case == "return":
        assert result["line_after"].startswith("    return fibonacci(")
    else:
        assert "\n" in text, f"expected a multi-line block, got {text!r}"
