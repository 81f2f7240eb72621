"""The data path in order: the only module that knows it.

editor request -> cache (typed_ahead) -> context (cursor window) -> prompts (FIM template)
-> backends (model) -> postprocess (filters) -> text for the editor. Used alike by the language
server's handlers and by the one-shot CLI, so `copilot-ls complete` shows exactly what an editor
would get.

Before the model, recent results are looked up by the text around the cursor: the same context
or typing the start of a suggestion is answered at once. After a multi-line suggestion, the
server's pipeline computes in the background, at prefetch priority, the completion that follows
it as if it were accepted; any real request that needs the model cancels that work first.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from copilot_ls.backends.base import (
    Backend,
    Cancelled,
    GenerationRequest,
    PromptPart,
    Special,
)
from copilot_ls.backends.runner import ModelRunner, Priority
from copilot_ls.context.recent import RecentDocuments
from copilot_ls.context.render import NO_CONTEXT, RenderedContext, render
from copilot_ls.context.retrieval import ContextQuery, ContextRetriever
from copilot_ls.context.window import CursorWindow, LineTokenCounter, build_window
from copilot_ls.index.store import SymbolIndex
from copilot_ls.postprocess.filters import (
    Surroundings,
    choose_mode,
    clean_completion,
    early_stop,
)
from copilot_ls.prompts.fim import (
    PREFIX_ONLY,
    FimTemplate,
    RepoLayout,
    detect_template,
    repo_layout,
)
from copilot_ls.results import CompletionRequest, CompletionResult, served
from copilot_ls.settings import Settings
from copilot_ls.typed_ahead import ContextKey, Prefetches, TypedAheadCache, context_key

log = logging.getLogger(__name__)

CONTEXT_MARGIN = 16
"""Tokens of the context window kept free beyond prompt and generation."""
TRIM_SUFFIX_TOKENS = 128
"""Text after the cursor read to trim answers, when the prompt itself does not include it."""


@dataclass
class _ModelFacts:
    template: FimTemplate
    count_line: LineTokenCounter
    n_ctx: int
    repo: RepoLayout | None = None
    """The repo-level layout of the template, when the vocabulary has its tokens."""


class CompletionPipeline:
    """Runs completions for every document against one model runner."""

    def __init__(
        self,
        runner: ModelRunner,
        settings: Callable[[], Settings],
        index: Callable[[], SymbolIndex] | None = None,
        root: Callable[[], str | None] | None = None,
        recent: Callable[[], RecentDocuments] | None = None,
        *,
        prefetch: bool = False,
    ) -> None:
        """`prefetch`: run background prefetches when `completion.prefetch` allows (the server
        does; one-shot callers, which never ask twice, do not)."""
        self._runner = runner
        self._settings = settings
        self._index = index
        self._root = root
        self._recent = recent
        self._retriever = ContextRetriever(index, recent)
        self._facts: dict[tuple[int, bool], _ModelFacts] = {}
        self._inflight: dict[str, threading.Event] = {}
        self.last: CompletionResult | None = None
        self._cache: TypedAheadCache[CompletionResult] = TypedAheadCache()
        self._prefetch_on = prefetch
        self._prefetches = Prefetches()
        self.stats: Counter[str] = Counter()
        """Requests answered by the model, by each kind of cache hit, and prefetch outcomes."""

    def _model_facts(self, backend: Backend) -> _ModelFacts:
        fim_on = self._settings().completion.fim == "auto"
        key = (id(backend), fim_on)
        facts = self._facts.get(key)
        if facts is None:
            template = detect_template(backend.has_special) if fim_on else PREFIX_ONLY
            n_ctx = int(getattr(backend, "n_ctx", self._settings().model.n_ctx))
            facts = _ModelFacts(
                template,
                LineTokenCounter(backend.count_tokens),
                n_ctx,
                repo_layout(template, backend.has_special),
            )
            self._facts = {key: facts}
            log.info("model %s: FIM template %s", backend.name, template.family)
        return facts

    def supersede(self, uri: str) -> threading.Event:
        """A new cancel flag for `uri`, setting the previous one: older requests stop."""
        previous = self._inflight.get(uri)
        if previous is not None:
            previous.set()
        flag = threading.Event()
        self._inflight[uri] = flag
        return flag

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        """Complete at the cursor, from the cache when it can. Raises `Cancelled` when
        superseded or cancelled."""
        started = time.perf_counter()
        settings = self._settings()
        key = self._cache_key(settings, request)
        result = None
        if key is not None:
            result = self._cached(key, request.uri, started)
            if result is None and key in self._prefetches:
                result = await self._await_prefetch(key, request.uri, started)
        if result is None:
            result = await self._from_model(request, key)
        result.seconds = time.perf_counter() - started
        self.last = result
        if key is not None:
            self._schedule_prefetch(settings, request, result)
        return result

    def _cache_key(self, settings: Settings, request: CompletionRequest) -> ContextKey | None:
        """The request's cache key; None with the cache off. Other settings, other results:
        a settings change empties the cache and stops the prefetches."""
        if not settings.completion.cache:
            return None
        version = self._cache.version
        self._cache.made_with((settings.model, settings.completion))
        if self._cache.version != version:
            self._cancel_prefetches()
        return context_key(request.uri, request.text, request.offset)

    def _cached(self, key: ContextKey, uri: str, started: float) -> CompletionResult | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        older = self._inflight.pop(uri, None)  # answered without the model: older ones are stale
        if older is not None:
            older.set()
        result = served(hit, started)
        self.stats[result.cached or "exact"] += 1
        return result

    async def _await_prefetch(
        self, key: ContextKey, uri: str, started: float
    ) -> CompletionResult | None:
        """The running prefetch computes this very request: wait for it instead of starting
        again. None when it was stopped (the caller then asks the model)."""
        task = self._prefetches.task(key)
        cancel = self.supersede(uri)
        try:
            if task is not None:
                await asyncio.wait({task})
        finally:
            if self._inflight.get(uri) is cancel:
                del self._inflight[uri]
        if cancel.is_set():
            raise Cancelled("superseded while waiting for the prefetch")
        return self._cached(key, uri, started)

    async def _from_model(
        self, request: CompletionRequest, key: ContextKey | None
    ) -> CompletionResult:
        cancel = self.supersede(request.uri)
        # The model thread is needed now: speculative work would only delay this request and
        # move the KV cache away from the document being typed in.
        self._cancel_prefetches()
        version = self._cache.version
        self.stats["model"] += 1
        try:
            result = await self._runner.call(lambda b: self._run(b, request, cancel), cancel)
        finally:
            if self._inflight.get(request.uri) is cancel:
                del self._inflight[request.uri]
        if key is not None:
            self._cache.put(key, request.text[: request.offset], result.text, result, version)
        return result

    def _schedule_prefetch(
        self, settings: Settings, request: CompletionRequest, result: CompletionResult
    ) -> None:
        """Start computing, in the background, the completion after `result` accepted: the
        document with its text inserted and the cursor after it. One level: a prefetch never
        starts another."""
        completion = settings.completion
        if not (self._prefetch_on and completion.prefetch and completion.enable):
            return
        if not result.text or result.mode != "multi":
            return  # a one-line answer ends before text on its line: nothing follows it
        at = request.offset
        text = request.text[:at] + result.text + request.text[at:]
        accepted = CompletionRequest(request.uri, text, at + len(result.text))
        key = context_key(accepted.uri, accepted.text, accepted.offset)
        if key in self._cache or key in self._prefetches:
            return
        version = self._cache.version

        def store(found: CompletionResult | None) -> None:
            if found is None:
                self.stats["prefetch_skipped"] += 1
                return
            found.cached = "prefetch"
            self._cache.put(key, text[: accepted.offset], found.text, found, version)
            self.stats["prefetch_stored"] += 1

        self._prefetches.start(key, lambda flag: self._prefetch(accepted, result, flag), store)
        self.stats["prefetch_started"] += 1

    async def _prefetch(
        self, request: CompletionRequest, shown: CompletionResult, flag: threading.Event
    ) -> CompletionResult | None:
        """The completion for `request`, or None when its prompt does not extend the prompt of
        the suggestion `shown`: evaluating it would cost a whole prompt now, and the next
        keystroke's request another, the KV cache holding this one."""
        try:
            return await self._runner.call(
                lambda b: self._run(b, request, flag, extends=shown.prompt),
                flag,
                priority=Priority.PREFETCH,
            )
        except _PromptMoved:
            return None

    def _cancel_prefetches(self) -> None:
        self.stats["prefetch_cancelled"] += self._prefetches.cancel_all()

    def _cross_file_context(
        self,
        backend: Backend,
        facts: _ModelFacts,
        request: CompletionRequest,
        window: CursorWindow,
        budget: int,
    ) -> RenderedContext:
        """What the model sees beyond the window; empty when off, when nothing relevant is
        found, or when retrieval fails."""
        if budget <= 0 or (self._index is None and self._recent is None):
            return NO_CONTEXT
        try:
            path = _path_of(request.uri)
            root = self._root() if self._root else None
            query = ContextQuery.around(path, request.text, window, budget, root)
            selection = self._retriever.select(query, facts.count_line)
            return render(selection, path, root, facts.repo, backend.count_tokens)
        except Exception:  # context is a help: a failure costs the context, not the completion
            log.exception("cross-file context failed; completing without it")
            return NO_CONTEXT

    def _run(
        self,
        backend: Backend,
        request: CompletionRequest,
        cancel: threading.Event,
        extends: str | None = None,
    ) -> CompletionResult:
        """Complete `request` on the model thread; with `extends`, only if the prompt starts
        with that text (raises `_PromptMoved` otherwise, before the model runs)."""
        settings = self._settings().completion
        facts = self._model_facts(backend)
        template = facts.template
        max_tokens = settings.max_tokens
        room = facts.n_ctx - max_tokens - CONTEXT_MARGIN
        budget = max(64, min(settings.max_prompt_tokens, room))
        suffix_budget = int(budget * settings.suffix_ratio) if template.markers else 0
        # The context comes on top of the window, within the model's context size: giving it
        # window lines instead costs the model the code it needs most, the code it is in.
        context_budget = max(0, min(settings.context_tokens, room - budget))

        def window_for(prefix_budget: int) -> CursorWindow:
            return build_window(
                request.text,
                request.offset,
                facts.count_line,
                prefix_budget=prefix_budget,
                # A prefix-only prompt leaves the suffix out, but post-processing still reads it.
                suffix_budget=suffix_budget if template.markers else TRIM_SUFFIX_TOKENS,
            )

        window = window_for(budget - suffix_budget)
        context = self._cross_file_context(backend, facts, request, window, context_budget)
        mode = choose_mode(window.cursor_line_suffix, settings.multiline)
        where = Surroundings(
            line_prefix=window.cursor_line_prefix,
            line_suffix=window.cursor_line_suffix,
            suffix=window.suffix,
            mode=mode,
        )
        fim = context.prompt(template, window.prefix, window.suffix if template.markers else "")
        if extends is not None and not _rendered(fim.parts).startswith(extends):
            raise _PromptMoved(f"{request.uri}: the prompt no longer starts as before")
        generation = backend.generate(
            GenerationRequest(
                parts=fim.parts,
                cursor_part=fim.cursor_part,
                max_tokens=settings.max_tokens_single_line if mode == "single" else max_tokens,
                token_healing=settings.token_healing,
                temperature=settings.temperature,
                stop=early_stop(where),
                speculative=settings.speculative,
            ),
            cancel,
        )
        if generation.stop_reason == "cancelled":
            raise Cancelled("superseded or cancelled during generation")
        text = clean_completion(generation.text, where)
        log.debug(
            "completion at %s:%s -> %r (raw %r)", request.uri, request.offset, text, generation.text
        )
        return CompletionResult(
            text=text,
            mode=mode,
            template=template.family,
            raw=generation.text,
            prompt=generation.prompt_text or _rendered(fim.parts),
            generation=generation,
            context=context.items,
            timings={
                "prefill_s": generation.prefill_s,
                "decode_s": generation.decode_s,
                "prompt_tokens": generation.prompt_tokens,
                "reused_tokens": generation.reused_tokens,
                "generated_tokens": generation.generated_tokens,
                "drafted_tokens": generation.drafted_tokens,
                "accepted_tokens": generation.accepted_tokens,
            },
        )


class _PromptMoved(Exception):
    """A prefetch's prompt does not extend the previous prompt (the window or context moved)."""


def _rendered(parts: tuple[PromptPart, ...]) -> str:
    """The prompt as text, special tokens written out (as `Generation.prompt_text`)."""
    return "".join(part.text if isinstance(part, Special) else part for part in parts)


def _path_of(uri: str) -> str:
    return unquote(urlparse(uri).path)
