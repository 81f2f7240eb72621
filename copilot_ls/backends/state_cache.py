"""Backends stage: the evaluated KV state of several recent prompts, so switching files is cheap.

llama.cpp's context holds the KV state of one token sequence. Typing in one file keeps the
prompt's start identical, so the next prompt reuses most of it; switching to another file
shares nothing, and switching back would evaluate the first file's whole prompt again.
`PromptStates` saves the live sequence's state (`llama_state_seq_get_data` for sequence 0: only
the KV cells of that sequence, several times cheaper than `Llama.save_state`, which also copies
the logits buffer) when the next prompt would throw most of it away, keeps recent saved states
in a `StateCache` bounded in bytes and entries (least recently used evicted), and before a
prompt is evaluated restores the saved state that shares the longest prefix with it when that
beats what the live context shares. Saving happens only when switching away, never on a
keystroke that keeps the prompt's start.
"""

from __future__ import annotations

import ctypes
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MAX_ENTRIES = 8
"""Saved prompts kept at most, whatever their size."""
MIN_SAVED_TOKENS = 64
"""A live sequence shorter than this is cheaper to evaluate again than to save."""
MIN_GAIN_TOKENS = 32
"""A saved state is restored only when it shares this many more tokens than the live context."""


@dataclass(eq=False)
class SavedState:
    """The KV state of sequence 0 after evaluating `tokens`."""

    tokens: np.ndarray
    data: Any
    """The bytes llama.cpp wrote (a ctypes array, passed back as is)."""
    size: int

    def shared_prefix(self, tokens: Sequence[int] | np.ndarray) -> int:
        """How many leading `tokens` this state holds."""
        n = min(len(self.tokens), len(tokens))
        mismatch = np.flatnonzero(self.tokens[:n] != np.asarray(tokens[:n], dtype=np.int64))
        return int(mismatch[0]) if mismatch.size else n


@dataclass
class CacheStats:
    """What the cache did, for logs, tests and benchmarks."""

    saves: int = 0
    restores: int = 0
    evictions: int = 0
    save_s: float = 0.0
    restore_s: float = 0.0
    last_size: int = 0
    timings: dict[str, float] = field(default_factory=dict)


class StateCache:
    """Saved states, least recently used first, within a byte budget and an entry count."""

    def __init__(self, budget_bytes: int, max_entries: int = MAX_ENTRIES) -> None:
        self.budget_bytes = budget_bytes
        self.max_entries = max_entries
        self._entries: OrderedDict[int, SavedState] = OrderedDict()
        self.evictions = 0

    @property
    def enabled(self) -> bool:
        return self.budget_bytes > 0 and self.max_entries > 0

    @property
    def size(self) -> int:
        """Bytes held by the saved states."""
        return sum(entry.size for entry in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[SavedState]:
        """The saved states, least recently used first."""
        return list(self._entries.values())

    def holds(self, tokens: Sequence[int]) -> bool:
        """Whether a saved state covers all of `tokens` (saving them again would add nothing)."""
        return any(entry.shared_prefix(tokens) == len(tokens) for entry in self._entries.values())

    def put(self, state: SavedState) -> bool:
        """Keep `state` as the most recent; returns False when it alone exceeds the budget."""
        if not self.enabled or state.size > self.budget_bytes:
            return False
        for key, entry in list(self._entries.items()):
            if state.shared_prefix(entry.tokens) == len(entry.tokens):
                del self._entries[key]  # the new state holds all of it
        self._entries[id(state)] = state
        while len(self._entries) > self.max_entries or self.size > self.budget_bytes:
            self._entries.popitem(last=False)
            self.evictions += 1
        return True

    def best(self, tokens: Sequence[int]) -> tuple[SavedState, int] | None:
        """The saved state sharing the longest prefix with `tokens` (marked recently used)."""
        found: tuple[SavedState, int] | None = None
        for entry in self._entries.values():
            shared = entry.shared_prefix(tokens)
            if shared > 0 and (found is None or shared > found[1]):
                found = (entry, shared)
        if found is not None:
            self._entries.move_to_end(id(found[0]))
        return found

    def clear(self) -> None:
        self._entries.clear()


class PromptStates:
    """Saves and restores the live context of one `llama_cpp.Llama` (sequence 0)."""

    def __init__(self, llm: Any, lib: Any, budget_bytes: int) -> None:
        self._llm = llm
        self._lib = lib
        self.cache = StateCache(budget_bytes)
        self.stats = CacheStats()

    def save(self) -> SavedState:
        """The live sequence's state (its tokens and KV cells)."""
        started = time.perf_counter()
        llm, ctx = self._llm, self._llm._ctx.ctx
        size = int(self._lib.llama_state_seq_get_size(ctx, 0))
        data = (ctypes.c_uint8 * size)()
        written = int(self._lib.llama_state_seq_get_data(ctx, data, size, 0))
        tokens = np.array(llm.input_ids[: llm.n_tokens], dtype=np.int64)
        self.stats.saves += 1
        self.stats.save_s += time.perf_counter() - started
        self.stats.last_size = written
        return SavedState(tokens, data, written)

    def restore(self, state: SavedState) -> None:
        """Make `state` the live sequence (its tokens become the evaluated ones)."""
        started = time.perf_counter()
        llm = self._llm
        llm._ctx.kv_cache_seq_rm(0, 0, -1)
        if int(self._lib.llama_state_seq_set_data(llm._ctx.ctx, state.data, state.size, 0)) == 0:
            llm.n_tokens = 0
            raise RuntimeError("llama.cpp refused a saved sequence state")
        n = len(state.tokens)
        llm.input_ids[:n] = state.tokens
        llm.n_tokens = n
        self.stats.restores += 1
        self.stats.restore_s += time.perf_counter() - started

    def keep_live(self) -> None:
        """Save the live sequence into the cache unless it is short or already held there."""
        llm = self._llm
        n = int(llm.n_tokens)
        if not self.cache.enabled or n < MIN_SAVED_TOKENS:
            return
        if self.cache.holds(llm.input_ids[:n]):
            return
        self.cache.put(self.save())
        self.stats.evictions = self.cache.evictions

    def switch_to(self, tokens: Sequence[int], live_shared: int) -> None:
        """Before evaluating `tokens`: keep the live state if most of it is about to be thrown
        away, and restore a saved state that shares more of `tokens` than the live one does."""
        if not self.cache.enabled:
            return
        live = int(self._llm.n_tokens)
        if live > 0 and 2 * live_shared >= live:
            return  # the usual keystroke: the live context stays mostly valid
        found = self.cache.best(tokens)
        self.keep_live()
        if found is not None and found[1] >= live_shared + MIN_GAIN_TOKENS:
            self.restore(found[0])
            log.debug("restored a saved state sharing %d of %d tokens", found[1], len(tokens))
