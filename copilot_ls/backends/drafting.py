"""Backends stage: where drafted tokens come from, and how many are worth verifying.

Speculative decoding lets the target model check several guessed ("drafted") tokens in one
batched evaluation. A `DraftSource` guesses; a `DraftPolicy` decides how many of the guesses to
verify, from what a verification costs on this hardware (measured as the model runs) and how
often guesses of that kind were right. Both are pure Python, so they unit-test without a model.

The policy's model: each drafted token is accepted with probability p once the ones before it
were, so verifying n tokens yields 1 + p + ... + p^n tokens (the target's own choice after the
last accepted one is always kept) for the price of one batch of n + 1 tokens. A plain step yields
one token for the price of one batch of 1. The policy verifies the n that gives the most tokens
per second, or none when no n beats a plain step: a source whose guesses are poor costs little
after a few tries. A kind that is refused drifts back towards its prior, so one bad stretch
never switches it off for good; and a caller may insist on a few tokens (a long lookup match).

Batch costs are the fastest of the recent timings of each size (contention only ever adds time),
and `calibrate` measures them up front, so a batch size timed once while the CPU was busy does
not look too dear to be tried again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_DRAFT = 16
"""Most tokens verified in one batch: a longer batch delays the next cancellation check."""


@dataclass(frozen=True)
class Draft:
    """Guessed next tokens, and the kind of guess (acceptance statistics are kept per kind)."""

    tokens: tuple[int, ...]
    kind: str
    trusted: int = 0
    """Tokens worth verifying whatever the policy estimates, while the kind does not fail
    often (see `DraftPolicy.length`): a long lookup match is usually copied on."""


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
TRUST_FLOOR = 0.5
"""Below this acceptance rate a kind's drafts are no longer verified on trust."""
RELAX = 0.9
"""Weight a refused kind's odds keep each time; the rest goes back to its prior."""
CALIBRATION_SIZES = (1, 2, 3, 5, 9, 17)
"""Batch sizes `calibrate` times (a plain step, and a chosen token with 1 to 16 drafted)."""


class DraftPolicy:
    """Adaptive draft length from measured batch costs and per-kind acceptance rates."""

    def __init__(self, priors: dict[str, float] | None = None, max_draft: int = MAX_DRAFT) -> None:
        self.max_draft = max_draft
        self._priors = dict(priors or {})
        self._odds: dict[str, _Odds] = {}
        self._costs: dict[int, deque[float]] = {}
        self._medians: dict[int, float] = {}
        """Typical seconds per batch size: the fastest recent timing (noise only adds time)."""
        self.calibrated = False
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
        self._medians[batch] = min(samples)

    def calibrate(self, measure: Callable[[int], float], repeats: int = 2) -> None:
        """Time each of `CALIBRATION_SIZES` with `measure(batch) -> seconds`, `repeats` times."""
        for _ in range(repeats):
            for batch in CALIBRATION_SIZES:
                if batch <= self.max_draft + 1:
                    self.record_cost(batch, measure(batch))
        self.calibrated = True

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

    def _prior(self, kind: str) -> float:
        return self._priors.get(kind, self._priors.get("*", 0.5))

    def acceptance(self, kind: str) -> float:
        odds = self._odds.get(kind)
        if odds is None:
            prior = self._prior(kind)
            odds = self._odds[kind] = _Odds(prior * PRIOR_STRENGTH, (1 - prior) * PRIOR_STRENGTH)
        return odds.p

    def _relax(self, kind: str) -> None:
        """`kind` was refused: move its odds a step back towards the prior, so it is retried."""
        self.acceptance(kind)
        odds, prior = self._odds[kind], self._prior(kind)
        odds.accepted = odds.accepted * RELAX + prior * PRIOR_STRENGTH * (1 - RELAX)
        odds.rejected = odds.rejected * RELAX + (1 - prior) * PRIOR_STRENGTH * (1 - RELAX)

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
        best = self._best_length(kind, available, draft_cost)
        if best == 0:
            self._relax(kind)
        return best

    def trusted_length(self, kind: str, available: int, trusted: int) -> int:
        """Tokens of a draft trusted for `trusted` tokens to verify whatever the costs say.

        None once drafts of `kind` are accepted less than `TRUST_FLOOR` of the time.
        """
        if trusted <= 0 or self.acceptance(kind) < TRUST_FLOOR:
            return 0
        return max(0, min(trusted, available, self.max_draft))

    def _best_length(self, kind: str, available: int, draft_cost: float) -> int:
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
