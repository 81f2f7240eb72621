"""The completion data path's request and result, and a cached result served again.

Shared by the pipeline, its cache, the LSP handlers, the CLI and the evaluation harness.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Literal

from copilot_ls.backends.base import Generation
from copilot_ls.context.selection import ContextItem
from copilot_ls.postprocess.filters import Mode
from copilot_ls.typed_ahead import Hit

CacheOrigin = Literal["exact", "typed-ahead", "prefetch"]


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
    cached: CacheOrigin | None = None
    """None when the model ran for this request; else where the answer came from: `exact`
    (the same context again), `typed-ahead` (the rest of a suggestion whose start was typed),
    `prefetch` (computed in the background as if the previous suggestion were accepted)."""


def served(hit: Hit[CompletionResult], started: float) -> CompletionResult:
    """A cached result as the answer to a new request: the rest of its text, no model time."""
    base = hit.value
    origin: CacheOrigin = "typed-ahead" if hit.kind == "typed-ahead" else base.cached or "exact"
    timings = dict.fromkeys(base.timings, 0.0)  # the model did nothing for this request
    timings["lookup_s"] = time.perf_counter() - started
    return dataclasses.replace(
        base, text=hit.remainder, cached=origin, generation=None, timings=timings
    )
