"""The typed-ahead cache answers repeated and typed-ahead contexts without the model, and the
pipeline prefetches the completion after a suggestion without ever delaying a real request."""

from __future__ import annotations

import asyncio
import dataclasses
import threading

import pytest

from copilot_ls.backends.base import Backend, Cancelled, Generation, GenerationRequest
from copilot_ls.backends.runner import ModelRunner
from copilot_ls.pipeline import CompletionPipeline
from copilot_ls.results import CompletionRequest
from copilot_ls.settings import CompletionSettings, Settings
from copilot_ls.typed_ahead import (
    SUFFIX_CHARS,
    Prefetches,
    TypedAheadCache,
    context_key,
)

URI = "file:///work/fib.py"
PREFIX = "def fib(n):\n    "
SUFFIX = "\n\nprint(fib(10))\n"
COMPLETION = "if n < 2:\n        return n"


def stored(cache: TypedAheadCache[str], prefix: str = PREFIX, suffix: str = SUFFIX) -> None:
    """Store COMPLETION for the cursor between `prefix` and `suffix`."""
    text = prefix + suffix
    cache.put(context_key(URI, text, len(prefix)), prefix, COMPLETION, "result")


def lookup(cache: TypedAheadCache[str], prefix: str, suffix: str = SUFFIX, uri: str = URI):
    return cache.get(context_key(uri, prefix + suffix, len(prefix)))


# -- the cache on its own ----------------------------------------------------------------------


def test_the_same_context_is_an_exact_hit_with_the_whole_completion():
    cache: TypedAheadCache[str] = TypedAheadCache()
    stored(cache)
    hit = lookup(cache, PREFIX)
    assert hit is not None
    assert (hit.kind, hit.value, hit.remainder, hit.typed) == ("exact", "result", COMPLETION, "")


@pytest.mark.parametrize("typed", range(1, len(COMPLETION)))
def test_typing_the_start_of_a_completion_answers_the_rest(typed):
    """Every proper prefix of the suggestion, including ones that cross its newline."""
    cache: TypedAheadCache[str] = TypedAheadCache()
    stored(cache)
    hit = lookup(cache, PREFIX + COMPLETION[:typed])
    assert hit is not None and hit.kind == "typed-ahead" and hit.value == "result"
    assert hit.typed == COMPLETION[:typed]
    assert hit.remainder == COMPLETION[typed:]


def test_typing_past_the_newline_continues_on_the_next_line():
    cache: TypedAheadCache[str] = TypedAheadCache()
    stored(cache)
    hit = lookup(cache, PREFIX + "if n < 2:\n        ret")
    assert hit is not None and hit.remainder == "urn n"


def test_typing_the_whole_completion_is_left_to_the_prefetch():
    cache: TypedAheadCache[str] = TypedAheadCache()
    stored(cache)
    assert lookup(cache, PREFIX + COMPLETION) is None


def test_typed_text_that_diverges_from_the_completion_misses():
    cache: TypedAheadCache[str] = TypedAheadCache()
    stored(cache)
    assert lookup(cache, PREFIX + "if m") is None
    assert lookup(cache, PREFIX + "for") is None


def test_other_text_after_the_cursor_misses():
    """An editor inserting a closing bracket, or an edit below, changes the suffix."""
    cache: TypedAheadCache[str] = TypedAheadCache()
    stored(cache)
    assert lookup(cache, PREFIX, suffix=")" + SUFFIX) is None
    assert lookup(cache, PREFIX + "if", suffix=SUFFIX + "x = 1\n") is None


def test_text_after_the_cursor_beyond_the_suffix_window_does_not_matter():
    cache: TypedAheadCache[str] = TypedAheadCache()
    far = "#" * SUFFIX_CHARS
    stored(cache, suffix=far + "old")
    assert lookup(cache, PREFIX, suffix=far + "new") is not None


def test_an_edit_above_the_cursor_or_another_document_misses():
    cache: TypedAheadCache[str] = TypedAheadCache()
    stored(cache)
    assert lookup(cache, "import os\n" + PREFIX) is None
    assert lookup(cache, PREFIX, uri="file:///work/other.py") is None


def test_a_stored_none_is_an_exact_hit_without_typed_ahead():
    cache: TypedAheadCache[str] = TypedAheadCache()
    cache.put(context_key(URI, PREFIX, len(PREFIX)), PREFIX, None, "nothing")
    hit = cache.get(context_key(URI, PREFIX, len(PREFIX)))
    assert hit is not None and hit.remainder is None and hit.value == "nothing"


