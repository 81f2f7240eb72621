"""Backends stage: the vocabulary as bytes, indexed for constrained (token-healing) decoding.

Token healing needs, at each of the first steps, the set of tokens whose bytes agree with the text
still to be re-typed: tokens that start with it, and tokens that are a prefix of it. Pieces sorted
by bytes make the first set one contiguous range (found by bisection), and a dict from piece to
token ids answers the second in one lookup per prefix length.
"""

from __future__ import annotations

import bisect
from collections import defaultdict


class Vocabulary:
    """Byte pieces of every token, with fast lookup of the tokens compatible with a text."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        order = sorted((p, i) for i, p in enumerate(pieces) if p)
        self._sorted_pieces = [p for p, _ in order]
        self._sorted_ids = [i for _, i in order]
        self._by_piece: dict[bytes, list[int]] = defaultdict(list)
        for i, p in enumerate(pieces):
            if p:
                self._by_piece[p].append(i)

    def compatible(self, remaining: bytes) -> list[int]:
        """Ids of tokens that start with `remaining` or that `remaining` starts with."""
        if not remaining:
            return []
        lo = bisect.bisect_left(self._sorted_pieces, remaining)
        ids: list[int] = []
        for k in range(lo, len(self._sorted_pieces)):
            if not self._sorted_pieces[k].startswith(remaining):
                break
            ids.append(self._sorted_ids[k])
        for n in range(1, len(remaining)):
            ids.extend(self._by_piece.get(remaining[:n], ()))
        return ids
