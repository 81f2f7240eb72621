"""Backends stage: one model, one worker thread, awaited from async handlers.

The model is loaded on first use, on the worker thread, so the server answers `initialize` at
once. Every call is awaited from the event loop; when the awaiting task is cancelled (the
client sent `$/cancelRequest`, or a newer request superseded it) the cancel flag is set and the
sampling loop stops within one token step. A cancelled call still queued never starts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from copilot_ls.backends.base import Backend, Cancelled, Generation, GenerationRequest

log = logging.getLogger(__name__)

T = TypeVar("T")
BackendFactory = Callable[[], Backend]


class ModelRunner:
    """Owns the backend and the single thread that may touch it."""

    def __init__(self, factory: BackendFactory) -> None:
        self._factory = factory
        self._backend: Backend | None = None
        self._load_error: Exception | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copilot-ls-model")

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

    async def call(self, fn: Callable[[Backend], T], cancel: threading.Event | None = None) -> T:
        """Run `fn(backend)` on the model thread; cancelling the caller sets `cancel`."""
        flag = cancel or threading.Event()

        def job() -> T:
            if flag.is_set():
                raise Cancelled("cancelled before it started")
            return fn(self._ensure_backend())

        future = asyncio.get_running_loop().run_in_executor(self._executor, job)
        try:
            return await future
        except asyncio.CancelledError:
            flag.set()
            raise

    async def generate(self, request: GenerationRequest, cancel: threading.Event) -> Generation:
        return await self.call(lambda backend: backend.generate(request, cancel), cancel)

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
        self._executor.submit(swap)

    def shutdown(self) -> None:
        backend = self._backend

        def close() -> None:
            if backend is not None:
                backend.close()

        self._executor.submit(close)
        self._executor.shutdown(wait=False, cancel_futures=False)
