"""Backends stage: draft-free speculation by looking the recent tokens up in the prompt.

Code repeats itself: the line being rewritten is still in the prompt, a similar function sits a
screen above, a call repeats its definition's parameter list. When the last tokens generated
also occurred earlier (in the prompt, in what was generated, or in extra sequences supplied by
the caller), what followed them there is a good guess of what comes next (prompt lookup
decoding). Among the earlier occurrences of the last two tokens, the one that agrees with the
history over the longest stretch backwards wins (ties: the most recent), and the draft's kind
names that agreement's length, so the policy learns how far each length can be trusted. A match
of `TRUST_MATCH` tokens or more marks its draft trusted: the model is copying, and the policy
verifies some of it even before its cost estimates would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from copilot_ls.backends.drafting import Draft, DraftSource

KEY = 2
"""Tokens that must match for an earlier position to be a candidate at all."""
MAX_CANDIDATES = 12
"""Most recent occurrences of the key compared backwards (frequent keys have hundreds)."""
MAX_MATCH = 32
"""Agreement measured backwards at most this far."""
MATCH_BUCKETS = (2, 3, 4, 6, 8, 12, 16, 24, 32)
TRUST_MATCH = 8
"""A match at least this long is trusted: the model is re-typing what it matched."""
TRUSTED_TOKENS = 8
"""Tokens of a trusted match verified whatever the cost estimates (93-99 % were accepted)."""


def match_kind(length: int) -> str:
    """The statistics bucket of a draft whose source agreed with `length` history tokens."""
    bucket = max(b for b in MATCH_BUCKETS if b <= max(length, MATCH_BUCKETS[0]))
    return f"lookup:{bucket}"


class _Indexed:
    """One token sequence with the positions that follow each `KEY`-gram in it."""

    def __init__(self, tokens: Sequence[int] = ()) -> None:
        self.tokens: list[int] = []
        self.after: dict[tuple[int, ...], list[int]] = defaultdict(list)
        self.extend(tokens)

    def extend(self, tokens: Sequence[int]) -> None:
        start = len(self.tokens)
        self.tokens.extend(tokens)
        seq = self.tokens
        # Position i is indexed once the token at i exists: the key is seq[i-KEY:i].
        for i in range(max(start, KEY), len(seq)):
            self.after[tuple(seq[i - KEY : i])].append(i)


class PromptLookup(DraftSource):
    """Drafts by copying what followed the longest earlier match of the recent tokens."""

    name = "lookup"

    def __init__(self, min_match: int = KEY) -> None:
        self.min_match = max(KEY, min_match)
        self._history = _Indexed()
        self._extras: list[_Indexed] = []

    def begin(self, prompt: Sequence[int], extras: Sequence[Sequence[int]] = ()) -> None:
        self._history = _Indexed(prompt)
        self._extras = [_Indexed(e) for e in extras if len(e) > KEY]

    def propose(self, history: Sequence[int], limit: int) -> Draft | None:
        known = self._history.tokens
        if len(history) < len(known) or (known and history[len(known) - 1] != known[-1]):
            self._history = _Indexed(history)  # not a continuation: start over
        elif len(history) > len(known):
            self._history.extend(history[len(known) :])
        seq = self._history.tokens
        if limit <= 0 or len(seq) < KEY + 1:
            return None
        key = tuple(seq[-KEY:])
        best: tuple[int, int, list[int]] | None = None  # (match length, position, source)
        for source in (self._history, *self._extras):
            # Only positions with a token after the key are indexed, so the history's own
            # suffix (its key at len(seq)) is never a candidate.
            for pos in reversed(source.after.get(key, [])[-MAX_CANDIDATES:]):
                length = _agreement(source.tokens, pos, seq)
                if best is None or length > best[0]:
                    best = (length, pos, source.tokens)
        if best is None or best[0] < self.min_match:
            return None
        length, pos, tokens = best
        guess = tokens[pos : pos + limit]
        if not guess:
            return None
        trusted = TRUSTED_TOKENS if length >= TRUST_MATCH else 0
        return Draft(tuple(guess), match_kind(length), trusted)


def _agreement(tokens: list[int], pos: int, history: list[int]) -> int:
    """How many tokens before `pos` in `tokens` equal the last ones of `history`."""
    n = 0
    limit = min(MAX_MATCH, pos, len(history))
    while n < limit and tokens[pos - 1 - n] == history[-1 - n]:
        n += 1
    return n
