"""The pipeline wires window, template, backend and filters together (a scripted backend)."""

from __future__ import annotations

import threading

from copilot_ls.backends.base import Backend, Generation, GenerationRequest
from copilot_ls.backends.runner import ModelRunner
from copilot_ls.pipeline import CompletionPipeline
from copilot_ls.results import CompletionRequest
from copilot_ls.settings import Settings


class ScriptedBackend(Backend):
    """Answers every prompt with the same text; records the requests it saw."""

    name = "scripted"

    def __init__(self, answer: str, specials: tuple[str, ...] = ()) -> None:
        self.answer = answer
        self.specials = specials
        self.requests: list[GenerationRequest] = []

    def has_special(self, text: str) -> bool:
        return text in self.specials

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 1

    def generate(self, request: GenerationRequest, cancel: threading.Event) -> Generation:
        self.requests.append(request)
        return Generation(text=self.answer, stop_reason="eos")


async def complete(backend: ScriptedBackend, text: str, offset: int):
    pipeline = CompletionPipeline(ModelRunner(lambda: backend), Settings)
    return await pipeline.complete(CompletionRequest("file:///x.py", text, offset))


CODE = "def fib(n):\n    \n    return fib(n - 1) + fib(n - 2)\n"


async def test_prefix_only_prompts_still_trim_against_the_code_below():
    backend = ScriptedBackend("if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)")
    result = await complete(backend, CODE, CODE.index("    \n") + 4)
    assert backend.requests[0].parts == ("def fib(n):\n    ",)  # no suffix in the prompt
    assert result.text == "if n < 2:\n        return n"


async def test_fim_prompts_carry_the_suffix():
    backend = ScriptedBackend("pass", ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"))
    result = await complete(backend, CODE, CODE.index("    \n") + 4)
    parts = backend.requests[0].parts
    assert parts[1] == "def fib(n):\n    " and parts[3].startswith("\n    return fib(")
    assert result.template == "starcoder" and result.text == "pass"
