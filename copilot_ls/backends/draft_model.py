"""Backends stage: a small GGUF model that drafts tokens for a larger one (`model.draftPath`).

The draft model runs greedily in its own llama.cpp context, next to the target: it keeps its own
KV cache and evaluates only what changed since its last draft (the tokens the target accepted),
then guesses up to k tokens one step at a time. Its guesses are token ids of the target, so the
two vocabularies must agree; `check_same_vocabulary` refuses a pair that does not, saying which
token differs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from copilot_ls.backends.drafting import Draft, DraftSource
from copilot_ls.backends.kv_cache import common_prefix, evaluate_reusing_prefix
from copilot_ls.backends.model_files import ModelFileError

log = logging.getLogger(__name__)

MAX_VOCAB_DIFFERENCE = 128
"""Vocabulary sizes may differ by this much (padding), like llama.cpp's own speculative check."""
SAMPLED_TOKENS = 2048
"""Token texts compared between the two vocabularies (all of them for small ones)."""
COST_DECAY = 0.8
CATCH_UP_TIMED = 32
"""Tokens the draft model may be behind and still have their evaluation counted in its cost
per drafted token (the tokens accepted since its last draft); more is a prompt to read."""


def check_same_vocabulary(target: Any, draft: Any, target_name: str, draft_path: Path) -> None:
    """Raise `ModelFileError` unless `draft` (a `Llama`) can draft token ids for `target`."""

    def refuse(reason: str) -> None:
        raise ModelFileError(
            f"draft model {draft_path} does not share the vocabulary of {target_name} "
            f"({reason}): set `copilotLs.model.draftPath` to a smaller model of the same "
            "family as `copilotLs.model.path`, or leave it empty to draft from the prompt only"
        )

    n_target, n_draft = target.n_vocab(), draft.n_vocab()
    if abs(n_target - n_draft) > MAX_VOCAB_DIFFERENCE:
        refuse(f"{n_draft} tokens against {n_target}")
    if target._model.vocab_type() != draft._model.vocab_type():
        refuse("different tokenizer types")
    shared = min(n_target, n_draft)
    stride = max(1, shared // SAMPLED_TOKENS)
    ids = sorted({*range(0, shared, stride), *range(min(shared, 256)), shared - 1})
    ids += [i for i in (target.token_bos(), target.token_eos()) if 0 <= i < shared]
    for i in ids:
        ours, theirs = target._model.token_get_text(i), draft._model.token_get_text(i)
        if ours != theirs:
            refuse(f"token {i} is {ours!r} in the target and {theirs!r} in the draft model")
    if (target.token_bos(), target.token_eos()) != (draft.token_bos(), draft.token_eos()):
        refuse("different BOS/EOS tokens")


class DraftModel(DraftSource):
    """Greedy drafts from a second, smaller GGUF model with its own KV cache."""

    name = "model"
    costly = True

    def __init__(self, llm: Any, lib: Any) -> None:
        self._llm = llm
        self._lib = lib
        self._n_vocab = int(llm.n_vocab())
        self.cost_per_token = 0.0
        self._cancel: threading.Event | None = None

    def bind(self, cancel: threading.Event) -> None:
        """The cancel flag of the generation about to start (checked while catching up)."""
        self._cancel = cancel

    def begin(self, prompt: Sequence[int], extras: Sequence[Sequence[int]] = ()) -> None:
        """Nothing to do yet: the prompt is evaluated by the first draft asked for, so a
        generation the policy never drafts for costs the draft model nothing."""

    def propose(self, history: Sequence[int], limit: int) -> Draft | None:
        if limit <= 0 or not history:
            return None
        if self._cancel is not None and self._cancel.is_set():
            return None
        llm = self._llm
        if len(history) + limit >= llm.n_ctx():
            return None
        behind = len(history) - common_prefix(llm, history)
        if behind > CATCH_UP_TIMED:  # the prompt, first time: not a cost of drafting itself
            evaluate_reusing_prefix(llm, history, self._cancel)
            if self._cancel is not None and self._cancel.is_set():
                return None
        started = time.perf_counter()
        evaluate_reusing_prefix(llm, history)
        guess: list[int] = []
        while True:
            ptr = self._lib.llama_get_logits_ith(llm._ctx.ctx, -1)
            token = int(np.argmax(np.ctypeslib.as_array(ptr, shape=(self._n_vocab,))))
            guess.append(token)
            if len(guess) >= limit:
                break
            llm.eval([token])
        seconds = (time.perf_counter() - started) / len(guess)
        self.cost_per_token = (
            seconds
            if self.cost_per_token == 0
            else COST_DECAY * self.cost_per_token + (1 - COST_DECAY) * seconds
        )
        return Draft(tuple(guess), self.name)

    def close(self) -> None:
        self._llm.close()


def load_draft_model(
    path: str, target: Any, target_name: str, llama_kwargs: dict[str, Any]
) -> DraftModel:
    """Load the draft model at `path` with the target's context settings; check its vocabulary."""
    import llama_cpp

    from copilot_ls.backends.model_files import resolve_model_path

    try:
        resolved = resolve_model_path(path)
    except ModelFileError as exc:
        raise ModelFileError(
            f"draft model: {exc}".replace("model.path", "model.draftPath")
        ) from exc
    try:
        llm = llama_cpp.Llama(
            model_path=str(resolved), logits_all=False, verbose=False, **llama_kwargs
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelFileError(
            f"llama.cpp could not load the draft model {resolved} ({exc}): set "
            "`copilotLs.model.draftPath` to another GGUF file, or leave it empty"
        ) from exc
    try:
        check_same_vocabulary(target, llm, target_name, resolved)
    except ModelFileError:
        llm.close()
        raise
    log.info("draft model %s loaded", resolved)
    return DraftModel(llm, llama_cpp)
