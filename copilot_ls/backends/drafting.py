"""Backends stage: where drafted tokens come from, and how many are worth verifying.

Speculative decoding lets the target model check several guessed ("drafted") tokens in one
batched evaluation. A `DraftSource` guesses; a `DraftPolicy` decides how many of the guesses to
verify, from what a verification costs on this hardware (measured as the model runs) and how
often guesses of that kind were right. Both are pure Python, so they unit-test without a model.

The policy's model: each drafted token is accepted with probability p once the ones before it
were, so verifying n tokens yields 1 + p + ... + p^n tokens (the target's own choice after the
last accepted one is always kept) for the price of one batch of n + 1 tokens. A plain step yields
one token for the price of one batch of 1. The policy verifies the n that gives the most tokens
per second, or none when no n beats a plain step: a source whose guesses are poor costs nothing
after a few tries.
"""

from __future__ import annotations

import statistics
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

MAX_DRAFT = 16
"""Most tokens verified in one batch: a longer batch delays the next cancellation check."""


@dataclass(frozen=True)
class Draft:
    """Guessed next tokens, and the kind of guess (acceptance statistics are kept per kind)."""

    tokens: tuple[int, ...]
    kind: str


class DraftSource(ABC):
    """Proposes the next tokens of a generation from the tokens so far."""

    name: str = "draft"
    costly: bool = False
    """Whether drafting itself takes time (a model): then it is asked only for as many tokens
    as the policy finds worth verifying, and `cost_per_token` says how much."""
    cost_per_token: float = 0.0
    """Seconds one drafted token costs to produce, as last measured."""

    def begin(self, prompt: Sequence[int], extras: Sequence[Sequence[int]] = ()) -> None:  # noqa: B027
        """A generation starts from `prompt`; `extras` are other token sequences to draw from."""

    @abstractmethod
    def propose(self, history: Sequence[int], limit: int) -> Draft | None:
        """Up to `limit` tokens guessed to follow `history` (the prompt plus accepted tokens).

        Within one generation `history` only grows, by the tokens accepted since the last call.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the source holds."""


@dataclass
class _Odds:
    """Decayed counts of drafted tokens accepted and of drafts cut short by a rejection."""

    accepted: float
    rejected: float

    @property
    def p(self) -> float:
        return self.accepted / (self.accepted + self.rejected)


PRIOR_STRENGTH = 4.0
"""Pseudo-observations behind a kind's prior acceptance rate."""
DECAY = 0.97
"""Weight kept by old observations at each new one: recent behaviour counts most."""
MARGIN = 1.05
"""A draft must promise this much more throughput than a plain step to be verified."""
COST_SAMPLES = 9


class DraftPolicy:
    """Adaptive draft length from measured batch costs and per-kind acceptance rates."""

    def __init__(self, priors: dict[str, float] | None = None, max_draft: int = MAX_DRAFT) -> None:
        self.max_draft = max_draft
        self._priors = dict(priors or {})
        self._odds: dict[str, _Odds] = {}
        self._costs: dict[int, deque[float]] = {}
        self._medians: dict[int, float] = {}
        self.slope = 0.5
        """Assumed cost of each extra batched token, as a share of a one-token step, until
        batches of that size have been measured (a compute-bound CPU is near 0.5, a GPU near 0)."""

    # -- what verification costs ---------------------------------------------------------------

    def record_cost(self, batch: int, seconds: float) -> None:
        """One evaluation of `batch` tokens took `seconds`."""
        if seconds <= 0:
            return
        samples = self._costs.setdefault(batch, deque(maxlen=COST_SAMPLES))
        samples.append(seconds)
        if len(samples) >= 2:
            self._medians[batch] = statistics.median(samples)

    def cost(self, batch: int) -> float:
        """Typical seconds for one evaluation of `batch` tokens (relative when unmeasured)."""
        measured = self._medians.get(batch)
        if measured is not None:
            return measured
        single = self._medians.get(1)
        base = single if single is not None else 1.0
        if batch == 1:
            return base
        known = [b for b in self._medians if b > 1]
        if single is not None and known:  # the nearest measured size, along the line from 1
            nearest = min(known, key=lambda b: abs(b - batch))
            return base + (self._medians[nearest] - base) * (batch - 1) / (nearest - 1)
        return base * (1 + self.slope * (batch - 1))

    # -- how often drafts are right ----------------------------------------------------------

    def acceptance(self, kind: str) -> float:
        odds = self._odds.get(kind)
        if odds is None:
            prior = self._priors.get(kind, self._priors.get("*", 0.5))
            odds = self._odds[kind] = _Odds(prior * PRIOR_STRENGTH, (1 - prior) * PRIOR_STRENGTH)
        return odds.p

    def record(self, kind: str, accepted: int, rejected: bool) -> None:
        """A draft of `kind` had `accepted` tokens accepted, then one rejected (or none)."""
        self.acceptance(kind)
        odds = self._odds[kind]
        odds.accepted = odds.accepted * DECAY + accepted
        odds.rejected = odds.rejected * DECAY + (1.0 if rejected else 0.0)

    # -- the decision --------------------------------------------------------------------------

    def expected_tokens(self, kind: str, n: int) -> float:
        """Tokens one verification of `n` drafted tokens of `kind` yields on average."""
        p = self.acceptance(kind)
        return sum(p**i for i in range(n + 1))

    def length(self, kind: str, available: int, draft_cost: float = 0.0) -> int:
        """How many of `available` drafted tokens to verify; 0 means take a plain step.

        `draft_cost` is the extra seconds each drafted token costs to produce (a draft model).
        """
        available = min(available, self.max_draft)
        if available <= 0:
            return 0
        p = self.acceptance(kind)
        best, best_rate = 0, MARGIN / self.cost(1)
        tokens, chance = 1.0, 1.0
        for n in range(1, available + 1):
            chance *= p
            tokens += chance  # 1 + p + ... + p^n
            rate = tokens / (self.cost(n + 1) + draft_cost * n)
            if rate > best_rate:
                best, best_rate = n, rate
        return best
