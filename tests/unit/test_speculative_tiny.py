"""Speculative decoding on tiny generated GGUF models: lossless, accounted, cancellable.

The tiny models (tests/fixtures/tiny_gguf.py) are random-weight llama models of one vocabulary;
a draft model written with the target's seed is the same model, so every guess it makes is
right, and one written with another seed is mostly wrong: between them they drive both the
accepting and the rejecting path of the verification.
"""

from __future__ import annotations

import pathlib
import threading

import numpy as np
import pytest

from copilot_ls.backends.base import Generation, GenerationRequest
from copilot_ls.backends.drafting import DraftPolicy
from copilot_ls.backends.model_files import ModelFileError
from copilot_ls.settings import ModelSettings
from tests.fixtures.tiny_gguf import write_tiny_model

pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed")

from copilot_ls.backends.llama_cpp import LlamaCppBackend

PROMPTS = [
    "def add(a, b):\n    return a + b\n\n\ndef add(a, b):\n    return",
    "import os\nimport sys\n\nclass Parser(object):\n    def __init__(self, name):\n",
    "for item in self.items:\n    if item == key:\n        return item\nfor item in self.",
    "function add(a, b) {\n    const result = a + b;\n    return result;\n}\n",
    "x = 1\n",
]


class AlwaysDraft(DraftPolicy):
    """Verifies every draft at full length, so the verification path runs at every step."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def length(self, kind: str, available: int, draft_cost: float = 0.0) -> int:
        return min(available, self.k)


def _backend(path: pathlib.Path, draft: pathlib.Path | None = None, k: int = 4) -> LlamaCppBackend:
    settings = ModelSettings(
        path=str(path), n_ctx=512, n_threads=1, draft_path=str(draft) if draft else ""
    )
    backend = LlamaCppBackend(settings)
    backend.policy = AlwaysDraft(k)
    return backend


def _generate(backend: LlamaCppBackend, prompt: str, mode: str, **kwargs: object) -> Generation:
    request = GenerationRequest(parts=(prompt,), max_tokens=32, speculative=mode, **kwargs)  # type: ignore[arg-type]
    return backend.generate(request, threading.Event())


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    folder = tmp_path_factory.mktemp("tiny-spec")
    return {
        "target": write_tiny_model(folder / "target.gguf", "qwen", seed=3, n_layer=2),
        "other": write_tiny_model(folder / "other.gguf", "qwen", seed=4, n_layer=1, n_embd=32),
        "foreign": write_tiny_model(folder / "foreign.gguf", "codellama", seed=3),
    }


@pytest.mark.parametrize("draft", ["target", "other", None])
def test_speculative_greedy_output_equals_plain_greedy_output(models, draft):
    """Tiny F32 models evaluate a batch exactly as one-token steps: outputs are identical."""
    plain = _backend(models["target"])
    spec = _backend(models["target"], models[draft] if draft else None)
    for prompt in PROMPTS:
        expected = _generate(plain, prompt, "off")
        got = _generate(spec, prompt, "auto")
        assert got.text == expected.text, prompt
        assert got.generated_tokens == expected.generated_tokens
        assert got.stop_reason == expected.stop_reason
        assert expected.drafted_tokens == 0


def test_a_draft_model_identical_to_the_target_has_every_guess_accepted(models):
    backend = _backend(models["target"], models["target"], k=4)
    result = _generate(backend, PROMPTS[1], "draft", token_healing=False)
    assert result.generated_tokens == 32
    assert result.draft_batches > 0 and result.drafted_tokens >= 24
    assert result.accepted_tokens == result.drafted_tokens


def test_a_poor_draft_model_is_rejected_and_the_text_is_unchanged(models):
    backend = _backend(models["target"], models["other"], k=4)
    plain = _generate(_backend(models["target"]), PROMPTS[2], "off")
    result = _generate(backend, PROMPTS[2], "draft")
    assert result.text == plain.text
    assert result.accepted_tokens < result.drafted_tokens


def test_speculation_off_never_drafts(models):
    backend = _backend(models["target"], models["target"])
    result = _generate(backend, PROMPTS[0], "off")
    assert result.drafted_tokens == result.accepted_tokens == result.draft_batches == 0


def test_the_next_request_reuses_the_prefix_left_by_a_speculative_generation(models):
    """Rejected guesses leave the KV cache: the prompt plus the generated tokens are reused,
    and the logits read from the reused state are those of a fresh evaluation."""
    backend = _backend(models["target"], models["other"], k=6)
    first = _generate(backend, PROMPTS[1], "auto", token_healing=False)
    assert first.drafted_tokens > first.accepted_tokens  # some guesses were thrown away
    prompt, _ = backend.build_tokens(GenerationRequest(parts=(PROMPTS[1],), max_tokens=1))
    follow_up = [*prompt, *first.token_ids, prompt[-1]]
    reused = backend._prefill(follow_up, threading.Event())
    assert reused >= len(prompt) + len(first.token_ids) - 1
    warm = np.array(_current_logits(backend))
    fresh = _backend(models["target"])
    assert fresh._prefill(follow_up, threading.Event()) == 0
    assert np.allclose(warm, _current_logits(fresh), atol=1e-4)


def _current_logits(backend: LlamaCppBackend) -> list[float]:
    import llama_cpp

    ptr = llama_cpp.llama_get_logits_ith(backend._llm._ctx.ctx, -1)
    return [ptr[i] for i in range(backend.n_vocab)]


def test_stop_rules_end_speculative_generation_at_the_same_token(models):
    backend = _backend(models["target"], models["target"], k=8)
    plain = _generate(_backend(models["target"]), PROMPTS[3], "off", token_healing=False)
    cut = plain.text[: len(plain.text) // 2]

    def stop(text: str) -> bool:
        return len(text) >= len(cut)

    expected = _generate(_backend(models["target"]), PROMPTS[3], "off", stop=stop)
    result = _generate(backend, PROMPTS[3], "draft", stop=stop)
    assert result.stop_reason == expected.stop_reason == "stop"
    assert result.text == expected.text and result.generated_tokens == expected.generated_tokens


def test_max_tokens_is_respected_with_long_drafts(models):
    backend = _backend(models["target"], models["target"], k=16)
    request = GenerationRequest(parts=(PROMPTS[0],), max_tokens=5, token_healing=False)
    result = backend.generate(request, threading.Event())
    assert result.generated_tokens == 5 and result.stop_reason == "length"
    assert result.drafted_tokens <= 4  # never guesses past the last token wanted


def test_cancellation_stops_a_speculative_generation_within_a_step(models):
    backend = _backend(models["target"], models["target"], k=4)
    cancel = threading.Event()
    seen: list[int] = []

    def stop(text: str) -> bool:
        seen.append(len(text))
        if len(seen) == 3:
            cancel.set()
        return False

    request = GenerationRequest(
        parts=(PROMPTS[1],), max_tokens=64, token_healing=False, stop=stop, speculative="draft"
    )
    result = backend.generate(request, cancel)
    assert result.stop_reason == "cancelled"
    assert result.generated_tokens == 3


def test_temperature_sampling_gives_the_plain_samples(models):
    """Each token is still drawn from the target's own distribution at its position."""
    request = {"temperature": 0.9, "token_healing": False}
    plain = _generate(_backend(models["target"]), PROMPTS[4], "off", **request)
    result = _generate(_backend(models["target"], models["target"]), PROMPTS[4], "draft", **request)
    assert result.accepted_tokens > 0
    assert result.text == plain.text


