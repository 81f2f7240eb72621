"""Saved KV states of recent prompts: bounded, least recently used evicted, restored exactly."""

from __future__ import annotations

import pathlib
import threading

import numpy as np
import pytest

from copilot_ls.backends.base import Generation, GenerationRequest
from copilot_ls.backends.llama_cpp import LlamaCppBackend
from copilot_ls.backends.state_cache import SavedState, StateCache
from copilot_ls.settings import ModelSettings
from tests.fixtures.tiny_gguf import write_tiny_model


def _state(tokens: list[int], size: int = 100) -> SavedState:
    return SavedState(np.array(tokens, dtype=np.int64), object(), size)


def test_the_cache_never_holds_more_bytes_than_its_budget():
    """Adding states beyond the byte budget evicts the least recently used ones."""
    cache = StateCache(budget_bytes=250, max_entries=10)
    for first in range(5):
        assert cache.put(_state([first, 1, 2]))
        assert cache.size <= 250
    assert [int(entry.tokens[0]) for entry in cache.entries()] == [3, 4]
    assert cache.evictions == 3


def test_the_cache_never_holds_more_entries_than_its_count():
    """The entry count bounds the cache whatever the sizes."""
    cache = StateCache(budget_bytes=10**9, max_entries=3)
    for first in range(6):
        cache.put(_state([first, 7], size=1))
    assert len(cache) == 3
    assert [int(entry.tokens[0]) for entry in cache.entries()] == [3, 4, 5]


def test_using_a_state_protects_it_from_the_next_eviction():
    """`best` marks the state it returns as recently used, so the oldest other one goes."""
    cache = StateCache(budget_bytes=300, max_entries=10)
    for first in range(3):
        cache.put(_state([first, 1]))
    found = cache.best([0, 1, 5])
    assert found is not None and int(found[0].tokens[0]) == 0
    cache.put(_state([9, 9]))
    assert sorted(int(entry.tokens[0]) for entry in cache.entries()) == [0, 2, 9]


def test_best_returns_the_state_sharing_the_longest_prefix():
    """Among saved prompts the one sharing the most leading tokens wins, with that count."""
    cache = StateCache(budget_bytes=10**6)
    cache.put(_state([1, 2, 3, 4]))
    cache.put(_state([1, 2, 8, 8, 8, 8]))
    cache.put(_state([5, 6]))
    found = cache.best([1, 2, 3, 9])
    assert found is not None
    assert found[0].tokens.tolist() == [1, 2, 3, 4] and found[1] == 3
    assert cache.best([7]) is None


def test_a_state_extending_a_saved_one_replaces_it():
    """A prompt that continues a saved one holds all of it: the older entry is dropped."""
    cache = StateCache(budget_bytes=10**6)
    cache.put(_state([1, 2, 3]))
    cache.put(_state([1, 2, 3, 4, 5]))
    assert [entry.tokens.tolist() for entry in cache.entries()] == [[1, 2, 3, 4, 5]]
    assert cache.holds([1, 2, 3]) and not cache.holds([1, 2, 4])


def test_a_zero_budget_turns_the_cache_off():
    """With no memory allowed nothing is kept (the setting's 0)."""
    cache = StateCache(budget_bytes=0)
    assert not cache.put(_state([1, 2]))
    assert len(cache) == 0 and not cache.enabled


def test_a_state_larger_than_the_whole_budget_is_not_kept():
    """One oversized state is refused rather than evicting everything."""
    cache = StateCache(budget_bytes=100)
    cache.put(_state([1], size=50))
    assert not cache.put(_state([2], size=500))
    assert [entry.tokens.tolist() for entry in cache.entries()] == [[1]]


# -- on a tiny real model ---------------------------------------------------------------------

