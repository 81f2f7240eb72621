"""The model runner orders jobs by priority and lets urgent ones preempt long generations."""

from __future__ import annotations

import asyncio
import pathlib
import threading
from collections.abc import Callable

import pytest

from copilot_ls.backends.base import Backend, Cancelled, Generation, GenerationRequest
from copilot_ls.backends.drafting import DraftPolicy
from copilot_ls.backends.llama_cpp import LlamaCppBackend
from copilot_ls.backends.runner import ModelRunner, Priority, Resume, preemption_point
from copilot_ls.settings import ModelSettings
from tests.fixtures.tiny_gguf import write_tiny_model


class SteppingBackend(Backend):
    """Generates `max_tokens` steps, offering a preemption point at each; logs what happens."""

    name = "stepping"

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.step_hook: Callable[[str, int], None] | None = None

    def has_special(self, text: str) -> bool:
        return False

    def count_tokens(self, text: str) -> int:
        return len(text)

    def generate(self, request: GenerationRequest, cancel: threading.Event) -> Generation:
        name = str(request.parts[0])
        self.log.append(f"start {name}")
        text = ""
        for step in range(request.max_tokens):
            if self.step_hook is not None:
                self.step_hook(name, step)
            preemption_point(lambda: self._suspend(name))
            if cancel.is_set():
                return Generation(text=text, stop_reason="cancelled")
            text += name[0]
        self.log.append(f"end {name}")
        return Generation(text=text, stop_reason="length")

    def _suspend(self, name: str) -> Resume:
        self.log.append(f"suspend {name}")
        return lambda: self.log.append(f"resume {name}")


def _request(name: str, steps: int = 3) -> GenerationRequest:
    return GenerationRequest(parts=(name,), max_tokens=steps)


async def _occupy(
    runner: ModelRunner, priority: Priority = Priority.COMPLETION
) -> tuple[asyncio.Task[None], threading.Event]:
    """A job holding the model thread until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def hold(_backend: Backend) -> None:
        started.set()
        release.wait(10)

    task = asyncio.create_task(runner.call(hold, priority=priority))
    await asyncio.to_thread(started.wait, 10)
    return task, release


async def test_queued_jobs_run_most_urgent_first_and_fifo_within_a_priority():
    """Jobs queued behind a busy model run by priority, then in the order they came."""
    log: list[str] = []
    runner = ModelRunner(lambda: SteppingBackend(log))
    holder, release = await _occupy(runner)
    order = [
        ("long-1", Priority.LONG),
        ("prefetch", Priority.PREFETCH),
        ("completion-1", Priority.COMPLETION),
        ("long-2", Priority.LONG),
        ("completion-2", Priority.COMPLETION),
    ]
    tasks = []
    for name, priority in order:
        tasks.append(
            asyncio.create_task(
                runner.generate(_request(name, 1), threading.Event(), priority=priority)
            )
        )
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, *tasks)
    starts = [entry.split()[1] for entry in log if entry.startswith("start")]
    assert starts == ["completion-1", "completion-2", "prefetch", "long-1", "long-2"]
    runner.shutdown()


async def test_a_cancelled_queued_job_never_starts():
    """A job whose caller went away while it waited in the queue is never run."""
    log: list[str] = []
    runner = ModelRunner(lambda: SteppingBackend(log))
    holder, release = await _occupy(runner)
    flagged = threading.Event()
    flagged.set()
    first = asyncio.create_task(runner.generate(_request("flagged"), flagged))
    second = asyncio.create_task(runner.generate(_request("abandoned"), threading.Event()))
    await asyncio.sleep(0)
    second.cancel()
    release.set()
    await holder
    with pytest.raises(Cancelled):
        await first
    with pytest.raises(asyncio.CancelledError):
        await second
    assert not any(entry.startswith("start") for entry in log)
    runner.shutdown()


async def _preempt_at_step(
    runner: ModelRunner,
    backend: SteppingBackend,
    outer: tuple[str, Priority],
    urgent: list[tuple[str, Priority]],
    at_step: int = 2,
) -> list[Generation]:
    """Run `outer` and queue the `urgent` jobs while it is at step `at_step`."""
    reached, queued = threading.Event(), threading.Event()

    def hook(name: str, step: int) -> None:
        if name == outer[0] and step == at_step:
            reached.set()
            queued.wait(10)

    backend.step_hook = hook
    long = asyncio.create_task(
        runner.generate(_request(outer[0], 6), threading.Event(), priority=outer[1])
    )
    await asyncio.to_thread(reached.wait, 10)
    tasks = [
        asyncio.create_task(runner.generate(_request(name), threading.Event(), priority=p))
        for name, p in urgent
    ]
    await asyncio.sleep(0.05)  # every urgent job is queued before the long one steps on
    queued.set()
    return list(await asyncio.gather(long, *tasks))


async def test_a_completion_queued_during_a_long_generation_runs_before_it_ends():
    """The completion runs at the long generation's next token step, inside suspend/resume."""
    log: list[str] = []
    backend = SteppingBackend(log)
    runner = ModelRunner(lambda: backend)
    await runner.backend()
    long, completion = await _preempt_at_step(
        runner, backend, ("long", Priority.LONG), [("completion", Priority.COMPLETION)]
    )
    assert log == [
        "start long",
        "suspend long",
        "start completion",
        "end completion",
        "resume long",
        "end long",
    ]
    assert long.text == "l" * 6 and completion.text == "ccc"
    assert runner.preemptions == 1
    runner.shutdown()


