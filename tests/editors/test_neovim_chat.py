"""Headless Neovim 0.11+ with the shipped config: `:CopilotChat What does this function do?`
on a buffer streams a non-empty answer from the real model into the chat split.

tests/editors/neovim_chat.lua does the editor side and writes what happened to a JSON file
read here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.editors.nvim_session import run_driver

pytestmark = [
    pytest.mark.editor,
    pytest.mark.model,
    pytest.mark.skipif(shutil.which("nvim") is None, reason="nvim is not on PATH"),
]

DRIVER = Path(__file__).with_name("neovim_chat.lua")
INIT_OPTIONS = {"chat": {"maxTokens": 48}}
QUESTION = "What does this function do?"

SOURCE = """def fibonacci(n):
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)
"""


def test_copilot_chat_shows_the_streamed_answer_in_the_chat_buffer(tmp_path):
    result, diagnostics = run_driver(
        DRIVER,
        tmp_path,
        SOURCE,
        line=1,
        init_options=INIT_OPTIONS,
        extra_env={"COPILOT_LS_QUESTION": QUESTION},
    )
    assert result.get("attached"), f"copilot_ls never attached\n{diagnostics}"
    assert result.get("error") is None, diagnostics
    assert result.get("chat_buffer") and result.get("windows", 0) >= 2, diagnostics
    chat = result["chat"]
    assert chat[0] == f"> {QUESTION}", diagnostics
    answer = "\n".join(chat[1:]).strip()
    assert answer and not answer.startswith("[copilot-ls:"), f"{chat}\n{diagnostics}"
    assert result["updates"] >= 3, diagnostics  # the answer arrived in several chunks
    assert result["source_unchanged"] == SOURCE.rstrip("\n")  # nothing was applied
