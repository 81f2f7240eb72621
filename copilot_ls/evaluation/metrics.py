"""Evaluation stage: scores. How close a completion's first line comes to the masked line.

- exact match: equal once trailing whitespace is cut;
- edit similarity: 1 - Levenshtein distance / the longer length (1.0 for two empty strings);
- identifier F1: the identifiers of the two lines compared as multisets (as CrossCodeEval
  does), which rewards naming the right API even when the punctuation differs;
- context recall: whether the masked line's cross-file names were in the window, came with
  the cross-file context only, or were shown nowhere: it tells a retrieval that found nothing
  useful from a model that did not use what it was shown.
Then the averages of one arm (with or without cross-file context) over all its sites, and a
paired bootstrap interval of the difference between the arms (few sites make a noisy mean).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def first_line(text: str | None) -> str:
    """The first line of a completion ("" for none), trailing whitespace cut."""
    return (text or "").split("\n", 1)[0].rstrip()


def exact_match(prediction: str, target: str) -> bool:
    return prediction.rstrip() == target.rstrip()


def levenshtein(a: str, b: str) -> int:
    """Insertions, deletions and substitutions turning `a` into `b` (one row at a time)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(
                    previous[j] + 1,  # delete char_a
                    current[j - 1] + 1,  # insert char_b
                    previous[j - 1] + (char_a != char_b),  # substitute (or keep)
                )
            )
        previous = current
    return previous[-1]


def edit_similarity(prediction: str, target: str) -> float:
    """1 - distance / longer length: 1.0 when equal, 0.0 when nothing is shared."""
    longest = max(len(prediction), len(target))
    if longest == 0:
        return 1.0
    return 1.0 - levenshtein(prediction, target) / longest


def identifier_f1(prediction: str, target: str) -> float:
    """F1 of the identifiers of both lines as multisets (1.0 when neither has any)."""
    predicted = Counter(IDENTIFIER.findall(prediction))
    expected = Counter(IDENTIFIER.findall(target))
    if not predicted and not expected:
        return 1.0
    common = sum((predicted & expected).values())
    if common == 0:
        return 0.0
    precision = common / sum(predicted.values())
    recall = common / sum(expected.values())
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class NameRecall:
    """Where the prompt with context showed each cross-file name of the masked line."""

    in_window: tuple[str, ...] = ()
    """In the prompt without context too: the window shows them."""
    from_context: tuple[str, ...] = ()
    """Only in the prompt with context: retrieval brought them."""
    missing: tuple[str, ...] = ()
    """In neither prompt."""


def context_part(with_prompt: str, without_prompt: str) -> str:
    """What the prompt with context adds to the one without: the text between their common
    beginning and their common end (the same window is in both)."""
    limit = min(len(with_prompt), len(without_prompt))
    start = 0
    while start < limit and with_prompt[start] == without_prompt[start]:
        start += 1
    end = 0
    while end < limit - start and with_prompt[-1 - end] == without_prompt[-1 - end]:
        end += 1
    return with_prompt[start : len(with_prompt) - end]


def name_recall(names: Sequence[str], with_prompt: str, without_prompt: str) -> NameRecall:
    """Which of `names` the window showed, which only the context, which neither (as whole
    identifiers). Computed after both completions, from their prompts."""
    window = set(IDENTIFIER.findall(without_prompt))
    context = set(IDENTIFIER.findall(context_part(with_prompt, without_prompt)))
    return NameRecall(
        tuple(n for n in names if n in window),
        tuple(n for n in names if n not in window and n in context),
        tuple(n for n in names if n not in window and n not in context),
    )


@dataclass(frozen=True)
class Attempt:
    """One completion of one masked line, scored, with what it cost."""

    completion: str | None
    """The completion as the editor would show it; None when the pipeline offered nothing."""
    first_line: str
    exact: bool
    similarity: float
    identifier_f1: float
    seconds: float
    prompt_tokens: int
    reused_tokens: int = 0
    generated_tokens: int = 0
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    prompt: str = ""
    """The prompt as the model saw it (what context, if any, it was given)."""


def score(
    completion: str | None,
    target: str,
    timings: dict[str, float],
    seconds: float,
    prompt: str = "",
) -> Attempt:
    """Score a completion against the masked text; `timings` as the pipeline reports them."""
    line = first_line(completion)
    return Attempt(
        completion=completion,
        first_line=line,
        exact=exact_match(line, target),
        similarity=edit_similarity(line, target.rstrip()),
        identifier_f1=identifier_f1(line, target),
        seconds=seconds,
        prompt_tokens=int(timings.get("prompt_tokens", 0)),
        reused_tokens=int(timings.get("reused_tokens", 0)),
        generated_tokens=int(timings.get("generated_tokens", 0)),
        prefill_seconds=float(timings.get("prefill_s", 0.0)),
        decode_seconds=float(timings.get("decode_s", 0.0)),
        prompt=prompt,
    )


@dataclass(frozen=True)
class ArmSummary:
    """The averages of one arm over its sites (0 everywhere when it has none)."""

    sites: int
    exact_match: float
    """Share of sites answered exactly, 0..1."""
    edit_similarity: float
    identifier_f1: float
    empty: int
    """Sites where the pipeline offered no completion."""
    mean_seconds: float
    mean_prompt_tokens: float
    mean_reused_tokens: float

    def delta(self, other: ArmSummary) -> dict[str, float]:
        """This arm minus `other`, metric by metric."""
        names = (
            "exact_match",
            "edit_similarity",
            "identifier_f1",
            "mean_seconds",
            "mean_prompt_tokens",
        )
        return {name: getattr(self, name) - getattr(other, name) for name in names}


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def summarize(attempts: Sequence[Attempt]) -> ArmSummary:
    return ArmSummary(
        sites=len(attempts),
        exact_match=_mean([float(a.exact) for a in attempts]),
        edit_similarity=_mean([a.similarity for a in attempts]),
        identifier_f1=_mean([a.identifier_f1 for a in attempts]),
        empty=sum(1 for a in attempts if a.completion is None),
        mean_seconds=_mean([a.seconds for a in attempts]),
        mean_prompt_tokens=_mean([float(a.prompt_tokens) for a in attempts]),
        mean_reused_tokens=_mean([float(a.reused_tokens) for a in attempts]),
    )


BOOTSTRAP_ROUNDS = 2000


def paired_interval(
    differences: Sequence[float], *, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """A percentile bootstrap interval of the mean of per-site differences (with - without),
    resampling sites; seeded, so a report is reproducible. (0, 0) when there are none."""
    if not differences:
        return (0.0, 0.0)
    rng = random.Random(seed)
    count = len(differences)
    means = sorted(sum(rng.choices(differences, k=count)) / count for _ in range(BOOTSTRAP_ROUNDS))
    tail = (1.0 - level) / 2
    low = means[int(tail * (BOOTSTRAP_ROUNDS - 1))]
    high = means[int((1.0 - tail) * (BOOTSTRAP_ROUNDS - 1))]
    return (low, high)