DOC_A = (
    "import os\nimport sys\n\n\nclass Parser(object):\n    def __init__(self, name):\n"
    "        self.name = name\n        self.items = []\n\n    def add(self, item):\n"
    "        self.items.append(item)\n"
) * 2
DOC_B = "function add(a, b) {\n    const result = a + b;\n    return result;\n}\n" * 4
DOC_C = "SELECT name, price FROM items WHERE price > 10 ORDER BY name;\n" * 5


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed")
    folder = tmp_path_factory.mktemp("tiny-states")
    return write_tiny_model(folder / "model.gguf", "qwen", seed=5, n_layer=2)


def _backend(path: pathlib.Path, mib: int = 16) -> LlamaCppBackend:
    return LlamaCppBackend(
        ModelSettings(path=str(path), n_ctx=1024, n_threads=1, state_cache_mib=mib)
    )


def _generate(backend: LlamaCppBackend, prompt: str) -> Generation:
    request = GenerationRequest(parts=(prompt,), max_tokens=24, speculative="off")
    return backend.generate(request, threading.Event())


def test_switching_back_to_a_document_reuses_its_saved_state(tiny_model):
    """After A, B, the return to A evaluates only its last token; without the cache, all of it."""
    for mib, expect_reuse in ((16, True), (0, False)):
        backend = _backend(tiny_model, mib)
        first = _generate(backend, DOC_A)
        _generate(backend, DOC_B)
        back = _generate(backend, DOC_A)
        if expect_reuse:
            assert back.reused_tokens == back.prompt_tokens - 1
        else:
            assert back.reused_tokens < first.prompt_tokens // 4
        assert back.text == first.text
        backend.close()


def test_a_restored_generation_equals_a_cold_one(tiny_model):
    """Text generated from a restored state is what a fresh model generates from scratch."""
    warm = _backend(tiny_model)
    for prompt in (DOC_A, DOC_B, DOC_C, DOC_B + "\n", DOC_A + "    def get(self"):
        got = _generate(warm, prompt)
        cold = _backend(tiny_model, 0)
        assert got.text == _generate(cold, prompt).text, prompt
        cold.close()
    assert warm.states.stats.restores >= 2
    warm.close()


def test_the_state_with_the_longest_shared_prefix_is_restored(tiny_model):
    """Among three saved documents the one the new prompt continues is the one restored."""
    backend = _backend(tiny_model)
    for prompt in (DOC_A, DOC_B, DOC_C):
        _generate(backend, prompt)
    back = _generate(backend, DOC_B + "function sub(a, b) {\n")
    n_b = len(backend.tokenize(DOC_B))
    assert back.reused_tokens >= n_b - 2
    assert backend.states.stats.restores == 1
    backend.close()


def test_keystrokes_in_one_document_save_nothing(tiny_model):
    """Typing keeps the prompt's start, so no state is saved on a keystroke."""
    backend = _backend(tiny_model)
    for typed in ("", "x", "x =", "x = 1"):
        _generate(backend, DOC_A + typed)
    assert backend.states.stats.saves == 0
    backend.close()


def test_the_model_cache_stays_within_its_budget(tiny_model):
    """With a budget of two prompts' states, cycling through three keeps at most two."""
    backend = _backend(tiny_model, mib=1)
    _generate(backend, DOC_A)
    _generate(backend, DOC_B)
    size = backend.states.stats.last_size
    backend.states.cache.budget_bytes = int(size * 2.5)
    for prompt in (DOC_C, DOC_A, DOC_B, DOC_C):
        _generate(backend, prompt)
        assert backend.states.cache.size <= backend.states.cache.budget_bytes
    assert len(backend.states.cache) == 2
    assert backend.states.cache.evictions >= 1
    backend.close()


def test_a_saved_state_is_restored_into_an_empty_context(tiny_model):
    """When the live context holds nothing (a prefill cancelled at once), a saved one is used."""
    backend = _backend(tiny_model)
    _generate(backend, DOC_A)
    _generate(backend, DOC_B)
    backend._llm.n_tokens = 0
    back = _generate(backend, DOC_A)
    assert back.reused_tokens == back.prompt_tokens - 1
    backend.close()
