"""Backends stage: evaluate a token sequence, keeping the KV state of what was evaluated before.

A `llama_cpp.Llama` records the tokens whose KV state its context holds (`input_ids[:n_tokens]`).
A new sequence that shares a prefix with them needs only the tokens after that prefix evaluated;
the last token is always evaluated again so that its logits are current.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

PREFILL_CHUNK = 128
"""Prompt tokens evaluated between two looks at the cancel flag."""


def common_prefix(llm: Any, tokens: Sequence[int]) -> int:
    """How many leading `tokens` the context already holds."""
    cached = llm.input_ids[: llm.n_tokens]
    n = min(len(cached), len(tokens))
    mismatch = np.flatnonzero(cached[:n] != np.asarray(tokens[:n], dtype=cached.dtype))
    return int(mismatch[0]) if mismatch.size else n


def evaluate_reusing_prefix(
    llm: Any,
    tokens: Sequence[int],
    cancel: threading.Event | None = None,
    between_chunks: Callable[[], object] | None = None,
) -> int:
    """Evaluate `tokens` (at least one); returns the number of tokens whose state was kept.

    Stops early, between chunks, when `cancel` is set. `between_chunks` is called between two
    chunks (other work may use the model there, as long as it puts the evaluated state back).
    """
    common = min(common_prefix(llm, tokens), len(tokens) - 1)
    llm.n_tokens = common
    for start in range(common, len(tokens), PREFILL_CHUNK):
        if start > common and between_chunks is not None:
            between_chunks()
        if cancel is not None and cancel.is_set():
            break
        llm.eval(list(tokens[start : start + PREFILL_CHUNK]))
    return common
