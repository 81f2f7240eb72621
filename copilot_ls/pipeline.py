"""The data path in order: the only module that knows it.

editor request -> context (cursor window) -> prompts (FIM template) -> backends (model)
-> postprocess (filters) -> text for the editor. Used alike by the language server's handlers
and by the one-shot CLI, so `copilot-ls complete` shows exactly what an editor would get.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from copilot_ls.backends.base import Backend, Cancelled, Generation, GenerationRequest
from copilot_ls.backends.runner import ModelRunner
from copilot_ls.context.recent import RecentDocuments
from copilot_ls.context.render import NO_CONTEXT, RenderedContext, render
from copilot_ls.context.retrieval import ContextQuery, ContextRetriever
from copilot_ls.context.selection import ContextItem
from copilot_ls.context.window import CursorWindow, LineTokenCounter, build_window
from copilot_ls.index.store import SymbolIndex
from copilot_ls.postprocess.filters import (
    Mode,
    Surroundings,
    choose_mode,
    clean_completion,
    cut_repetition,
    cut_to_block,
)
from copilot_ls.prompts.fim import (
    PREFIX_ONLY,
    FimTemplate,
    RepoLayout,
    detect_template,
    repo_layout,
)
from copilot_ls.settings import Settings

log = logging.getLogger(__name__)

CONTEXT_MARGIN = 16
"""Tokens of the context window kept free beyond prompt and generation."""
TRIM_SUFFIX_TOKENS = 128
"""Text after the cursor read to trim answers, when the prompt itself does not include it."""


@dataclass(frozen=True)
class CompletionRequest:
    """A document's text and the cursor as a character offset into it."""

    uri: str
    text: str
    offset: int


@dataclass
class CompletionResult:
    """What the pipeline decided, with everything needed to explain it."""

    text: str | None
    """The completion starting exactly at the cursor; None when nothing is worth showing."""
    mode: Mode
    template: str
    raw: str = ""
    """The model's text before post-processing."""
    prompt: str = ""
    generation: Generation | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    context: tuple[ContextItem, ...] = ()
    """What the model saw from beyond the window, and why (kind, score, name)."""


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
    ) -> None:
        self._runner = runner
        self._settings = settings
        self._index = index
        self._root = root
        self._recent = recent
        self._retriever = ContextRetriever(index, recent)
        self._facts: dict[tuple[int, bool], _ModelFacts] = {}
        self._inflight: dict[str, threading.Event] = {}
        self.last: CompletionResult | None = None

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
        """Complete at the cursor. Raises `Cancelled` when superseded or cancelled."""
        cancel = self.supersede(request.uri)
        started = time.perf_counter()
        try:
            result = await self._runner.call(lambda b: self._run(b, request, cancel), cancel)
        finally:
            if self._inflight.get(request.uri) is cancel:
                del self._inflight[request.uri]
        result.seconds = time.perf_counter() - started
        self.last = result
        return result

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
            layout = facts.repo
            above = window.prefix[: window.prefix.rfind("\n") + 1].removesuffix("\n")
            cursor_line = window.prefix_start_line + window.prefix.count("\n")
            query = ContextQuery(
                path=path,
                text=request.text,
                cursor_line=cursor_line,
                window_start=window.prefix_start_line,
                window_end=cursor_line + window.suffix.count("\n") + 1,
                above=above,
                budget=budget,
                line_overhead=1,
                root=root,
            )
            selection = self._retriever.select(query, facts.count_line)
            return render(selection, path, root, layout, backend.count_tokens)
        except Exception:  # context is a help: a failure costs the context, not the completion
            log.exception("cross-file context failed; completing without it")
            return NO_CONTEXT

    def _run(
        self, backend: Backend, request: CompletionRequest, cancel: threading.Event
    ) -> CompletionResult:
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
        generation = backend.generate(
            GenerationRequest(
                parts=fim.parts,
                cursor_part=fim.cursor_part,
                max_tokens=settings.max_tokens_single_line if mode == "single" else max_tokens,
                token_healing=settings.token_healing,
                temperature=settings.temperature,
                stop=_early_stop(where),
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
            prompt=generation.prompt_text,
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


def _path_of(uri: str) -> str:
    return unquote(urlparse(uri).path)


def _early_stop(where: Surroundings) -> Callable[[str], bool]:
    """Stop generating as soon as the post-processors would cut the rest anyway."""

    def single(text: str) -> bool:
        return "\n" in text

    def multi(text: str) -> bool:
        if "\n" not in text:
            return False
        complete = text[: text.rfind("\n")]
        lines = complete.count("\n") + 1
        if lines < 2:
            return False
        kept = cut_to_block(complete, where) or ""
        kept = cut_repetition(kept, where) or ""
        return kept.count("\n") + 1 < lines

    return single if where.mode == "single" else multi
