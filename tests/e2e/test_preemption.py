"""One model, many jobs, end to end: a completion preempts a running code action.

The real server and the embedded SmolLM2 model: while a long code action generates, an inline
completion is requested; it is answered before the action ends, and the action still gives its
whole answer. In process, on the same model, a preempted greedy generation gives exactly the
tokens it gives uninterrupted. Switching between two files reuses the saved state of the first
when coming back to it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from lsprotocol import types

from copilot_ls.backends.base import GenerationRequest
from copilot_ls.backends.llama_cpp import LlamaCppBackend
from copilot_ls.backends.runner import ModelRunner, Priority
from copilot_ls.settings import ModelSettings
from tests.e2e.conftest import FIB, inline, last_completion, lsp_session, open_document
from tests.e2e.test_code_actions import list_actions, session

pytestmark = pytest.mark.model

LONG = {"actions": {"maxTokens": 400}, "completion": {"maxTokens": 24}}


def _weights(lines: int) -> str:
    body = "".join(f"    total = total + values[{i}] * {i + 1}\n" for i in range(lines))
    return f"def weighted(values):\n    total = 0\n{body}    return total\n"


def _action_reports(client: Any) -> list[Any]:
    return [
        report
        for token, reports in client.progress_reports.items()
        if str(token).startswith("copilot-ls/action/")
        for report in reports
    ]


async def _explain(client: Any, command: types.Command) -> str:
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )
    return str(result["explanation"])


async def test_a_completion_is_answered_while_a_long_action_runs_and_the_action_completes(
    tmp_path,
):
    async with session(tmp_path, options=LONG) as (client, _):
        uri = open_document(client, tmp_path / "weights.py", _weights(30))
        fib = open_document(client, tmp_path / "fib.py", FIB)
        actions = await list_actions(client, uri, 1, 4)
        explain = next(a for a in actions if a.data["action"] == "explain")
        assert explain.command is not None
        started_reports = len(_action_reports(client))

        action = asyncio.ensure_future(_explain(client, explain.command))
        action.add_done_callback(lambda _f: done.setdefault("action", time.perf_counter()))
        done: dict[str, float] = {}
        for _ in range(6000):  # until the model has written a few tokens of the action
            reports = _action_reports(client)[started_reports:]
            if any(isinstance(r, types.WorkDoneProgressReport) for r in reports):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"no progress report; messages: {client.messages}")
        assert not action.done(), "the action ended before the completion was asked for"
        completion = await inline(client, fib, 4, 11)
        done["completion"] = time.perf_counter()
        interrupted = await action

        assert completion is not None and completion.items
        assert "fibonacci(n - 1)" in str(completion.items[0].insert_text)
        assert done["completion"] < done["action"]  # answered while the action ran
        # ... which went on where it was and gave its whole answer, not a cancelled stub.
        ends = [r for r in _action_reports(client) if isinstance(r, types.WorkDoneProgressEnd)]
        assert ends and ends[-1].message == interrupted
        assert len(interrupted.split()) > 20, interrupted


async def test_a_preempted_generation_of_the_embedded_model_gives_the_same_tokens():
    """Greedy, speculation off: the tokens of a generation interrupted by a completion are the
    tokens of the same generation uninterrupted (its KV state and logits are restored exactly).

    Both runs re-evaluate only the prompt's last token from the KV cache: a cold prefill
    evaluates it in a larger batch, whose float rounding may change a greedy choice."""
    backend = LlamaCppBackend(ModelSettings())
    runner = ModelRunner(lambda: backend)
    explain = _explain_prompt(_weights(30))
    await runner.generate(_plain(explain), threading.Event(), priority=Priority.LONG)
    alone = await runner.generate(_plain(explain), threading.Event(), priority=Priority.LONG)
    reached, queued = threading.Event(), threading.Event()
    steps: list[str] = []

    def pause(text: str) -> bool:
        steps.append(text)
        if len(steps) == 40:
            reached.set()
            queued.wait(30)
        return False

    long = asyncio.create_task(
        runner.generate(_plain(explain, pause), threading.Event(), priority=Priority.LONG)
    )
    await asyncio.to_thread(reached.wait, 120)
    short = asyncio.create_task(runner.generate(_plain(FIB, max_tokens=16), threading.Event()))
    await asyncio.sleep(0.05)
    queued.set()
    interrupted, completion = await asyncio.gather(long, short)
    runner.shutdown()
    assert runner.preemptions == 1 and completion.text
    assert interrupted.token_ids == alone.token_ids and len(alone.token_ids) > 40


def _explain_prompt(code: str) -> str:
    return f"<|im_start|>user\nExplain this code:\n{code}<|im_end|>\n<|im_start|>assistant\n"


def _plain(
    prompt: str, stop: Callable[[str], bool] | None = None, max_tokens: int = 200
) -> GenerationRequest:
    return GenerationRequest(
        parts=(prompt,), max_tokens=max_tokens, stop=stop, token_healing=False, speculative="off"
    )


async def test_returning_to_a_file_reuses_its_saved_state(tmp_path):
    """Completing in A, then B, then A again evaluates almost nothing of A's prompt."""
    first = "".join(f"def first_{i}(value):\n    return value * {i}\n\n\n" for i in range(12))
    second = "".join(f"class Second{i}:\n    size = {i}\n\n\n" for i in range(12))
    async with lsp_session({"completion": {"maxTokens": 16}}, root=tmp_path) as client:
        a = open_document(client, tmp_path / "a.py", first + "def last(value):\n    return ")
        b = open_document(client, tmp_path / "b.py", second + "class Last:\n    size = ")
        end_a = types.Position(line=first.count("\n") + 1, character=11)
        end_b = types.Position(line=second.count("\n") + 1, character=11)
        await inline(client, a, end_a.line, end_a.character)
        cold = await last_completion(client)
        await inline(client, b, end_b.line, end_b.character)
        await inline(client, a, end_a.line, end_a.character)
        back = await last_completion(client)
        assert cold["timings"]["reused_tokens"] < cold["timings"]["prompt_tokens"] // 4
        assert back["timings"]["reused_tokens"] >= back["timings"]["prompt_tokens"] - 2