async def test_a_long_job_does_not_preempt_a_running_completion():
    """Only a more urgent job preempts: a LONG job waits for the running completion."""
    log: list[str] = []
    backend = SteppingBackend(log)
    runner = ModelRunner(lambda: backend)
    await runner.backend()
    await _preempt_at_step(
        runner, backend, ("completion", Priority.COMPLETION), [("long", Priority.LONG)]
    )
    assert log == ["start completion", "end completion", "start long", "end long"]
    assert runner.preemptions == 0
    runner.shutdown()


async def test_a_prefetch_running_inside_a_long_generation_is_preempted_by_a_completion():
    """Preemption nests: a completion interrupts a prefetch that interrupted a long job."""
    log: list[str] = []
    backend = SteppingBackend(log)
    runner = ModelRunner(lambda: backend)
    await runner.backend()
    gates = {name: (threading.Event(), threading.Event()) for name in ("long", "prefetch")}

    def hook(name: str, step: int) -> None:
        if name in gates and step == 1:
            reached, queued = gates[name]
            reached.set()
            queued.wait(10)

    backend.step_hook = hook

    async def queue(name: str, priority: Priority) -> asyncio.Task[Generation]:
        task = asyncio.create_task(
            runner.generate(_request(name), threading.Event(), priority=priority)
        )
        await asyncio.sleep(0.05)
        return task

    tasks = [await queue("long", Priority.LONG)]
    await asyncio.to_thread(gates["long"][0].wait, 10)
    tasks.append(await queue("prefetch", Priority.PREFETCH))
    gates["long"][1].set()
    await asyncio.to_thread(gates["prefetch"][0].wait, 10)
    tasks.append(await queue("completion", Priority.COMPLETION))
    gates["prefetch"][1].set()
    await asyncio.gather(*tasks)
    assert log == [
        "start long",
        "suspend long",
        "start prefetch",
        "suspend prefetch",
        "start completion",
        "end completion",
        "resume prefetch",
        "end prefetch",
        "resume long",
        "end long",
    ]
    assert runner.preemptions == 2
    runner.shutdown()


async def test_an_error_in_the_urgent_job_reaches_its_caller_not_the_preempted_one():
    """A failing preempting job fails alone; the long generation still completes."""
    log: list[str] = []
    backend = SteppingBackend(log)
    runner = ModelRunner(lambda: backend)
    await runner.backend()
    reached, queued = threading.Event(), threading.Event()

    def hook(name: str, step: int) -> None:
        if name == "long" and step == 1:
            reached.set()
            queued.wait(10)

    def fail(_backend: Backend) -> None:
        raise ValueError("broken completion")

    backend.step_hook = hook
    long = asyncio.create_task(
        runner.generate(_request("long", 4), threading.Event(), priority=Priority.LONG)
    )
    await asyncio.to_thread(reached.wait, 10)
    broken = asyncio.create_task(runner.call(fail))
    await asyncio.sleep(0.05)
    queued.set()
    with pytest.raises(ValueError, match="broken completion"):
        await broken
    assert (await long).text == "llll"
    assert log[-2:] == ["resume long", "end long"]
    runner.shutdown()


def test_a_preemption_point_off_the_model_thread_does_nothing():
    """Called outside the runner's thread (a backend used directly), it never suspends."""
    calls: list[str] = []

    def suspend() -> Resume:
        calls.append("suspend")
        return lambda: None

    assert preemption_point(suspend) is False
    assert calls == []


# -- on a tiny real model ---------------------------------------------------------------------

LONG_PROMPT = "class Parser(object):\n    def __init__(self, name):\n        self.name = name\n" * 3
SHORT_PROMPT = "function add(a, b) {\n    return a + b;\n}\n" * 2


class AlwaysDraft(DraftPolicy):
    """Verifies every draft at full length, so drafts are pending when a preemption comes."""

    def length(self, kind: str, available: int, draft_cost: float = 0.0) -> int:
        return min(available, 4)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed")
    folder = tmp_path_factory.mktemp("tiny-preempt")
    return write_tiny_model(folder / "model.gguf", "qwen", seed=3, n_layer=2)


def _tiny_backend(path: pathlib.Path, draft: bool, mib: int = 256) -> LlamaCppBackend:
    """The tiny model; with `draft`, drafting for itself (every guess right, always pending)."""
    settings = ModelSettings(
        path=str(path),
        n_ctx=1024,
        n_threads=1,
        draft_path=str(path) if draft else "",
        state_cache_mib=mib,
    )
    backend = LlamaCppBackend(settings)
    backend.policy = AlwaysDraft()
    return backend


