"""Backends stage: one model, one worker thread, jobs by priority, awaited from async handlers.

The model is loaded on first use, on the worker thread, so the server answers `initialize` at
once. Every call is awaited from the event loop; when the awaiting task is cancelled (the
client sent `$/cancelRequest`, or a newer request superseded it) the cancel flag is set and the
sampling loop stops within one token step. A cancelled call still queued never starts.

Jobs wait in one queue and the most urgent runs first (`Priority`, FIFO within a priority).
A job already generating does not have to finish before a more urgent one starts: at every
token step the backend calls `preemption_point`, which runs the more urgent queued jobs right
there, on the same thread, between two token steps of the running one, and then lets the
backend restore its state and go on exactly where it was. So an interactive completion waits at
most one token step of a chat or code-action generation. A PREFETCH job is preempted the same
way by a COMPLETION (it is not cancelled here: the completion pipeline cancels it when
it is no longer wanted).

Work outside the model thread that competes with it for the CPU and the GIL (indexing) asks
`wait_for_completions` between its steps and steps aside while an interactive completion is
queued or running.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypeVar

from copilot_ls.backends.base import Backend, Cancelled, Generation, GenerationRequest

log = logging.getLogger(__name__)

T = TypeVar("T")
BackendFactory = Callable[[], Backend]
Resume = Callable[[], None]


class Priority(IntEnum):
    """How urgent a model job is; lower runs first and preempts higher."""

    COMPLETION = 0
    """An interactive completion: someone is waiting for ghost text."""
    PREFETCH = 1
    """Speculative work for a completion that may be asked for next."""
    LONG = 2
    """Chat answers and code actions: long generations that may wait a token step."""


_MAINTENANCE = -1
"""Priority of the runner's own jobs (closing a replaced model); never run nested."""


@dataclass
class _Job:
    priority: int
    order: int
    run: Callable[[], Any]
    future: Future[Any]
    cancel: threading.Event | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.priority, self.order)


@dataclass
class _Running:
    """What the model thread is doing: the priorities of the jobs nested on it, outermost first."""

    priorities: list[int] = field(default_factory=list)


_thread_state = threading.local()


def preemption_point(suspend: Callable[[], Resume]) -> bool:
    """Called by a backend between two token steps: let more urgent queued jobs run first.

    When one waits, `suspend()` is called to save what the caller needs (its KV state, its
    logits) and returns the function that restores it; the urgent jobs run; then that function
    is called. Returns whether anything ran. Outside the model thread this does nothing.
    """
    runner: ModelRunner | None = getattr(_thread_state, "runner", None)
    if runner is None:
        return False
    return runner._run_urgent(suspend)


