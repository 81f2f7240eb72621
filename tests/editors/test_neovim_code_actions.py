"""Headless Neovim 0.11+ with the shipped config lists copilot-ls code actions, applies "Add
docstring" through `vim.lsp.buf.code_action` (resolved by the server with the real model), and
the buffer changes to a file that parses.

tests/editors/neovim_code_action.lua does the editor side and writes what happened to a JSON
file read here.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.editors.nvim_session import run_driver

pytestmark = [
    pytest.mark.editor,
    pytest.mark.model,
    pytest.mark.skipif(shutil.which("nvim") is None, reason="nvim is not on PATH"),
]

DRIVER = Path(__file__).with_name("neovim_code_action.lua")
INIT_OPTIONS = {"actions": {"maxTokens": 96}}

SOURCE = """def fibonacci(n):
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)
"""
LINE = 1  # 0-based: the cursor sits inside `fibonacci`


def run_neovim(workspace: Path, action: str) -> tuple[dict[str, Any], str]:
    """Run the code-action driver choosing `action`; its JSON and a diagnostic text."""
    return run_driver(
        DRIVER,
        workspace,
        SOURCE,
        line=LINE,
        init_options=INIT_OPTIONS,
        extra_env={"COPILOT_LS_ACTION": action},
    )


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
