"""Completion cache (between the features stage and the model): recent results keyed on the
text around the cursor, answering typed-ahead requests without the model.

A result is stored under its context: the document, a digest of all the text before the
cursor and a digest of a window of the text after it. A later request with the same context
gets the same result (an exact hit). A request whose text before the cursor is the stored one
plus the first characters of the stored completion, with the same text after the cursor, is a
user typing what the suggestion predicted: it gets the rest of the completion (a typed-ahead
hit). The whole suggestion typed or accepted is not a typed-ahead hit; a prefetch stores that
context as an entry of its own.

The cache is bounded (least recently used entries go first) and knows nothing of LSP or of the
model: values are opaque. `Prefetches` keeps the background tasks that fill it ahead of time.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

log = logging.getLogger(__name__)

V = TypeVar("V")

SUFFIX_CHARS = 8192
"""Text after the cursor that is part of the key: more than the prompt's suffix window holds
with the default budgets, so an edit the model could see below the cursor is a miss."""
DEFAULT_CAPACITY = 128

HitKind = Literal["exact", "typed-ahead"]


@dataclass(frozen=True)
class ContextKey:
    """Where a completion was asked for: the document, the text before and after the cursor."""

    uri: str
    prefix: bytes
    """Digest of all the text before the cursor."""
    suffix: bytes
    """Digest of up to `SUFFIX_CHARS` characters after the cursor."""


def _encode(text: str) -> bytes:
    # Lone surrogates can come from UTF-16 editors mid-edit; they must hash, not raise.
    return text.encode("utf-8", "surrogatepass")


def _digest(text: str) -> bytes:
    return hashlib.blake2b(_encode(text), digest_size=16).digest()


def context_key(uri: str, text: str, offset: int) -> ContextKey:
    """The key of a completion request for `text` with the cursor at `offset`."""
    return ContextKey(uri, _digest(text[:offset]), _digest(text[offset : offset + SUFFIX_CHARS]))


def typed_ahead_keys(key: ContextKey, prefix: str, completion: str) -> list[ContextKey]:
    """Keys of the contexts reached by typing 1..len-1 characters of `completion` after
    `prefix` (the text before the cursor of `key`), in that order."""
    hasher = hashlib.blake2b(_encode(prefix), digest_size=16)
    keys = []
    for char in completion[:-1]:
        hasher.update(_encode(char))
        keys.append(ContextKey(key.uri, hasher.copy().digest(), key.suffix))
    return keys


@dataclass
class _Entry(Generic[V]):
    value: V
    completion: str
    typed: list[ContextKey]
    """The typed-ahead keys this entry answers, index i for i+1 characters typed."""


@dataclass(frozen=True)
class Hit(Generic[V]):
    """A cached answer: the stored value and the part of its completion still to come."""

    value: V
    remainder: str | None
    """The completion minus what was typed since (all of it for an exact hit; None when the
    stored completion was None)."""
    kind: HitKind
    typed: str = ""
    """The characters of the completion typed since it was stored."""


class TypedAheadCache(Generic[V]):
    """A bounded LRU of completions with their typed-ahead continuations."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"cache capacity must be at least 1, not {capacity}")
        self.capacity = capacity
        self._entries: OrderedDict[ContextKey, _Entry[V]] = OrderedDict()
        self._typed: dict[ContextKey, tuple[ContextKey, int]] = {}
        """Typed-ahead key -> (entry key, characters typed)."""
        self._made_with: object = None
        self.version = 0
        """Changes whenever the cache is emptied; `put` drops values made before."""

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: ContextKey) -> bool:
        return key in self._entries

    def made_with(self, settings: object) -> None:
        """The settings values are now made with; other settings than before empty the cache
        (they would make other completions)."""
        if settings != self._made_with:
            self.clear()
            self._made_with = settings

    def put(
        self,
        key: ContextKey,
        prefix: str,
        completion: str | None,
        value: V,
        version: int | None = None,
    ) -> None:
        """Store `value`, whose completion at the context `key` (text before the cursor
        `prefix`) is `completion`; evicts the least recently used entry beyond capacity.
        With `version` (read when the work started), a value from before a clear is dropped."""
        if version is not None and version != self.version:
            return
        self._remove(key)
        typed = typed_ahead_keys(key, prefix, completion) if completion else []
        self._entries[key] = _Entry(value, completion or "", typed)
        for count, typed_key in enumerate(typed, start=1):
            self._typed[typed_key] = (key, count)
        while len(self._entries) > self.capacity:
            self._remove(next(iter(self._entries)))

    def get(self, key: ContextKey) -> Hit[V] | None:
        """The exact entry for `key`, else the entry whose completion was partly typed to reach
        `key`; None on a miss. A hit becomes the most recently used entry."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return Hit(entry.value, entry.completion or None, "exact")
        found = self._typed.get(key)
        if found is None:
            return None
        origin, count = found
        entry = self._entries[origin]
        self._entries.move_to_end(origin)
        return Hit(entry.value, entry.completion[count:], "typed-ahead", entry.completion[:count])

    def clear(self) -> None:
        self._entries.clear()
        self._typed.clear()
        self.version += 1

    def _remove(self, key: ContextKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for typed_key in entry.typed:
            if self._typed.get(typed_key, (None, 0))[0] == key:
                del self._typed[typed_key]


class Prefetches:
    """Background tasks computing cache entries ahead of time, one per key. A prefetch is a
    bonus: when it fails or is stopped, nothing but its own work is lost."""

    def __init__(self) -> None:
        self._running: dict[ContextKey, tuple[asyncio.Task[None], threading.Event]] = {}

    def __contains__(self, key: ContextKey) -> bool:
        return key in self._running

    def __len__(self) -> int:
        return len(self._running)

    def task(self, key: ContextKey) -> asyncio.Task[None] | None:
        running = self._running.get(key)
        return running[0] if running else None

    def start(
        self,
        key: ContextKey,
        compute: Callable[[threading.Event], Awaitable[V]],
        done: Callable[[V], None],
    ) -> None:
        """Unless one runs for `key`, start a task on the running loop awaiting
        `compute(stop_flag)` and handing its value to `done`."""
        if key in self._running:
            return
        flag = threading.Event()

        async def work() -> None:
            try:
                value = await compute(flag)
            except Exception:  # stopped (Cancelled) or failed: only this prefetch is lost
                log.debug("prefetch stopped or failed", exc_info=True)
                return
            done(value)

        task = asyncio.get_running_loop().create_task(work())
        self._running[key] = (task, flag)
        task.add_done_callback(lambda _: self._forget(key, task))

    def cancel_all(self) -> int:
        """Stop every running prefetch; returns how many there were."""
        count = len(self._running)
        for task, flag in self._running.values():
            flag.set()  # stops a generation within a token step, before the loop runs again
            task.cancel()
        self._running.clear()
        return count

    def _forget(self, key: ContextKey, task: asyncio.Task[None]) -> None:
        running = self._running.get(key)
        if running is not None and running[0] is task:
            del self._running[key]