class ModelRunner:
    """Owns the backend and the single thread that may touch it."""

    def __init__(self, factory: BackendFactory) -> None:
        self._factory = factory
        self._backend: Backend | None = None
        self._load_error: Exception | None = None
        self._queue: list[_Job] = []
        self._ready = threading.Condition()
        self._orders = itertools.count()
        self._running = _Running()
        self._closed = False
        self._thread: threading.Thread | None = None
        self.preemptions = 0
        """How many times a running generation let more urgent jobs run (for tests, logs)."""
        self._completions = 0
        self._completions_done = threading.Condition()

    def _ensure_backend(self) -> Backend:
        if self._backend is None:
            if self._load_error is not None:
                raise self._load_error
            try:
                self._backend = self._factory()
            except Exception as exc:
                self._load_error = exc
                raise
        return self._backend

    async def call(
        self,
        fn: Callable[[Backend], T],
        cancel: threading.Event | None = None,
        *,
        priority: Priority = Priority.COMPLETION,
    ) -> T:
        """Run `fn(backend)` on the model thread; cancelling the caller sets `cancel`."""
        flag = cancel or threading.Event()

        def job() -> T:
            if flag.is_set():
                raise Cancelled("cancelled before it started")
            return fn(self._ensure_backend())

        future = self._submit(job, int(priority), flag)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            flag.set()
            raise

    async def forget(self) -> None:
        """`Backend.forget` on the model thread, between two requests."""
        await self.call(lambda backend: backend.forget())

    def wait_for_completions(self, timeout: float) -> bool:
        """Block while a COMPLETION-priority job is queued or running, at most `timeout`
        seconds; whether none is left. For background work, between two of its steps."""
        with self._completions_done:
            return self._completions_done.wait_for(lambda: self._completions == 0, timeout)

    def _count_completion(self, priority: int, change: int) -> None:
        if priority == Priority.COMPLETION:
            with self._completions_done:
                self._completions += change
                if self._completions == 0:
                    self._completions_done.notify_all()

    async def generate(
        self,
        request: GenerationRequest,
        cancel: threading.Event,
        *,
        priority: Priority = Priority.COMPLETION,
    ) -> Generation:
        return await self.call(
            lambda backend: backend.generate(request, cancel), cancel, priority=priority
        )

    async def backend(self) -> Backend:
        """The loaded backend (loading it if needed); raises the load error if any."""
        return await self.call(lambda backend: backend)

    def replace(self, factory: BackendFactory) -> None:
        """Use another model from the next call on (settings changed)."""
        old = self._backend

        def swap() -> None:
            if old is not None:
                old.close()

        self._factory = factory
        self._backend = None
        self._load_error = None
        self._submit(swap, _MAINTENANCE, None)

    def shutdown(self) -> None:
        backend = self._backend

        def close() -> None:
            if backend is not None:
                backend.close()

        self._submit(close, _MAINTENANCE, None)
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    # -- the model thread ---------------------------------------------------------------------

    def _submit(
        self, run: Callable[[], Any], priority: int, cancel: threading.Event | None
    ) -> Future[Any]:
        future: Future[Any] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the model runner was shut down")
            self._queue.append(_Job(priority, next(self._orders), run, future, cancel))
            self._count_completion(priority, +1)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="copilot-ls-model", daemon=True
                )
                self._thread.start()
            self._ready.notify()
        return future

    def _work(self) -> None:
        _thread_state.runner = self
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                job = self._take(lambda _job: True)
            if job is not None:
                self._execute(job)

    def _take(self, eligible: Callable[[_Job], bool]) -> _Job | None:
        """Remove and return the most urgent eligible job (call with the lock held)."""
        candidates = [job for job in self._queue if eligible(job)]
        if not candidates:
            return None
        job = min(candidates, key=lambda candidate: candidate.key)
        self._queue.remove(job)
        return job

    def _execute(self, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            self._count_completion(job.priority, -1)
            return  # the caller went away before it started
        self._running.priorities.append(job.priority)
        try:
            result = job.run()
        except BaseException as exc:  # handed to the awaiting caller, like an executor does
            self._count_completion(job.priority, -1)  # counted out before the caller wakes
            job.future.set_exception(exc)
        else:
            self._count_completion(job.priority, -1)
            job.future.set_result(result)
        finally:
            self._running.priorities.pop()

    def _urgent(self, job: _Job) -> bool:
        current = self._running.priorities[-1]
        return job.priority != _MAINTENANCE and job.priority < current

    def _run_urgent(self, suspend: Callable[[], Resume]) -> bool:
        """Run every queued job more urgent than the running one, between two of its steps."""
        if not self._running.priorities or self._backend is None:
            return False  # not inside a job, or the model was replaced under the running job
        with self._ready:
            job = self._take(self._urgent)
        if job is None:
            return False
        self.preemptions += 1
        log.debug("priority %s job preempted by a priority %s job", self._running, job.priority)
        resume = suspend()
        try:
            while job is not None:
                self._execute(job)
                with self._ready:
                    job = self._take(self._urgent)
        finally:
            resume()
        return True
