"""Headless Emacs (`emacs --batch`, eglot) with the shipped config (editor-configs/emacs/
copilot-ls.el) gets a completion from the real server through `completion-at-point` and
inserts all of it, and `copilot-ls-chat` streams an answer into the `*copilot-ls chat*` buffer.

tests/editors/emacs_driver.el does the editor side and writes what happened to a JSON file
read here, the way tests/editors/nvim_session.py runs the Neovim drivers.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.editors.nvim_session import log_tail, run_headless

pytestmark = [pytest.mark.editor, pytest.mark.model]

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "editor-configs" / "emacs" / "copilot-ls.el"
DRIVER = Path(__file__).with_name("emacs_driver.el")
DRIVER_TIMEOUT_S = 180  # 2 shared cores: the model loads in seconds, a request takes 1-30 s

HEAD = '''def fibonacci(n):
    """Return the n-th Fibonacci number."""
    if n < 2:
        return n
'''
COMPLETION_CASES = {
    # After `return `: a one-line completion the model knows.
    "return": HEAD + "    return \n",
    # Half a word typed: eglot replaces the word with the item's textEdit.
    "word": HEAD + "    return fib\n",
    # At an empty indented line of the body: a multi-line block.
    "block": HEAD + "    \n",
}
COMPLETION_LINE = 4  # 0-based line of the cursor; it sits at the end of that line
COMPLETION_OPTIONS = {"completion": {"maxTokens": 24}}

CHAT_SOURCE = """def fibonacci(n):
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)
"""
QUESTION = "What does this function do?"
CHAT_OPTIONS = {"chat": {"maxTokens": 48}}
DOC_OPTIONS = {"actions": {"maxTokens": 96}}


@functools.cache
def _emacs_problem() -> str | None:
    """Why Emacs with eglot cannot run here, or None when it can."""
    if shutil.which("emacs") is None:
        return "emacs is not on PATH (apt-get install emacs-nox elpa-eglot)"
    proc = subprocess.run(
        ["emacs", "--batch", "--eval", "(require 'eglot)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"eglot cannot be loaded by emacs --batch (Emacs 29+, or elpa-eglot): {last}"
    return None


@pytest.fixture
def emacs() -> None:
    problem = _emacs_problem()
    if problem:
        pytest.skip(problem)


def run_emacs(
    workspace: Path,
    source: str,
    *,
    task: str,
    line: int,
    init_options: dict[str, Any],
    question: str = "",
    accept: bool = False,
) -> tuple[dict[str, Any], str]:
    """Open `source` as fib.py in `workspace` and run the driver's `task` at the end of `line`.

    Returns the driver's JSON and, for failure messages, the logs of Emacs and of the server.
    """
    workspace.mkdir(exist_ok=True)
    (workspace / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    path = workspace / "fib.py"
    path.write_text(source)
    # Outside the workspace: the server watches it, and a DEBUG log there would feed the
    # watcher's own log lines back to it.
    out = workspace.parent / "emacs-result.json"
    server_log = workspace.parent / "copilot-ls.log"
    cmd = [sys.executable, "-m", "copilot_ls", "--log-level", "DEBUG"]
    cmd += ["--log-file", str(server_log)]
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath,  # the server runs from the workspace folder, not the repo
        "COPILOT_LS_CONFIG": str(CONFIG),
        "COPILOT_LS_CMD": json.dumps(cmd),
        "COPILOT_LS_INIT": json.dumps(init_options),
        "COPILOT_LS_FILE": str(path),
        "COPILOT_LS_LINE": str(line),
        "COPILOT_LS_OUT": str(out),
        "COPILOT_LS_TIMEOUT": str(DRIVER_TIMEOUT_S),
        "COPILOT_LS_TASK": task,
        "COPILOT_LS_QUESTION": question,
        "COPILOT_LS_ACCEPT": "yes" if accept else "no",
    }
    argv = ["emacs", "--batch", "-l", str(DRIVER)]
    result, stderr, rc = run_headless(argv, workspace, env, out, DRIVER_TIMEOUT_S + 60)
    diagnostics = "\n".join(
        [
            f"emacs exit code: {rc}",
            f"emacs stderr (tail):\n{stderr[-4000:]}",
            f"driver steps: {result.get('steps')}",
            f"driver error: {result.get('error')}",
            f"copilot-ls log (tail):\n{log_tail(server_log)}",
        ]
    )
    return result, diagnostics


def _check_attached(result: dict[str, Any], workspace: Path, diagnostics: str) -> None:
    assert result, f"the driver wrote no result\n{diagnostics}"
    assert result.get("attached"), f"eglot never managed the buffer\n{diagnostics}"
    assert result["major_mode"] == "python-mode", diagnostics
    assert result["command"][1:3] == ["-m", "copilot_ls"], diagnostics  # the config's contact
    assert Path(result["root"]) == workspace, diagnostics


@pytest.mark.parametrize("case", list(COMPLETION_CASES))
def test_completion_at_point_inserts_the_whole_completion(emacs, tmp_path, case):
    source = COMPLETION_CASES[case]
    workspace = tmp_path / "demo"
    result, diagnostics = run_emacs(
        workspace, source, task="complete", line=COMPLETION_LINE, init_options=COMPLETION_OPTIONS
    )
    _check_attached(result, workspace, diagnostics)
    assert result["capf"], f"eglot-completion-at-point is not in the buffer\n{diagnostics}"
    assert result.get("error") is None, diagnostics

    # The response eglot's completion-at-point function received.
    responses = result.get("responses") or []
    assert len(responses) == 1, f"expected one textDocument/completion\n{diagnostics}"
    items = responses[0].get("items") or []
    assert len(items) == 1, f"expected one completion item: {responses}\n{diagnostics}"
    edit = items[0]["textEdit"]
    text = edit["newText"]
    assert text.strip(), f"empty completion\n{diagnostics}"

    # The sole candidate was inserted and the exit function applied the whole textEdit.
    lines = source.splitlines()
    before = lines[COMPLETION_LINE]
    start = edit["range"]["start"]["character"]  # ASCII source: UTF-16 units are columns
    new_lines = (before[:start] + text).split("\n")
    expected = [*lines[:COMPLETION_LINE], *new_lines, *lines[COMPLETION_LINE + 1 :], ""]
    assert result["buffer"] == expected, (
        f"buffer after completing {text!r}:\n" + "\n".join(result["buffer"]) + f"\n{diagnostics}"
    )
    end_line = COMPLETION_LINE + len(new_lines) - 1
    assert result["point_after"] == [end_line, len(new_lines[-1])], diagnostics  # after the text
    assert "copilot-ls settings" not in result["messages"], diagnostics  # init options parsed
    last = result.get("last_completion") or {}
    assert last.get("text"), f"copilot-ls.lastCompletion: {last}\n{diagnostics}"
    # copilot-ls-initialization-options still hold after eglot's didChangeConfiguration; one
    # token more than maxTokens when token healing re-typed the prompt's last token.
    generated = (last.get("timings") or {}).get("generated_tokens")
    limit = COMPLETION_OPTIONS["completion"]["maxTokens"] + (1 if last.get("healed") else 0)
    assert generated is not None and generated <= limit, f"{last}\n{diagnostics}"
    if case == "return":
        assert result["line_after"].startswith("    return fibonacci("), diagnostics
    if case == "block":
        assert "\n" in text, f"expected a multi-line block, got {text!r}"


def test_copilot_ls_chat_streams_the_answer_into_the_chat_buffer(emacs, tmp_path):
    workspace = tmp_path / "demo"
    result, diagnostics = run_emacs(
        workspace,
        CHAT_SOURCE,
        task="chat",
        line=1,
        init_options=CHAT_OPTIONS,
        question=QUESTION,
    )
    _check_attached(result, workspace, diagnostics)
    assert result.get("error") is None, diagnostics
    chat = result["chat"]
    assert chat.startswith(f"> {QUESTION}\n"), f"{chat!r}\n{diagnostics}"
    assert chat.endswith("\n\n"), f"the answer never completed: {chat!r}\n{diagnostics}"
    answer = chat[len(f"> {QUESTION}\n") :].strip()
    assert answer and not answer.startswith("[copilot-ls:"), f"{chat!r}\n{diagnostics}"
    assert result["updates"] >= 3, diagnostics  # several chunks arrived before the result
    assert result["chat_window"], f"the chat buffer is not shown\n{diagnostics}"
    assert result["source_unchanged"], diagnostics  # nothing was applied
    assert result["offered"] == [], diagnostics  # an explanation offers no edit
    # copilot-ls-initialization-options still hold after eglot's didChangeConfiguration.
    last = result.get("last_chat") or {}
    assert last.get("answer", "").strip() == answer, f"{last}\n{diagnostics}"
    assert 0 < last["generatedTokens"] <= CHAT_OPTIONS["chat"]["maxTokens"], diagnostics


def test_copilot_ls_chat_doc_applies_the_accepted_docstring_after_one_question(emacs, tmp_path):
    workspace = tmp_path / "demo"
    result, diagnostics = run_emacs(
        workspace,
        CHAT_SOURCE,
        task="chat",
        line=1,
        init_options=DOC_OPTIONS,
        question="/doc",
        accept=True,
    )
    _check_attached(result, workspace, diagnostics)
    assert result.get("error") is None, diagnostics
    assert "[copilot-ls:" not in result["chat"], f"{result['chat']!r}\n{diagnostics}"
    # Asked once by copilot-ls.el; eglot must not ask again before applying.
    assert len(result["offered"]) == 1, f"{result['offered']}\n{diagnostics}"
    assert not result["source_unchanged"], f"{result['chat']!r}\n{diagnostics}"
    module = ast.parse("\n".join(result["buffer"]))  # the edited buffer still parses
    function = module.body[0]
    assert isinstance(function, ast.FunctionDef) and function.name == "fibonacci", diagnostics
    assert ast.get_docstring(function), "\n".join(result["buffer"]) + f"\n{diagnostics}"
