"""Run a Lua driver in headless Neovim with the shipped config against the real server.

The driver reads its inputs from `COPILOT_LS_*` environment variables, does the editor side,
and writes what happened to a JSON file; `run_driver` returns that JSON and, for failure
messages, the logs of Neovim and of the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "editor-configs" / "neovim" / "copilot-ls.lua"
DRIVER_TIMEOUT_S = 120  # the model loads in ~1 s and a request takes 1-5 s on a slow CPU


def log_tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_headless(
    argv: list[str], workspace: Path, env: dict[str, str], out: Path, timeout: float
) -> tuple[dict[str, Any], str, int | None]:
    """Run a headless editor driver in `workspace`: the JSON it wrote to `out` ({} if none),
    the editor's stderr and its exit code (None when it had to be killed)."""
    try:
        proc = subprocess.run(
            argv, cwd=workspace, env=env, capture_output=True, text=True, timeout=timeout
        )
        stderr, rc = proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        stderr, rc = f"{argv[0]} killed after {exc.timeout} s; stderr: {exc.stderr!r}", None
    result = json.loads(out.read_text()) if out.exists() else {}
    return result, stderr, rc


def run_driver(
    driver: Path,
    workspace: Path,
    source: str,
    *,
    line: int,
    init_options: dict[str, Any],
    extra_env: dict[str, str] | None = None,
) -> tuple[dict[str, Any], str]:
    """Open `source` as fib.py in `workspace` with the cursor on `line` and run `driver`."""
    (workspace / "pyproject.toml").write_text("[project]\nname = 'demo'\n")  # a root marker
    path = workspace / "fib.py"
    path.write_text(source)
    out = workspace / "nvim-result.json"
    server_log = workspace / "copilot-ls.log"
    state = workspace / "xdg-state"  # Neovim's lsp.log goes here
    cmd = [sys.executable, "-m", "copilot_ls", "--log-level", "DEBUG"]
    cmd += ["--log-file", str(server_log)]
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath,  # the server runs from the workspace folder, not the repo
        "XDG_CONFIG_HOME": str(workspace / "xdg-config"),
        "XDG_DATA_HOME": str(workspace / "xdg-data"),
        "XDG_STATE_HOME": str(state),
        "COPILOT_LS_CONFIG": str(CONFIG),
        "COPILOT_LS_CMD": json.dumps(cmd),
        "COPILOT_LS_INIT": json.dumps(init_options),
        "COPILOT_LS_FILE": str(path),
        "COPILOT_LS_LINE": str(line),
        "COPILOT_LS_OUT": str(out),
        "COPILOT_LS_TIMEOUT": str(DRIVER_TIMEOUT_S),
        **(extra_env or {}),
    }
    argv = ["nvim", "--headless", "--clean", "-c", f"luafile {driver}"]
    result, stderr, rc = run_headless(argv, workspace, env, out, DRIVER_TIMEOUT_S + 60)
    diagnostics = "\n".join(
        [
            f"nvim exit code: {rc}",
            f"nvim stderr:\n{stderr}",
            f"shown by the server: {result.get('shown')}",
            f":messages:\n{result.get('messages', '(no result file)')}",
            f"driver steps: {result.get('steps')}",
            f"driver error: {result.get('error')}",
            f"Neovim LSP log (tail):\n{log_tail(state / 'nvim' / 'lsp.log')}",
            f"copilot-ls log (tail):\n{log_tail(server_log)}",
        ]
    )
    return result, diagnostics
