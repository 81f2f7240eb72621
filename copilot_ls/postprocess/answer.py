"""Postprocess stage: a chat answer as the model writes it -> chunks that will not change.

The answer ends at a stop marker or where the model starts repeating itself (a whole line of
prose it already wrote, a common loop of small models). While it grows, only text that no
later token can take back is streamed: not the leading blank, not trailing blanks, not a tail
that may still become a stop marker, and not a line that may still become a repeated line.
So the streamed chunks always add up to a prefix of the final answer, and the last chunk is
the rest of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

MIN_REPEATED_LINE = 16
"""Shorter lines ("Example:", "}") may repeat in a good answer."""
FENCE = "```"

Emit = Callable[[str], None]


def settled(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """The answer `text` holds so far, and whether it has ended (a stop marker, or a complete
    line of prose repeating an earlier one: both are cut off)."""
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    ended = bool(found)
    if found:
        text = text[: min(found)]
    seen: set[str] = set()
    in_code = False
    at = 0
    for line in text.split("\n")[:-1]:  # complete lines only
        key = line.strip()
        if key.startswith(FENCE):
            in_code = not in_code
        elif not in_code and len(key) >= MIN_REPEATED_LINE:
            if key in seen:
                return text[:at], True
            seen.add(key)
        at += len(line) + 1
    return text, ended


def _partial_stop(text: str, stop: str) -> int:
    """Length of the longest start of `stop` that `text` ends with."""
    for size in range(min(len(stop) - 1, len(text)), 0, -1):
        if text.endswith(stop[:size]):
            return size
    return 0


def _may_repeat(text: str) -> bool:
    """Whether the unfinished last line of `text` could still become a repeated line."""
    head, _, last = text.rpartition("\n")
    start = last.strip()
    if not start or not head:
        return False
    return any(
        len(line.strip()) >= MIN_REPEATED_LINE and line.strip().startswith(start)
        for line in head.split("\n")
    )


class AnswerStream:
    """Feeds the growing model text in; sends out the chunks that are final."""

    def __init__(self, stops: Sequence[str], emit: Emit | None) -> None:
        self._stops = tuple(stops)
        self._emit = emit
        self.sent = ""

    def update(self, text: str) -> bool:
        """Take the text generated so far; returns whether the answer has ended."""
        body, ended = settled(text, self._stops)
        ready = body.lstrip()
        if not ended:
            hold = max((_partial_stop(ready, stop) for stop in self._stops), default=0)
            ready = ready[: len(ready) - hold]
            if _may_repeat(ready):
                ready = ready[: ready.rfind("\n") + 1]
        ready = ready.rstrip().rstrip("\ufffd")
        if len(ready) > len(self.sent) and ready.startswith(self.sent):
            chunk, self.sent = ready[len(self.sent) :], ready
            if self._emit is not None:
                self._emit(chunk)
        return ended

    def finish(self, text: str) -> str:
        """The final answer; it starts with everything sent."""
        answer = settled(text, self._stops)[0].strip()
        if not answer.startswith(self.sent):  # cannot happen by construction; keep the promise
            log.warning("chat: the streamed text is not a prefix of the answer")
            answer = self.sent + answer[len(self.sent) :]
        return answer
