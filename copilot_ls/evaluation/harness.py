"""Evaluation stage: complete every masked line twice, with and without cross-file context.

Both arms go through `CompletionPipeline`, the path an editor's request takes, on one model
runner (the model is loaded once), with the same settings except `completion.contextTokens`,
which is 0 in the arm without context. While a site is evaluated the index holds the masked
document for its file, as it would hold an editor's buffer, so nothing reads the hidden line
back. The arms take turns going first, so that whatever the model's KV cache keeps from one
request to the next favours neither; with `fresh`, the model keeps nothing between requests
and a run repeats exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from copilot_ls.backends.runner import ModelRunner
from copilot_ls.evaluation.metrics import (
    ArmSummary,
    Attempt,
    NameRecall,
    name_recall,
    paired_interval,
    score,
    summarize,
)
from copilot_ls.evaluation.sites import MaskSite, SiteMode, mask
from copilot_ls.index.extract import extract_text
from copilot_ls.index.store import SymbolIndex
from copilot_ls.pipeline import CompletionPipeline
from copilot_ls.results import CompletionRequest
from copilot_ls.settings import Settings

WARM_UP_URI = "file:///copilot-ls-eval/warm_up.py"
WARM_UP_TEXT = "def warm_up():\n    "

Progress = Callable[[int, int, MaskSite], None]
"""Called before each site with (sites done, sites in all, the site)."""


@dataclass(frozen=True)
class SiteOutcome:
    site: MaskSite
    with_context: Attempt
    without_context: Attempt
    context_used: bool
    """The prompt with context differed from the one without: retrieval found something."""
    names: NameRecall = field(default_factory=NameRecall)
    """Where the prompts showed the masked line's cross-file names."""


@dataclass
class EvalRun:
    """Everything a report needs: what was evaluated, how, and the outcomes."""

    root: str
    mode: SiteMode
    seed: int
    requested: int
    eligible: int
    files_indexed: int
    files_scanned: int
    model: str
    settings: Settings
    """The settings of the arm with context (the other differs only by contextTokens=0)."""
    outcomes: list[SiteOutcome]
    index_seconds: float = 0.0
    seconds: float = 0.0
    fresh: bool = False
    """Every completion started from a fresh model state (see `ContextEvaluation`)."""

    def summary(self, arm: str) -> ArmSummary:
        """`arm` is `with_context` or `without_context`."""
        return summarize([getattr(o, arm) for o in self.outcomes])

    def comparison(self) -> dict[str, int]:
        """Sites where one arm's edit similarity beats the other's, and ties."""
        pairs = [(o.with_context.similarity, o.without_context.similarity) for o in self.outcomes]
        better = sum(with_ > without for with_, without in pairs)
        worse = sum(with_ < without for with_, without in pairs)
        return {"with_better": better, "without_better": worse, "same": len(pairs) - better - worse}

    def similarity_interval(self) -> tuple[float, float]:
        """95 % bootstrap interval of the edit similarity gained with context, per site."""
        return paired_interval(
            [o.with_context.similarity - o.without_context.similarity for o in self.outcomes],
            seed=self.seed,
        )

    def context_used(self) -> int:
        """Sites where retrieval put something in the prompt."""
        return sum(o.context_used for o in self.outcomes)

    def recall(self) -> dict[str, int]:
        """Context recall over the sites: the cross-file names of masked lines that the window
        did not show, how many of them the context showed, and the same counted in sites
        (a site counts as supplied when the context showed all of its names the window lacked)."""
        lacking = [o.names for o in self.outcomes if o.names.from_context or o.names.missing]
        return {
            "names": sum(
                len(o.names.in_window) + len(o.names.from_context) + len(o.names.missing)
                for o in self.outcomes
            ),
            "names_in_window": sum(len(o.names.in_window) for o in self.outcomes),
            "names_outside_window": sum(len(r.from_context) + len(r.missing) for r in lacking),
            "names_from_context": sum(len(r.from_context) for r in lacking),
            "sites_lacking_names": len(lacking),
            "sites_supplied": sum(1 for r in lacking if not r.missing),
            "sites_partly_supplied": sum(1 for r in lacking if r.missing and r.from_context),
        }


def without_context(settings: Settings) -> Settings:
    """The same settings with cross-file context turned off."""
    return dataclasses.replace(
        settings, completion=dataclasses.replace(settings.completion, context_tokens=0)
    )


class ContextEvaluation:
    """Runs sites through two pipelines that share one model runner and one index."""

    def __init__(
        self,
        runner: ModelRunner,
        settings: Settings,
        index: SymbolIndex,
        root: str,
        *,
        fresh: bool = False,
    ) -> None:
        """`fresh`: the model forgets every kept state (KV cache, saved prompt states) before
        each completion, so that a completion depends on its own prompt only and a run repeats
        exactly (give `settings` without speculative decoding too, whose batched verification
        rounds differently from one-token steps)."""
        self._runner, self._fresh = runner, fresh
        self._index = index
        plain = without_context(settings)
        self._with = CompletionPipeline(runner, lambda: settings, lambda: index, lambda: root)
        self._without = CompletionPipeline(runner, lambda: plain, lambda: index, lambda: root)

    async def warm_up(self) -> None:
        """One throwaway completion per arm, so that one-time costs (the model's first
        evaluation, tables built on first use) land on neither arm's first site."""
        for pipeline in (self._without, self._with):
            await pipeline.complete(CompletionRequest(WARM_UP_URI, WARM_UP_TEXT, len(WARM_UP_TEXT)))

    async def run(
        self, sites: list[MaskSite], texts: dict[str, str], progress: Progress | None = None
    ) -> list[SiteOutcome]:
        """Every site in turn (after a warm-up), the arms taking turns going first."""
        await self.warm_up()
        outcomes = []
        for number, site in enumerate(sites):
            if progress is not None:
                progress(number, len(sites), site)
            outcomes.append(await self.site(site, texts[site.path], with_first=number % 2 == 1))
        if progress is not None and sites:
            progress(len(sites), len(sites), sites[-1])
        return outcomes

    async def site(self, site: MaskSite, text: str, *, with_first: bool = False) -> SiteOutcome:
        """Both arms at one site; the index holds the masked document meanwhile."""
        document, offset = mask(text, site)
        request = CompletionRequest(Path(site.path).as_uri(), document, offset)
        original = self._index.get(site.path)
        mtime_ns = original.mtime_ns if original is not None else 0
        self._index.replace(extract_text(site.path, document, mtime_ns=mtime_ns))
        try:
            order = [self._with, self._without] if with_first else [self._without, self._with]
            results = {}
            for pipeline in order:
                if self._fresh:
                    await self._runner.forget()
                results[pipeline] = await pipeline.complete(request)
        finally:
            if original is not None:
                self._index.replace(original)
            else:
                self._index.remove(site.path)
        with_, without = results[self._with], results[self._without]
        return SiteOutcome(
            site,
            score(with_.text, site.target, with_.timings, with_.seconds, with_.prompt),
            score(without.text, site.target, without.timings, without.seconds, without.prompt),
            context_used=with_.prompt != without.prompt,
            names=name_recall(site.cross_file_names, with_.prompt, without.prompt),
        )