def _tiny_request(
    prompt: str, mode: str, stop: Callable[[str], bool] | None = None
) -> GenerationRequest:
    return GenerationRequest(
        parts=(prompt,), max_tokens=48, speculative=mode, stop=stop, token_healing=False
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(("mode", "mib"), [("off", 256), ("auto", 256), ("off", 0)])
async def test_a_preempted_generation_produces_its_uninterrupted_text(tiny_model, mode, mib):
    """A completion runs in the middle of a long greedy generation; both texts are unchanged
    (with speculation on, drafted tokens are pending in the KV cache when it is preempted;
    with the state cache off, preemption still saves and restores the state it needs)."""
    draft = mode == "auto"
    reference = _tiny_backend(tiny_model, draft)
    expected_long = reference.generate(_tiny_request(LONG_PROMPT, mode), threading.Event())
    expected_short = reference.generate(_tiny_request(SHORT_PROMPT, mode), threading.Event())
    reference.close()
    assert expected_long.generated_tokens > 8, "the long generation must outlast the preemption"
    runner = ModelRunner(lambda: _tiny_backend(tiny_model, draft, mib))
    await runner.backend()
    reached, queued = threading.Event(), threading.Event()
    finished: list[str] = []

    def pause_at_step_six(text: str) -> bool:
        steps.append(text)
        if len(steps) == 6:
            reached.set()
            queued.wait(10)
        return False

    steps: list[str] = []
    long = asyncio.create_task(
        runner.generate(
            _tiny_request(LONG_PROMPT, mode, pause_at_step_six),
            threading.Event(),
            priority=Priority.LONG,
        )
    )
    long.add_done_callback(lambda _task: finished.append("long"))
    await asyncio.to_thread(reached.wait, 10)
    short = asyncio.create_task(
        runner.generate(_tiny_request(SHORT_PROMPT, mode), threading.Event())
    )
    short.add_done_callback(lambda _task: finished.append("completion"))
    await asyncio.sleep(0.05)
    queued.set()
    got_long, got_short = await asyncio.gather(long, short)
    assert finished == ["completion", "long"]
    assert runner.preemptions == 1
    assert got_short.text == expected_short.text
    assert got_long.text == expected_long.text
    assert got_long.token_ids == expected_long.token_ids
    assert got_long.accepted_tokens > 0 or not draft
    runner.shutdown()


async def test_a_completion_arriving_during_a_long_prefill_runs_between_its_chunks(
    tiny_model, monkeypatch
):
    """A long prompt is evaluated in chunks; a completion runs between two, and the long
    generation's text is unchanged."""
    from copilot_ls.backends import llama_cpp

    prompt = LONG_PROMPT * 4  # several prefill chunks
    reference = _tiny_backend(tiny_model, False)
    expected = reference.generate(_tiny_request(prompt, "off"), threading.Event())
    reference.close()
    reached, queued = threading.Event(), threading.Event()
    original = llama_cpp.evaluate_reusing_prefix

    def paused(llm, tokens, cancel=None, between_chunks=None):  # type: ignore[no-untyped-def]
        def between() -> object:
            if len(tokens) > 200 and not reached.is_set():
                reached.set()
                queued.wait(10)
            return between_chunks() if between_chunks is not None else None

        return original(llm, tokens, cancel, between)

    monkeypatch.setattr(llama_cpp, "evaluate_reusing_prefix", paused)
    runner = ModelRunner(lambda: _tiny_backend(tiny_model, False))
    await runner.backend()
    long = asyncio.create_task(
        runner.generate(_tiny_request(prompt, "off"), threading.Event(), priority=Priority.LONG)
    )
    await asyncio.to_thread(reached.wait, 10)
    short = asyncio.create_task(
        runner.generate(_tiny_request(SHORT_PROMPT, "off"), threading.Event())
    )
    await asyncio.sleep(0.05)
    queued.set()
    got, _ = await asyncio.gather(long, short)
    assert runner.preemptions == 1
    assert got.text == expected.text and got.prompt_tokens > 200
    runner.shutdown()


async def test_background_work_waits_while_a_completion_is_queued_or_running():
    """`wait_for_completions` blocks while a COMPLETION job is queued or running, not for
    other priorities, and gives up after its timeout."""
    log: list[str] = []
    runner = ModelRunner(lambda: SteppingBackend(log))
    assert runner.wait_for_completions(0)  # nothing queued
    long_job, release = await _occupy(runner, Priority.LONG)
    assert runner.wait_for_completions(0)  # a chat answer does not hold indexing back
    completion = asyncio.create_task(runner.generate(_request("completion", 1), threading.Event()))
    await asyncio.sleep(0.05)
    assert not runner.wait_for_completions(0.05)  # queued behind the long job: wait, time out
    waiter = asyncio.create_task(asyncio.to_thread(runner.wait_for_completions, 10))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    release.set()
    await asyncio.gather(long_job, completion)
    assert await asyncio.wait_for(waiter, 10)  # woken once the completion is done
    failing = asyncio.create_task(runner.call(lambda _b: 1 / 0))
    with pytest.raises(ZeroDivisionError):
        await failing
    assert runner.wait_for_completions(0)  # a failed job is counted out too
    runner.shutdown()
