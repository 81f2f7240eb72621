"""Backends stage: the target model's side of speculative decoding (lossless).

`SpeculativeDecoder` advances the target model one chosen token at a time, exactly as the plain
sampling loop does, but when a draft source guesses what follows, the chosen token and the
guesses are evaluated together in one `llama_decode` with logits requested for just those
positions. The sampling loop keeps choosing every token from the target's own logits; a guess
only saves the evaluation when it equals the token chosen there. So the text is the plain loop's
text (up to the float rounding of batched evaluation), stop rules, token healing and
cancellation behave as before, and the KV cache and the backend's record of evaluated tokens
(`input_ids[:n_tokens]`) stay in step: rejected guesses are removed from the KV cache at once.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from copilot_ls.backends.drafting import Draft, DraftPolicy, DraftSource

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    """A drafted token already evaluated, with the logits its position produced."""

    token: int
    position: int
    logits: np.ndarray


@dataclass
class DraftStats:
    """What speculation did in one generation."""

    drafted: int = 0
    """Drafted tokens sent to the target for verification."""
    accepted: int = 0
    """Of those, the ones equal to the token the target chose."""
    batches: int = 0
    """Verification batches evaluated."""


class SpeculativeDecoder:
    """Feeds chosen tokens to a `llama_cpp.Llama`, verifying drafts in one batch when it pays."""

    def __init__(
        self,
        llm: Any,
        lib: Any,
        n_vocab: int,
        sources: Sequence[DraftSource],
        policy: DraftPolicy,
    ) -> None:
        self._llm = llm
        self._lib = lib
        self._n_vocab = n_vocab
        self._sources = list(sources)
        self._policy = policy
        self._n_ctx = int(llm.n_ctx())
        self._max_batch = int(llm.n_batch)
        self._queue: deque[_Pending] = deque()
        self._kind = ""
        self._accepted_in_draft = 0
        self._trust = True
        """Whether trusted drafts are verified on trust: not right after one of this
        generation's drafts was cut short in its first half (the policy decides alone then)."""
        self._row: np.ndarray | None = None
        self._extras: Sequence[Sequence[int]] = ()
        self.history: list[int] = []
        self.stats = DraftStats()

    def start(self, prompt: Sequence[int], extras: Sequence[Sequence[int]] = ()) -> None:
        """The prompt has been evaluated (its last logits are current); drafting may begin."""
        self.history = list(prompt)
        self._extras = extras
        self._queue.clear()
        self._trust = True
        self._row = self._logits_at(-1)
        if self._sources and not self._policy.calibrated:
            self._row = self._row.copy()  # calibrating decodes over the last logits
            self._calibrate()
        for source in self._sources:
            source.begin(self.history, extras)

    def logits(self) -> np.ndarray:
        """Logits for the next token to choose."""
        assert self._row is not None, "start() first"
        return self._row

    def advance(self, token: int, room: int) -> None:
        """`token` was chosen; make the logits of the position after it current.

        `room` is the most tokens still wanted after this one; drafts never exceed it.
        """
        if self._queue:
            head = self._queue[0]
            if head.token == token:  # the guess was right: its logits are already here
                self._queue.popleft()
                self._accepted_in_draft += 1
                self.stats.accepted += 1
                self.history.append(token)
                self._row = head.logits
                return
            self._reject(head.position)
        elif self._kind:
            self._policy.record(self._kind, self._accepted_in_draft, rejected=False)
            self._kind = ""
            self._trust = True
        self.history.append(token)
        draft = self._draft(self._limit(room))
        if draft is None:
            self._step(token)
        else:
            self._verify(token, draft)

    def finish(self) -> None:
        """The generation ended: account for a draft still being consumed."""
        if self._kind:
            self._policy.record(self._kind, self._accepted_in_draft, rejected=False)
            self._kind = ""
        self._queue.clear()

    def suspend(self) -> None:
        """Another job is about to use the model: forget the drafts evaluated ahead of the
        chosen tokens (the KV cache then holds exactly `history`) and keep the current logits."""
        if self._queue:
            position = self._queue[0].position
            self._queue.clear()
            self._llm.n_tokens = position
            self._llm._ctx.kv_cache_seq_rm(0, position, -1)
            self._policy.record(self._kind, self._accepted_in_draft, rejected=False)
            self._kind = ""
        if self._row is not None:
            self._row = self._row.copy()  # the logits buffer is about to be overwritten

    def resume(self) -> None:
        """The KV cache holds `history` again: the draft sources start over from it."""
        for source in self._sources:
            source.begin(self.history, self._extras)

    # -- internals ------------------------------------------------------------------------------

    def _limit(self, room: int) -> int:
        free = self._n_ctx - int(self._llm.n_tokens) - 1  # the chosen token takes one position
        return max(0, min(room, free, self._max_batch - 1))

    def _draft(self, limit: int) -> Draft | None:
        """The first source's draft that the policy finds worth verifying, trimmed to length."""
        if limit <= 0:
            return None
        for source in self._sources:
            cost = source.cost_per_token
            if source.costly:  # ask it only for as many tokens as would pay
                wanted = self._policy.length(source.name, limit, cost)
                if wanted == 0:
                    continue
                draft = source.propose(self.history, wanted)
            else:
                draft = source.propose(self.history, limit)
            if draft is None or not draft.tokens:
                continue
            available = min(limit, len(draft.tokens))
            n = max(
                self._policy.length(draft.kind, available, cost),
                self._policy.trusted_length(
                    draft.kind, available, draft.trusted if self._trust else 0
                ),
            )
            tokens = tuple(t for t in draft.tokens[:n] if 0 <= t < self._n_vocab)
            if len(tokens) == n and n > 0:
                return Draft(tokens, draft.kind)
        return None

    def _reject(self, position: int) -> None:
        """The guess at `position` was wrong: forget it and everything evaluated after it."""
        self._policy.record(self._kind, self._accepted_in_draft, rejected=True)
        drafted = self._accepted_in_draft + len(self._queue)
        self._trust = 2 * self._accepted_in_draft >= drafted
        self._kind = ""
        self._queue.clear()
        self._llm.n_tokens = position
        self._llm._ctx.kv_cache_seq_rm(0, position, -1)

    def _step(self, token: int) -> None:
        started = time.perf_counter()
        self._llm.eval([token])
        self._policy.record_cost(1, time.perf_counter() - started)
        self._row = self._logits_at(-1)

    def _verify(self, token: int, draft: Draft) -> None:
        """Evaluate `token` and the drafted tokens in one batch, logits at every position."""
        llm = self._llm
        batch = [token, *draft.tokens]
        base = int(llm.n_tokens)
        started = time.perf_counter()
        llm._ctx.kv_cache_seq_rm(0, base, -1)
        llm._batch.set_batch(batch=batch, n_past=base, logits_all=True)
        llm._ctx.decode(llm._batch)
        self._policy.record_cost(len(batch), time.perf_counter() - started)
        llm.input_ids[base : base + len(batch)] = batch
        llm.n_tokens = base + len(batch)
        self._row = self._logits_at(0)
        self._queue.extend(
            _Pending(t, base + i, self._logits_at(i)) for i, t in enumerate(draft.tokens, 1)
        )
        self._kind = draft.kind
        self._accepted_in_draft = 0
        self.stats.drafted += len(draft.tokens)
        self.stats.batches += 1

    def _calibrate(self) -> None:
        """Time batches of each size after the prompt once, leaving the KV cache as it was."""
        llm = self._llm
        base = int(llm.n_tokens)
        free = min(self._n_ctx - base - 1, self._max_batch)
        token = int(self.history[-1]) if self.history else 0

        def measure(batch: int) -> float:
            if batch > free:
                return 0.0  # no room: left unmeasured, estimated from the sizes measured
            started = time.perf_counter()
            llm._batch.set_batch(batch=[token] * batch, n_past=base, logits_all=True)
            llm._ctx.decode(llm._batch)
            seconds = time.perf_counter() - started
            llm._ctx.kv_cache_seq_rm(0, base, -1)
            return seconds

        llm._ctx.kv_cache_seq_rm(0, base, -1)
        self._policy.calibrate(measure)
        log.debug("batch costs calibrated after %d tokens", base)

    def _logits_at(self, index: int) -> np.ndarray:
        """A view of the logits of output `index` of the last decode (valid until the next)."""
        ptr = self._lib.llama_get_logits_ith(self._llm._ctx.ctx, index)
        return np.ctypeslib.as_array(ptr, shape=(self._n_vocab,))
