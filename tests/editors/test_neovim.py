"""Headless Neovim 0.11+ with the shipped config (editor-configs/neovim/copilot-ls.lua) gets a
completion from the real server and inserts all of it when the user accepts the item.

tests/editors/neovim_driver.lua does the editor side (attach, a raw textDocument/completion,
then insert mode, <C-Space>, <C-n><C-y>) and writes what happened to a JSON file read here.
"""

from __future__ import annotations

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

DRIVER = Path(__file__).with_name("neovim_driver.lua")
INIT_OPTIONS = {"completion": {"maxTokens": 24}}

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


def run_neovim(workspace: Path, source: str) -> tuple[dict[str, Any], str]:
    """Run the completion driver on `source`; its JSON and a diagnostic text for failures."""
    return run_driver(DRIVER, workspace, source, line=LINE, init_options=INIT_OPTIONS)


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
