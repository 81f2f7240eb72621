"""Backends stage: the one small interface every model runner implements.

A prompt arrives as a list of parts: plain text, or the name of a special token of the model's
vocabulary (FIM markers). One part may be marked as ending at the cursor; the backend may back
that part off to a token boundary (token healing) and must then make the generated text start
exactly at the cursor again. Backends never see LSP types.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Special:
    """A special token of the vocabulary, named by its text (for example `<fim_prefix>`)."""

    text: str


PromptPart = str | Special


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate: the prompt, where the cursor is, and when to stop."""

    parts: tuple[PromptPart, ...]
    max_tokens: int
    cursor_part: int | None = None
    """Index of the text part that ends at the cursor (the one token healing may back off)."""
    token_healing: bool = True
    temperature: float = 0.0
    stop: Callable[[str], bool] | None = None
    """Called with the text generated so far; True ends generation early."""
    add_bos: bool = True
    speculative: Literal["auto", "lookup", "draft", "off"] = "auto"
    """Where drafted tokens come from (see `completion.speculative`); the text is the same."""
    extra_sources: tuple[str, ...] = ()
    """Other text likely to be repeated (similar code elsewhere): drafts may copy from it."""


StopReason = Literal["eos", "stop", "length", "cancelled"]


@dataclass
class Generation:
    """The generated text (starting exactly at the cursor) and what it cost."""

    text: str
    stop_reason: StopReason
    prompt_tokens: int = 0
    reused_tokens: int = 0
    """Prompt tokens whose KV state was already evaluated and was kept."""
    generated_tokens: int = 0
    token_ids: list[int] = field(default_factory=list)
    """The generated tokens (healed ones included)."""
    healed: str = ""
    """The text backed off the prompt and re-generated under constraint."""
    prefill_s: float = 0.0
    decode_s: float = 0.0
    prompt_text: str = ""
    """The prompt as the model saw it, special tokens written out (for logs and tests)."""
    drafted_tokens: int = 0
    """Tokens guessed by speculative decoding and verified by the model."""
    accepted_tokens: int = 0
    """Of those, the ones the model would have generated anyway (kept)."""
    draft_batches: int = 0
    """Batched verifications (each replaces up to 1 + its accepted tokens' decode steps)."""
    timings: dict[str, float] = field(default_factory=dict)


class Cancelled(Exception):
    """Generation was stopped because its request was cancelled or superseded."""


class Backend(ABC):
    """Runs one model. Methods are called from a single worker thread, never concurrently."""

    name: str = "backend"

    @abstractmethod
    def has_special(self, text: str) -> bool:
        """Whether the vocabulary has a special token written exactly `text`."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Number of tokens `text` takes in this model's vocabulary (no BOS)."""

    @abstractmethod
    def generate(self, request: GenerationRequest, cancel: threading.Event) -> Generation:
        """Generate text; check `cancel` at least once per token step and stop when it is set."""

    def chat_template(self) -> str | None:
        """The model's own chat template (Jinja text), used by code actions; None if it has none."""
        return None

    def prepare(self, speculative: bool) -> None:  # noqa: B027 - optional hook
        """Right after loading, before the first request: do once what the first generation
        would otherwise pay for (with `speculative`: measuring what a verification costs)."""

    def forget(self) -> None:  # noqa: B027 - optional hook, most backends keep no state
        """Drop every model state kept between requests (the KV cache, saved prompt states),
        so that the next request is evaluated from scratch: repeatable, whatever ran before."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing to free
        """Release the model."""
