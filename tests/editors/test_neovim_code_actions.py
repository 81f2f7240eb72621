"""Headless Neovim 0.11+ with the shipped config lists copilot-ls code actions, applies "Add
docstring" through `vim.lsp.buf.code_action` (resolved by the server with the real model), and
the buffer changes to a file that parses.

tests/editors/neovim_code_action.lua does the editor side and writes what happened to a JSON
file read here.
"""

from __future__ import annotations

import ast
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
DRIVER = Path(__file__).with_name("neovim_code_action.lua")
INIT_OPTIONS = {"actions": {"maxTokens": 96}}
DRIVER_TIMEOUT_S = 120

SOURCE = """def fibonacci(n):
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)
"""
LINE = 1  # 0-based: the cursor sits inside `fibonacci`


def _tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_neovim(workspace: Path, action: str) -> tuple[dict[str, Any], str]:
    """Run the driver choosing `action`; returns its JSON and a diagnostic text for failures."""
    (workspace / "pyproject.toml").write_text("[project]\nname = 'demo'\n")  # a root marker
    path = workspace / "fib.py"
    path.write_text(SOURCE)
    out = workspace / "nvim-result.json"
    server_log = workspace / "copilot-ls.log"
    state = workspace / "xdg-state"
    cmd = [
        sys.executable,
        "-m",
        "copilot_ls",
        "--log-level",
        "DEBUG",
        "--log-file",
        str(server_log),
    ]
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath,  # the server runs from the workspace folder, not the repo
        "XDG_CONFIG_HOME": str(workspace / "xdg-config"),
        "XDG_DATA_HOME": str(workspace / "xdg-data"),
        "XDG_STATE_HOME": str(state),
        "COPILOT_LS_CONFIG": str(CONFIG),
        "COPILOT_LS_CMD": json.dumps(cmd),
        "COPILOT_LS_INIT": json.dumps(INIT_OPTIONS),
        "COPILOT_LS_FILE": str(path),
        "COPILOT_LS_LINE": str(LINE),
        "COPILOT_LS_ACTION": action,
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
            f"shown by the server: {result.get('shown')}",
            f":messages:\n{result.get('messages', '(no result file)')}",
            f"driver steps: {result.get('steps')}",
            f"driver error: {result.get('error')}",
            f"Neovim LSP log (tail):\n{_tail(state / 'nvim' / 'lsp.log')}",
            f"copilot-ls log (tail):\n{_tail(server_log)}",
        ]
    )
    return result, diagnostics


def test_neovim_applies_add_docstring_and_the_buffer_still_parses(tmp_path):
    result, diagnostics = run_neovim(tmp_path, "docstring")
    assert result.get("attached"), f"copilot_ls never attached\n{diagnostics}"
    assert result.get("code_action_provider"), diagnostics
    listed = {item["action"]: item["kind"] for item in result.get("listed") or []}
    assert listed.get("docstring") == "refactor.rewrite", f"listed: {listed}\n{diagnostics}"
    assert listed.get("explain") == "source", diagnostics
    assert result.get("error") is None, diagnostics

    buffer = "\n".join(result["buffer"]) + "\n"
    assert buffer != SOURCE, diagnostics
    function = ast.parse(buffer).body[0]  # the changed buffer parses ...
    assert isinstance(function, ast.FunctionDef) and function.name == "fibonacci"
    assert ast.get_docstring(function), (
        f"no docstring in:\n{buffer}\n{diagnostics}"
    )  # ... documented
    assert buffer.endswith(SOURCE[SOURCE.index("    if n < 2") :])  # the body is untouched
