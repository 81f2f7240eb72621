"""Self-test for tests/fixtures/tiny_gguf.py: the tiny models load in llama.cpp."""

from __future__ import annotations

import math
import pathlib
import time
from typing import TYPE_CHECKING

import pytest

from tests.fixtures.tiny_gguf import FAMILIES, SPECIAL_TOKENS, write_tiny_model

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed")

if TYPE_CHECKING:
    from llama_cpp import Llama

Model = tuple[str | None, "Llama"]

ALL = [*FAMILIES, None]
TEXTS = [
    b"def add(a, b):\n    return a + b\n",
    "héllo ✓".encode(),
    b"class Foo(object):\n\tdef __init__(self):\n\t\tself.x = [1, 2, 3]  # ok\r\n",
    bytes(range(32, 127)),
    "  <fim_prefix> [PREFIX] <PRE> 日本語 🙂\n\n".encode(),
    b"",
]
FIM_GETTERS = {
    "pre": "llama_vocab_fim_pre",
    "suf": "llama_vocab_fim_suf",
    "mid": "llama_vocab_fim_mid",
    "pad": "llama_vocab_fim_pad",
    "rep": "llama_vocab_fim_rep",
    "sep": "llama_vocab_fim_sep",
}


def _load(path: pathlib.Path) -> Llama:
    return llama_cpp.Llama(model_path=str(path), n_ctx=512, verbose=False)


def _last_logits(llm: Llama, tokens: list[int]) -> list[float]:
    llm.reset()
    llm.eval(tokens)
    ptr = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
    return [ptr[i] for i in range(llm.n_vocab())]


@pytest.fixture(params=ALL, ids=lambda f: str(f))
def model(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Model:
    family = request.param
    start = time.perf_counter()
    path = write_tiny_model(tmp_path / "tiny.gguf", family)
    assert time.perf_counter() - start < 1.0
    assert path.stat().st_size < 5 * 1024 * 1024
    return family, _load(path)


def test_round_trip(model: Model) -> None:
    _, llm = model
    for text in TEXTS:
        tokens = llm.tokenize(text, add_bos=False)
        assert llm.detokenize(tokens) == text
    code = TEXTS[0]
    assert len(llm.tokenize(code, add_bos=False)) < len(code) // 2  # merges are used


def test_special_tokens(model: Model) -> None:
    family, llm = model
    vocab = llm._model.vocab
    for role, text in SPECIAL_TOKENS[family].items():
        raw = text.encode()
        ids = llm.tokenize(raw, add_bos=False, special=True)
        assert len(ids) == 1, (role, text, ids)
        (tid,) = ids
        assert llama_cpp.llama_vocab_is_control(vocab, tid)
        assert llm.detokenize([tid], special=True) == raw
        plain = llm.tokenize(raw, add_bos=False, special=False)
        assert tid not in plain and llm.detokenize(plain) == raw
        if role == "eos":
            assert tid == llm.token_eos()
        if role == "bos":
            assert tid == llm.token_bos()
    for role, getter in FIM_GETTERS.items():
        fim = SPECIAL_TOKENS[family].get(role)
        expected = llm.tokenize(fim.encode(), add_bos=False, special=True) if fim else [-1]
        assert getattr(llama_cpp, getter)(vocab) == expected[0], role


def test_logits_and_generation(model: Model) -> None:
    _, llm = model
    tokens = llm.tokenize(TEXTS[0], add_bos=False)
    logits = _last_logits(llm, tokens)
    assert len(logits) == llm.n_vocab() and all(math.isfinite(x) for x in logits)
    assert max(logits) > min(logits)
    out = llm.create_completion("def add(a, b):\n", max_tokens=8, temperature=0.0)
    assert isinstance(out, dict)
    assert out["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize("family", ALL, ids=str)
def test_seeds_share_vocab_but_not_weights(family: str | None, tmp_path: pathlib.Path) -> None:
    a = write_tiny_model(tmp_path / "a.gguf", family, seed=1)
    b = write_tiny_model(tmp_path / "b.gguf", family, seed=2)
    a2 = write_tiny_model(tmp_path / "a2.gguf", family, seed=1)
    assert a.read_bytes() == a2.read_bytes()
    llm_a, llm_b = _load(a), _load(b)
    assert llm_a.n_vocab() == llm_b.n_vocab()
    for tid in range(llm_a.n_vocab()):
        assert llm_a._model.token_get_text(tid) == llm_b._model.token_get_text(tid)
    tokens = llm_a.tokenize(TEXTS[0], add_bos=False)
    assert tokens == llm_b.tokenize(TEXTS[0], add_bos=False)
    assert _last_logits(llm_a, tokens) != _last_logits(llm_b, tokens)