def test_the_cache_keeps_only_the_most_recently_used_entries():
    cache: TypedAheadCache[str] = TypedAheadCache(capacity=3)
    prefixes = [f"x{i} = " for i in range(4)]
    for prefix in prefixes[:3]:
        stored(cache, prefix)
    assert lookup(cache, prefixes[0]) is not None  # now the most recently used
    stored(cache, prefixes[3])
    assert len(cache) == 3
    assert lookup(cache, prefixes[1]) is None  # the least recently used went
    assert lookup(cache, prefixes[1] + "if n") is None  # with its typed-ahead keys
    assert all(lookup(cache, p) is not None for p in (prefixes[0], prefixes[2], prefixes[3]))


def test_storing_again_replaces_the_typed_ahead_continuations():
    cache: TypedAheadCache[str] = TypedAheadCache()
    stored(cache)
    key = context_key(URI, PREFIX + SUFFIX, len(PREFIX))
    cache.put(key, PREFIX, "return 1", "second")
    assert lookup(cache, PREFIX + "if n") is None
    hit = lookup(cache, PREFIX + "ret")
    assert hit is not None and hit.remainder == "urn 1" and hit.value == "second"


def test_other_settings_empty_the_cache_and_drop_work_started_before():
    cache: TypedAheadCache[str] = TypedAheadCache()
    cache.made_with("settings A")
    version = cache.version
    stored(cache)
    cache.made_with("settings A")
    assert lookup(cache, PREFIX) is not None
    cache.made_with("settings B")
    assert lookup(cache, PREFIX) is None and len(cache) == 0
    cache.put(context_key(URI, PREFIX, len(PREFIX)), PREFIX, "x", "stale", version)
    assert len(cache) == 0


def test_a_capacity_below_one_is_refused():
    with pytest.raises(ValueError, match="capacity"):
        TypedAheadCache(capacity=0)


async def test_prefetches_run_once_per_key_and_stop_together():
    prefetches = Prefetches()
    key = context_key(URI, PREFIX, len(PREFIX))
    flags: list[threading.Event] = []
    results: list[str] = []

    async def compute(flag: threading.Event) -> str:
        flags.append(flag)
        await asyncio.sleep(10)
        return "never"

    prefetches.start(key, compute, results.append)
    prefetches.start(key, compute, results.append)
    await asyncio.sleep(0)
    assert len(prefetches) == 1 and len(flags) == 1
    task = prefetches.task(key)
    assert prefetches.cancel_all() == 1
    assert flags[0].is_set() and key not in prefetches
    assert task is not None
    await asyncio.wait({task})
    assert task.cancelled() and results == []


async def test_a_failed_prefetch_is_dropped_quietly():
    prefetches = Prefetches()
    key = context_key(URI, PREFIX, len(PREFIX))
    results: list[str] = []

    async def compute(flag: threading.Event) -> str:
        raise Cancelled("stopped")

    prefetches.start(key, compute, results.append)
    task = prefetches.task(key)
    assert task is not None
    await asyncio.wait({task})
    assert results == [] and key not in prefetches


# -- the pipeline with the cache ---------------------------------------------------------------


class ScriptedBackend(Backend):
    """Answers by the end of the prompt; can hold generations until released or cancelled."""

    name = "scripted"

    def __init__(self, answers: dict[str, str], default: str = "pass") -> None:
        self.answers = answers
        self.default = default
        self.prompts: list[str] = []
        self.cancelled: list[str] = []
        self.hold: threading.Event | None = None
        """While set to an unset event, generations wait for it (or for their cancel flag)."""
        self.started = threading.Event()

    def has_special(self, text: str) -> bool:
        return False

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 1

    def generate(self, request: GenerationRequest, cancel: threading.Event) -> Generation:
        prompt = "".join(part for part in request.parts if isinstance(part, str))
        self.prompts.append(prompt)
        self.started.set()
        hold = self.hold
        while hold is not None and not hold.wait(0.005):
            if cancel.is_set():
                self.cancelled.append(prompt)
                return Generation(text="", stop_reason="cancelled")
        ending = max((k for k in self.answers if prompt.endswith(k)), key=len, default=None)
        return Generation(self.answers[ending] if ending else self.default, "eos")


