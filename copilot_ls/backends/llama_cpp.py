"""Backends stage: a local GGUF model run in-process by llama-cpp-python.

The sampling loop is ours rather than `Llama.generate`, for three reasons:
- cancellation is checked between prefill chunks and at every token step, so a superseded
  request stops within one step instead of running to the end;
- the evaluated prompt is kept in the KV cache and only the tokens after the longest common
  prefix are evaluated again, so a keystroke costs a few tokens, not a whole prompt;
- token healing: the prompt is backed off to a token boundary before the cursor and the first
  generated tokens are constrained to re-type what was cut.
Logits are read only for the last position of each batch (`logits_all=False`), and for each
drafted position of a speculative verification batch (see speculative.py): speculative decoding
is on by default and leaves the text unchanged.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from typing import Any

import numpy as np

from copilot_ls.backends.base import (
    Backend,
    Generation,
    GenerationRequest,
    Special,
    StopReason,
)
from copilot_ls.backends.draft_model import DraftModel, load_draft_model
from copilot_ls.backends.drafting import DraftPolicy, DraftSource
from copilot_ls.backends.kv_cache import common_prefix, evaluate_reusing_prefix
from copilot_ls.backends.lookup import PromptLookup
from copilot_ls.backends.model_files import ModelFileError, resolve_model_path
from copilot_ls.backends.runner import Resume, preemption_point
from copilot_ls.backends.speculative import SpeculativeDecoder
from copilot_ls.backends.state_cache import PromptStates
from copilot_ls.backends.vocabulary import Vocabulary
from copilot_ls.settings import ModelSettings

log = logging.getLogger(__name__)


LOOKUP_PRIORS = {"*": 0.6, "lookup:8": 0.8, "lookup:12": 0.9, "lookup:16": 0.9, "lookup:24": 0.9}
LOOKUP_PRIORS["lookup:32"] = 0.95
"""Acceptance rates assumed before any draft of a kind was verified (measured on SmolLM2 over
stdlib code: about 0.65 for matches of 2 to 6 tokens, 0.93 to 0.99 from 8 tokens on)."""

CALIBRATION_TEXT = "def calibrate(batch):\n    return batch\n"
"""A prompt to time batches after (`prepare`): any few tokens do."""


class LlamaCppBackend(Backend):
    """One loaded GGUF model with its KV cache; used from one worker thread at a time."""

    def __init__(self, settings: ModelSettings) -> None:
        import llama_cpp  # deferred: loading the shared library takes a moment

        self._lib = llama_cpp
        self.path = resolve_model_path(settings.path)
        threads = settings.n_threads or os.cpu_count() or 1
        context: dict[str, Any] = dict(
            n_ctx=settings.n_ctx,
            n_batch=settings.n_batch,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=settings.n_gpu_layers,
        )
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(self.path), logits_all=False, verbose=False, **context
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(
                f"llama.cpp could not load {self.path} ({exc}): the file may be truncated or "
                "of an architecture this llama.cpp does not know; set `copilotLs.model.path` "
                "to another GGUF file"
            ) from exc
        self.name = str(self._llm.metadata.get("general.name") or self.path.stem)
        self.n_ctx = self._llm.n_ctx()
        self._vocab_ptr = self._llm._model.vocab
        self.n_vocab = self._llm.n_vocab()
        self._pieces = [self._piece(i) for i in range(self.n_vocab)]
        self._stop_ids = np.array(
            [i for i in range(self.n_vocab) if self._is_stop_token(i)], dtype=np.int64
        )
        self._stop_set = set(self._stop_ids.tolist())
        self._specials = {
            self._llm._model.token_get_text(i): i
            for i in range(self.n_vocab)
            if self._is_special(i)
        }
        self._vocabulary: Vocabulary | None = None
        self._add_bos = bool(self._lib.llama_vocab_get_add_bos(self._vocab_ptr))
        self._rng = np.random.default_rng(0)
        self._lookup = PromptLookup()
        self._draft_model: DraftModel | None = None
        if settings.draft_path:
            try:
                self._draft_model = load_draft_model(
                    settings.draft_path, self._llm, str(self.path), context
                )
            except ModelFileError:
                self._llm.close()
                raise
        self.policy = DraftPolicy(LOOKUP_PRIORS)
        """Batch costs and acceptance rates, learned across generations."""
        self.states = PromptStates(self._llm, llama_cpp, settings.state_cache_mib << 20)
        """Evaluated states of recent prompts (other files), restored when they are worth it."""
        log.info(
            "loaded %s (%s tokens, n_ctx %s, %s threads)",
            self.path,
            self.n_vocab,
            self.n_ctx,
            threads,
        )

    # -- vocabulary ------------------------------------------------------------------------

    def _piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = self._lib.llama_token_to_piece(self._vocab_ptr, token, buf, 64, 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self._lib.llama_token_to_piece(self._vocab_ptr, token, buf, -n, 0, False)
        return buf.raw[:n]

    def _is_special(self, token: int) -> bool:
        """Control and user-defined tokens: the ones a FIM marker can be."""
        attr = int(self._lib.llama_vocab_get_attr(self._vocab_ptr, token))
        marker_bits = self._lib.LLAMA_TOKEN_ATTR_CONTROL | self._lib.LLAMA_TOKEN_ATTR_USER_DEFINED
        return bool(attr & marker_bits)

    def _is_stop_token(self, token: int) -> bool:
        """End-of-generation tokens, and any control token (a FIM marker is never code)."""
        return bool(self._lib.llama_vocab_is_eog(self._vocab_ptr, token)) or bool(
            self._lib.llama_vocab_is_control(self._vocab_ptr, token)
        )

    def has_special(self, text: str) -> bool:
        return text in self._specials

    def special_id(self, text: str) -> int:
        return self._specials[text]

    def tokenize(self, text: str) -> list[int]:
        if not text:
            return []
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def detokenize(self, tokens: list[int]) -> str:
        return b"".join(self._pieces[t] for t in tokens).decode("utf-8", errors="replace")

    @property
    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            self._vocabulary = Vocabulary(self._pieces)
        return self._vocabulary

    # -- prompt ------------------------------------------------------------------------------

    def build_tokens(self, request: GenerationRequest) -> tuple[list[int], bytes]:
        """Prompt tokens, and the bytes backed off the cursor part for token healing."""
        tokens: list[int] = []
        if request.add_bos and self._add_bos:
            tokens.append(int(self._llm.token_bos()))
        heal = b""
        for index, part in enumerate(request.parts):
            if isinstance(part, Special):
                tokens.append(self._specials[part.text])
                continue
            ids = self.tokenize(part)
            if index == request.cursor_part and request.token_healing and len(ids) > 1:
                heal = self._pieces[ids[-1]]
                ids = ids[:-1]
            tokens.extend(ids)
        return tokens, heal

    def render(self, request: GenerationRequest) -> str:
        return "".join(p.text if isinstance(p, Special) else p for p in request.parts)

    # -- evaluation --------------------------------------------------------------------------

    def _prefill(self, tokens: list[int], cancel: threading.Event) -> int:
        """Evaluate `tokens`, keeping the KV state of the longest prefix already evaluated
        (live, or saved for another file); more urgent jobs may run between chunks."""
        self.states.switch_to(tokens, common_prefix(self._llm, tokens))
        return evaluate_reusing_prefix(
            self._llm, tokens, cancel, lambda: preemption_point(self._suspend_prefill)
        )

    def _suspend_prefill(self) -> Resume:
        """A more urgent job is about to run: save the part of the prompt evaluated so far."""
        saved = self.states.save()
        self.states.cache.put(saved)  # the urgent job's prefill need not save it again
        return lambda: self.states.restore(saved)

    def _suspend_decoding(self, decoder: SpeculativeDecoder, cancel: threading.Event) -> Resume:
        """A more urgent job is about to run: save the KV state and logits of this generation,
        so that it goes on afterwards exactly as if it had not been interrupted."""
        decoder.suspend()
        saved = self.states.save()
        self.states.cache.put(saved)  # the urgent job's prefill need not save it again

        def resume() -> None:
            self.states.restore(saved)
            if self._draft_model is not None:
                self._draft_model.bind(cancel)
            decoder.resume()

        return resume

    def _choose(self, logits: np.ndarray, allowed: list[int] | None, temperature: float) -> int:
        if allowed is not None:
            ids = np.asarray(allowed, dtype=np.int64)
            return int(ids[int(np.argmax(logits[ids]))])
        if temperature <= 0:
            return int(np.argmax(logits))
        top = np.argpartition(logits, -40)[-40:]
        scaled = logits[top].astype(np.float64) / temperature
        probs = np.exp(scaled - scaled.max())
        return int(top[self._rng.choice(len(top), p=probs / probs.sum())])

    def generate(self, request: GenerationRequest, cancel: threading.Event) -> Generation:
        started = time.perf_counter()
        tokens, heal = self.build_tokens(request)
        if not tokens:
            tokens = [int(self._llm.token_bos())]
        budget = self.n_ctx - len(tokens) - 1
        if budget <= 0:
            raise ValueError(
                f"prompt of {len(tokens)} tokens does not fit the context of {self.n_ctx}: "
                "lower `copilotLs.completion.maxPromptTokens` or raise `copilotLs.model.nCtx`"
            )
        max_tokens = min(request.max_tokens + (1 if heal else 0), budget)
        reused = self._prefill(tokens, cancel)
        prefill_done = time.perf_counter()
        decoder = SpeculativeDecoder(
            self._llm, self._lib, self.n_vocab, self._sources(request, cancel), self.policy
        )
        decoder.start(tokens, [self.tokenize(text) for text in request.extra_sources])
        text, reason, chosen = self._sample(request, decoder, heal, max_tokens, cancel)
        decoder.finish()
        finished = time.perf_counter()
        return Generation(
            text=text,
            stop_reason=reason,
            prompt_tokens=len(tokens),
            reused_tokens=reused,
            generated_tokens=len(chosen),
            token_ids=chosen,
            healed=heal.decode("utf-8", errors="replace"),
            prefill_s=prefill_done - started,
            decode_s=finished - prefill_done,
            prompt_text=self.render(request),
            drafted_tokens=decoder.stats.drafted,
            accepted_tokens=decoder.stats.accepted,
            draft_batches=decoder.stats.batches,
        )

    def _sources(self, request: GenerationRequest, cancel: threading.Event) -> list[DraftSource]:
        """The draft sources `request.speculative` asks for, in the order they are tried."""
        sources: list[DraftSource] = []
        if request.speculative in ("auto", "lookup"):
            sources.append(self._lookup)
        if request.speculative in ("auto", "draft") and self._draft_model is not None:
            self._draft_model.bind(cancel)
            sources.append(self._draft_model)
        return sources

    def _sample(
        self,
        request: GenerationRequest,
        decoder: SpeculativeDecoder,
        heal: bytes,
        max_tokens: int,
        cancel: threading.Event,
    ) -> tuple[str, StopReason, list[int]]:
        """Choose tokens until a stop: the text (from the cursor), why it stopped, the tokens."""
        out = bytearray()
        remaining = heal
        reason: StopReason = "length"
        text = ""
        chosen: list[int] = []
        while len(chosen) < max_tokens:
            if cancel.is_set():
                break
            preemption_point(lambda: self._suspend_decoding(decoder, cancel))
            if cancel.is_set():
                break
            allowed = self.vocabulary.compatible(remaining) if remaining else None
            token = self._choose(decoder.logits(), allowed or None, request.temperature)
            if token in self._stop_set:
                reason = "eos"
                break
            chosen.append(token)
            piece = self._pieces[token]
            out += piece
            if remaining:
                remaining = remaining[len(piece) :] if remaining.startswith(piece) else b""
            text = bytes(out[len(heal) :]).decode("utf-8", errors="ignore") if not remaining else ""
            if not remaining and request.stop is not None and request.stop(text):
                reason = "stop"
                break
            if len(chosen) >= max_tokens:
                break
            decoder.advance(token, max_tokens - len(chosen) - 1)
        return text, "cancelled" if cancel.is_set() else reason, chosen

    def prepare(self, speculative: bool) -> None:
        """Measure the batch costs speculative decoding weighs drafts with (about 40 one-token
        steps' worth), so that the first completion does not pay for it."""
        if speculative and not self.policy.calibrated:
            request = GenerationRequest(
                parts=(CALIBRATION_TEXT,), max_tokens=1, token_healing=False, speculative="lookup"
            )
            self.generate(request, threading.Event())

    def forget(self) -> None:
        """No saved prompt states, and an empty context: the next prompt is evaluated whole."""
        self.states.cache.clear()
        self._llm.reset()

    def chat_template(self) -> str | None:
        """GGUF metadata `tokenizer.chat_template` (for code actions; not used by completions)."""
        template = self._llm.metadata.get("tokenizer.chat_template")
        return str(template) if template else None

    def close(self) -> None:
        if self._draft_model is not None:
            self._draft_model.close()
        self._llm.close()
