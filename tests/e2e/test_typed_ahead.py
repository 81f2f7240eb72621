"""The real server answers a user typing its suggestion from the cache, without the model, and
prefetches the completion that follows an accepted suggestion (embedded SmolLM2)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import inline, insert, last_completion, lsp_session, open_document

pytestmark = pytest.mark.model

CODE = '''def fibonacci(n):
    """Return the n-th Fibonacci number."""
    '''
CURSOR = (2, 4)
OPTIONS = {"completion": {"maxTokens": 32}}


def position_after(text: str, offset: int) -> tuple[int, int]:
    """The LSP position (line, UTF-16 column) of `offset` in `text`."""
    before = text[:offset]
    line_start = before.rfind("\n") + 1
    return before.count("\n"), len(before[line_start:].encode("utf-16-le")) // 2


async def timed_inline(client: LanguageClient, uri: str, line: int, character: int):
    started = time.perf_counter()
    result = await inline(client, uri, line, character)
    return result, time.perf_counter() - started


def suggestion(result: Any) -> str:
    assert result is not None and len(result.items) == 1, result
    text = result.items[0].insert_text
    assert isinstance(text, str)
    return text


async def cold_suggestion(client: LanguageClient, tmp_path) -> tuple[str, str, float]:
    """Load the model on another document, then ask for the block at CURSOR, timed."""
    warm = open_document(client, tmp_path / "warm.py", "import os\n")
    await inline(client, warm, 1, 0)
    uri = open_document(client, tmp_path / "fib.py", CODE)
    result, cold_s = await timed_inline(client, uri, *CURSOR)
    text = suggestion(result)
    assert len(text) >= 2, f"need a suggestion of two characters or more, got {text!r}"
    return uri, text, cold_s


async def test_typing_the_start_of_a_suggestion_gets_the_rest_without_the_model(tmp_path):
    async with lsp_session(OPTIONS, root=tmp_path) as client:
        uri, text, cold_s = await cold_suggestion(client, tmp_path)
        model_calls = (await last_completion(client))["stats"]["model"]
        typed = text[: min(6, len(text) - 1)]
        insert(client, uri, 2, *CURSOR, typed)
        document = CODE + typed
        result, cached_s = await timed_inline(client, uri, *position_after(document, len(document)))
        assert suggestion(result) == text[len(typed) :]
        details = await last_completion(client)
        assert details["cached"] == "typed-ahead"
        assert details["stats"]["model"] == model_calls  # the model did not run for it
        assert details["timings"]["generated_tokens"] == 0
        assert cached_s / cold_s < 0.2, f"cached {cached_s:.3f}s vs cold {cold_s:.3f}s"


async def test_accepting_the_whole_suggestion_is_answered_by_the_prefetch(tmp_path):
    # No cross-file context: new lines above the cursor could change it, and a prefetch whose
    # prompt starts differently is skipped (it would cost a whole prompt).
    options = {"completion": {**OPTIONS["completion"], "contextTokens": 0}}
    async with lsp_session(options, root=tmp_path) as client:
        uri, text, _ = await cold_suggestion(client, tmp_path)
        for _ in range(300):  # the prefetch runs in the background, ~1 s here
            if (await last_completion(client))["stats"].get("prefetch_stored"):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the prefetch never finished")
        insert(client, uri, 2, *CURSOR, text)
        document = CODE + text
        result = await inline(client, uri, *position_after(document, len(document)))
        details = await last_completion(client)
        assert details["cached"] == "prefetch"
        assert details["stats"]["model"] == 2  # the warm-up and the first suggestion only
        shown = result.items[0].insert_text if result.items else None
        assert shown == details["text"]


async def test_a_completion_request_with_the_cache_off_runs_the_model(tmp_path):
    options = {"completion": {**OPTIONS["completion"], "cache": False}}
    async with lsp_session(options, root=tmp_path) as client:
        uri, text, _ = await cold_suggestion(client, tmp_path)
        insert(client, uri, 2, *CURSOR, text[0])
        await inline(client, uri, *position_after(CODE + text[0], len(CODE) + 1))
        details = await last_completion(client)
        assert details["cached"] is None and details["stats"]["model"] == 3
        assert "prefetch_started" not in details["stats"]


async def test_completion_enable_false_answers_nothing_even_from_the_cache(tmp_path):
    async with lsp_session(OPTIONS, root=tmp_path) as client:
        uri, _, _ = await cold_suggestion(client, tmp_path)
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"completion": {"enable": False}})
        )
        assert len((await inline(client, uri, *CURSOR)).items) == 0
