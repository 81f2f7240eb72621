"""The real server, over stdio, completes code with the embedded SmolLM2 model."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.conftest import (
    FIB,
    complete,
    inline,
    insert,
    last_completion,
    lsp_session,
    open_document,
)

pytestmark = pytest.mark.model

QUICK = {"completion": {"maxTokens": 24, "maxTokensSingleLine": 16}}


async def test_inline_completion_starts_at_the_cursor_and_is_sensible(tmp_path):
    async with lsp_session(QUICK, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "fib.py", FIB)
        result = await inline(client, uri, 4, 11)
        assert result is not None and len(result.items) == 1
        item = result.items[0]
        assert item.range.start == item.range.end == types.Position(line=4, character=11)
        text = item.insert_text
        assert isinstance(text, str) and text.strip() == text.rstrip() and text.strip()
        assert "fibonacci(n - 1)" in text  # the model knows this one
        details = await last_completion(client)
        assert details["template"] == "none"  # SmolLM2 has no FIM tokens: prefix-only prompt
        assert details["prompt"].endswith("    return ")


async def test_completion_fallback_item_survives_client_filtering(tmp_path):
    """Neovim 0.11 filters items by the text before the cursor and expands snippets fully."""
    async with lsp_session(QUICK, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "fib.py", FIB + "fibo")
        result = await complete(client, uri, 4, 15)
        assert isinstance(result, types.CompletionList) and len(result.items) == 1
        item = result.items[0]
        assert item.label.startswith("fibo")
        assert item.filter_text.startswith("    return fibo")
        assert item.insert_text_format == types.InsertTextFormat.Snippet
        edit = item.text_edit
        assert isinstance(edit, types.TextEdit)
        assert edit.range.start == types.Position(line=4, character=0)
        assert edit.range.end == types.Position(line=4, character=15)
        assert edit.new_text.startswith("    return fibo") and len(edit.new_text) > 15


async def test_a_keystroke_reuses_the_evaluated_prompt(tmp_path):
    code = FIB.replace("    return ", "") + "\n\ndef factorial(n):\n    "
    async with lsp_session(QUICK, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "maths.py", code)
        await inline(client, uri, 7, 4)
        cold = await last_completion(client)
        insert(client, uri, 2, 7, 4, "i")
        await inline(client, uri, 7, 5)
        warm = await last_completion(client)
        assert cold["timings"]["reused_tokens"] == 0
        # All but the last few prompt tokens come from the KV cache.
        assert warm["timings"]["prompt_tokens"] - warm["timings"]["reused_tokens"] <= 4
        assert warm["timings"]["prefill_s"] < cold["timings"]["prefill_s"]


async def test_token_healing_makes_the_text_start_exactly_at_the_cursor(tmp_path):
    """The cursor after indentation or half a word: the answer continues it, no stray newline."""
    code = "import os\n\n\ndef list_files(root):\n    result = []\n    for name in os.list"
    async with lsp_session(QUICK, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "files.py", code)
        result = await inline(client, uri, 5, 23)
        text = result.items[0].insert_text
        assert text.startswith("dir(")  # completes `os.list` to `os.listdir(`
        details = await last_completion(client)
        assert details["healed"]  # a token was backed off and re-typed


def _long_file(tag: str, functions: int = 40) -> str:
    body = []
    for i in range(functions):
        body.append(
            f"def {tag}_step_{i}(value, scale={i}):\n"
            f'    """Scale value by {i} and add the {tag} offset."""\n'
            f"    return value * scale + {i * 7}\n"
        )
    return "\n\n".join(body) + "\n\ndef "


def _end(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines) - 1, len(lines[-1])


async def test_cancel_request_stops_generation_promptly(tmp_path):
    """A `$/cancelRequest` is answered within moments, while the full request takes seconds."""
    options = {"completion": {"maxPromptTokens": 900, "maxTokens": 64}}
    async with lsp_session(options, root=tmp_path) as client:
        first = open_document(client, tmp_path / "alpha.py", _long_file("alpha"))
        second = open_document(client, tmp_path / "beta.py", _long_file("beta"))
        line, character = _end(_long_file("alpha"))
        await complete(client, first, 0, 0)  # load the model outside the measurement
        started = time.perf_counter()
        await inline(client, first, line, character)
        full = time.perf_counter() - started

        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=second),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
        future = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="to-cancel"
            )
        )
        await asyncio.sleep(min(0.5, full / 10))
        sent = time.perf_counter()
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="to-cancel"))
        with pytest.raises(JsonRpcException):
            await future
        answered = time.perf_counter() - sent
        assert answered < full / 4, (answered, full)
        # ... and the server still serves.
        result = await inline(client, first, line, character)
        assert result is not None


async def test_a_newer_request_for_the_same_document_supersedes_the_running_one(tmp_path):
    options = {"completion": {"maxPromptTokens": 900, "maxTokens": 32}}
    async with lsp_session(options, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "gamma.py", _long_file("gamma"))
        line, character = _end(_long_file("gamma"))
        await complete(client, uri, 0, 0)
        older = asyncio.ensure_future(inline(client, uri, line, character))
        await asyncio.sleep(0.3)
        newer = await inline(client, uri, 100, 0)
        stale = await older
        assert len(stale.items) == 0  # the superseded request gave up
        assert newer is not None


async def test_bad_requests_get_clear_errors_and_the_server_keeps_serving(tmp_path):
    async with lsp_session(QUICK, root=tmp_path) as client:
        with pytest.raises(JsonRpcException, match="unknown document"):
            await inline(client, (tmp_path / "nowhere.py").as_uri(), 0, 0)
        uri = open_document(client, tmp_path / "fib.py", FIB)
        with pytest.raises(JsonRpcException, match="outside"):
            await inline(client, uri, 99, 0)
        with pytest.raises(JsonRpcException, match="past the end"):
            await inline(client, uri, 0, 500)
        result = await inline(client, uri, 4, 11)
        assert result.items and result.items[0].insert_text


async def test_a_missing_model_is_reported_once_and_fixing_the_setting_recovers(tmp_path):
    missing = tmp_path / "no-such-model.gguf"
    async with lsp_session({"model": {"path": str(missing)}}, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "fib.py", FIB)
        for _ in range(2):
            with pytest.raises(JsonRpcException, match="model file not found"):
                await inline(client, uri, 4, 11)
        shown = [m.message for m in client.messages if "model file not found" in m.message]
        assert len(shown) == 1 and "copilotLs.model.path" in shown[0]
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"copilotLs": QUICK})
        )
        result = await inline(client, uri, 4, 11)
        assert result.items and result.items[0].insert_text


async def test_a_corrupt_model_file_gives_a_clear_error(tmp_path):
    corrupt = tmp_path / "broken.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    async with lsp_session({"model": {"path": str(corrupt)}}, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "fib.py", FIB)
        with pytest.raises(JsonRpcException, match="could not load"):
            await inline(client, uri, 4, 11)
        not_gguf = tmp_path / "notes.txt"
        not_gguf.write_text("hello")
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"model": {"path": str(not_gguf)}})
        )
        with pytest.raises(JsonRpcException, match="not a GGUF"):
            await inline(client, uri, 4, 11)


async def test_bad_settings_are_reported_once_and_defaults_used(tmp_path):
    options = {"completion": {"maxTokens": "many", "colour": 1}}
    async with lsp_session(options, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "fib.py", FIB)
        result = await inline(client, uri, 4, 11)
        assert result.items
        warnings = [m for m in client.messages if "settings" in m.message]
        assert len(warnings) == 1
        assert "maxTokens" in warnings[0].message and "colour" in warnings[0].message