FIRST = "a, b = 0, 1\n    for _ in range(n):"
"""The model's block after `def fib(n):` at the indented empty line."""
SECOND = "\n        a, b = b, a + b"
"""The block after FIRST accepted (the model's `return a` below it is cut: a dedent)."""
ANSWERS = {PREFIX: FIRST, FIRST: SECOND + "\n    return a"}


def make_pipeline(
    backend: ScriptedBackend, background: bool = True, **completion: object
) -> CompletionPipeline:
    """A pipeline as the server builds it (`background`: prefetches allowed), with settings."""
    settings = Settings(completion=dataclasses.replace(CompletionSettings(), **completion))
    return CompletionPipeline(ModelRunner(lambda: backend), lambda: settings, prefetch=background)


async def ask(pipeline: CompletionPipeline, prefix: str, suffix: str = "", uri: str = URI):
    return await pipeline.complete(CompletionRequest(uri, prefix + suffix, len(prefix)))


async def until(condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


async def test_typing_the_predicted_characters_makes_no_model_call():
    backend = ScriptedBackend(ANSWERS)
    pipeline = make_pipeline(backend, background=False)
    first = await ask(pipeline, PREFIX)
    assert first.text == FIRST and first.cached is None
    for typed in range(1, len(FIRST)):
        result = await ask(pipeline, PREFIX + FIRST[:typed])
        assert result.text == FIRST[typed:] and result.cached == "typed-ahead"
        assert result.timings["prefill_s"] == result.timings["decode_s"] == 0.0
    assert len(backend.prompts) == 1
    assert pipeline.stats["typed-ahead"] == len(FIRST) - 1
    assert pipeline.last is not None and pipeline.last.cached == "typed-ahead"


async def test_the_same_request_again_is_answered_from_the_cache():
    backend = ScriptedBackend(ANSWERS)
    pipeline = make_pipeline(backend, background=False)
    first = await ask(pipeline, PREFIX, SUFFIX)
    again = await ask(pipeline, PREFIX, SUFFIX)
    assert again.text == first.text and again.cached == "exact"
    assert again.prompt == first.prompt  # still explains what the model saw
    assert len(backend.prompts) == 1


async def test_diverging_from_the_suggestion_asks_the_model():
    backend = ScriptedBackend(ANSWERS)
    pipeline = make_pipeline(backend, background=False)
    await ask(pipeline, PREFIX)
    result = await ask(pipeline, PREFIX + "while")
    assert result.cached is None and len(backend.prompts) == 2


async def test_with_the_cache_off_every_request_asks_the_model():
    backend = ScriptedBackend(ANSWERS)
    pipeline = make_pipeline(backend, cache=False)
    await ask(pipeline, PREFIX)
    await ask(pipeline, PREFIX)
    await ask(pipeline, PREFIX + "i")
    assert len(backend.prompts) == 3 and pipeline.stats["prefetch_started"] == 0


async def test_the_prefetch_makes_accepting_the_whole_suggestion_a_hit():
    backend = ScriptedBackend(ANSWERS)
    pipeline = make_pipeline(backend)
    await ask(pipeline, PREFIX)
    await until(lambda: pipeline.stats["prefetch_stored"] == 1)
    assert backend.prompts == [PREFIX, PREFIX + FIRST]  # cursor right after the suggestion
    accepted = await ask(pipeline, PREFIX + FIRST)
    assert accepted.cached == "prefetch" and accepted.text == SECOND
    assert accepted.timings["generated_tokens"] == 0


async def test_a_request_for_the_running_prefetch_waits_for_it_instead_of_starting_again():
    backend = ScriptedBackend(ANSWERS)
    pipeline = make_pipeline(backend)
    await ask(pipeline, PREFIX)
    backend.started.clear()
    backend.hold = threading.Event()
    await until(backend.started.is_set)  # the prefetch is generating
    waiting = asyncio.ensure_future(ask(pipeline, PREFIX + FIRST))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    backend.hold.set()
    result = await waiting
    assert result.cached == "prefetch" and result.text == SECOND
    assert len(backend.prompts) == 2 and backend.cancelled == []


async def test_a_real_request_cancels_a_running_prefetch():
    backend = ScriptedBackend(ANSWERS)
    pipeline = make_pipeline(backend)
    await ask(pipeline, PREFIX)
    backend.started.clear()
    backend.hold = threading.Event()
    await until(backend.started.is_set)
    backend.hold = None  # the real request is answered at once
    result = await asyncio.wait_for(ask(pipeline, "def fact(n):\n    "), 5)
    assert result.cached is None and result.text == "pass"
    assert backend.cancelled == [PREFIX + FIRST]
    assert pipeline.stats["prefetch_cancelled"] == 1
    assert await ask(pipeline, PREFIX + FIRST) is not None
    assert backend.prompts[-1] == PREFIX + FIRST  # asked again: the prefetch was dropped


async def test_a_request_for_another_document_cancels_the_prefetch_too():
    """It keeps the model thread, and the KV cache, for the document being typed in."""
    backend = ScriptedBackend(ANSWERS)
    pipeline = make_pipeline(backend)
    await ask(pipeline, PREFIX)
    backend.started.clear()
    backend.hold = threading.Event()
    await until(backend.started.is_set)
    backend.hold = None
    await asyncio.wait_for(ask(pipeline, "import os\n", uri="file:///work/other.py"), 5)
    assert backend.cancelled == [PREFIX + FIRST]


async def test_typed_ahead_hits_leave_the_running_prefetch_alone():
    backend = ScriptedBackend(ANSWERS)
    pipeline = make_pipeline(backend)
    await ask(pipeline, PREFIX)
    backend.started.clear()
    backend.hold = threading.Event()
    await until(backend.started.is_set)
    for typed in range(1, len(FIRST)):
        assert (await ask(pipeline, PREFIX + FIRST[:typed])).cached == "typed-ahead"
    backend.hold.set()
    accepted = await ask(pipeline, PREFIX + FIRST)
    assert accepted.cached == "prefetch" and backend.cancelled == []


async def test_no_prefetch_when_accepting_would_move_the_prompt_start():
    """A suggestion long enough to move the window: the prefetch would re-evaluate the whole
    prompt, and the next keystroke too, so the model never runs for it."""
    head = "".join(f"x{i} = {i}\n" for i in range(200)) + "def f():\n    "
    block = "\n    ".join(f"y{i} = {i}" for i in range(40))
    backend = ScriptedBackend({"def f():\n    ": block})
    pipeline = make_pipeline(backend, max_prompt_tokens=64)
    assert (await ask(pipeline, head)).text == block
    await until(lambda: pipeline.stats["prefetch_skipped"] == 1)
    assert len(backend.prompts) == 1 and pipeline.stats["prefetch_stored"] == 0


async def test_a_one_line_answer_starts_no_prefetch():
    """Text follows the cursor on its line: nothing comes after the accepted answer."""
    backend = ScriptedBackend({"print(": "fib(10"})
    pipeline = make_pipeline(backend)
    result = await ask(pipeline, "print(", ") * 2\n")
    assert result.mode == "single" and result.text == "fib(10"
    assert pipeline.stats["prefetch_started"] == 0


async def test_the_prefetch_setting_and_one_shot_pipelines_start_no_prefetch():
    by_setting = make_pipeline(ScriptedBackend(ANSWERS), prefetch=False)
    one_shot = make_pipeline(ScriptedBackend(ANSWERS), background=False)
    for pipeline in (by_setting, one_shot):
        assert (await ask(pipeline, PREFIX)).text == FIRST
        assert pipeline.stats["prefetch_started"] == 0


async def test_a_cache_hit_supersedes_an_older_request_for_the_document():
    backend = ScriptedBackend(ANSWERS)
    pipeline = make_pipeline(backend, background=False)
    await ask(pipeline, PREFIX)
    backend.started.clear()
    backend.hold = threading.Event()
    older = asyncio.ensure_future(ask(pipeline, PREFIX + "while"))
    await until(backend.started.is_set)
    hit = await asyncio.wait_for(ask(pipeline, PREFIX + "a, b"), 5)
    assert hit.cached == "typed-ahead"
    with pytest.raises(Cancelled):
        await asyncio.wait_for(older, 5)


async def test_changed_settings_empty_the_cache():
    backend = ScriptedBackend(ANSWERS)
    current = Settings()
    pipeline = CompletionPipeline(ModelRunner(lambda: backend), lambda: current)
    await ask(pipeline, PREFIX)
    current = Settings(completion=CompletionSettings(max_tokens=16))
    result = await ask(pipeline, PREFIX)
    assert result.cached is None and len(backend.prompts) == 2