def test_a_draft_model_with_another_vocabulary_is_refused_clearly(models):
    with pytest.raises(ModelFileError, match=r"does not share the vocabulary.*draftPath"):
        _backend(models["target"], models["foreign"])


def test_a_missing_draft_model_names_the_draft_setting(models, tmp_path):
    with pytest.raises(ModelFileError, match=r"draft model.*draftPath"):
        _backend(models["target"], tmp_path / "absent.gguf")


class NeverDraft(DraftPolicy):
    """Refuses every draft, as the policy does where drafting does not pay."""

    def length(self, kind: str, available: int, draft_cost: float = 0.0) -> int:
        return 0


def test_a_generation_the_policy_never_drafts_for_costs_the_draft_model_nothing(models):
    backend = _backend(models["target"], models["target"])
    backend.policy = NeverDraft()
    result = _generate(backend, PROMPTS[1], "draft", token_healing=False)
    assert result.drafted_tokens == 0
    draft = backend._draft_model
    assert draft is not None and draft._llm.n_tokens == 0  # the prompt was never read there
    backend.policy = AlwaysDraft(4)
    drafted = _generate(backend, PROMPTS[1], "draft", token_healing=False)
    assert drafted.drafted_tokens > 0 and drafted.text == result.text
    assert draft._llm.n_tokens > 0  # read on the first draft asked for


def test_prepare_measures_batch_costs_only_when_speculation_is_on(models):
    """The warm-up times verification batches once, so the first completion does not."""
    settings = ModelSettings(path=str(models["target"]), n_ctx=512, n_threads=1)
    backend = LlamaCppBackend(settings)
    backend.prepare(speculative=False)
    assert not backend.policy.calibrated
    backend.prepare(speculative=True)
    assert backend.policy.calibrated
    assert backend.policy.cost(17) > 0
    plain = _generate(_backend(models["target"]), PROMPTS[1], "off")
    assert _generate(backend, PROMPTS[1], "auto").text == plain.text
