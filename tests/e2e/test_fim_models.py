"""FIM models: the server detects each family from the GGUF vocabulary and builds its prompt.

The models are tiny random-weight GGUF files written by the tests (tests/fixtures/tiny_gguf.py)
with each family's real FIM token texts, so their answers are noise, but the prompt layout,
token healing and the whole path through llama.cpp are real.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import inline, last_completion, lsp_session, open_document
from tests.fixtures.tiny_gguf import FAMILIES, SPECIAL_TOKENS, write_tiny_model

pytestmark = pytest.mark.model

CODE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return \n\nprint(sub(3, 1))\n"
EXPECTED_TEMPLATE = {"codestral": "codestral", "codellama": "codellama"}


@pytest.mark.parametrize("family", FAMILIES)
async def test_each_fim_family_gets_its_own_prompt_layout(tmp_path, family):
    model = write_tiny_model(tmp_path / f"tiny-{family}.gguf", family)
    tokens = SPECIAL_TOKENS[family]
    options = {"model": {"path": str(model), "nCtx": 1024}, "completion": {"maxTokens": 8}}
    async with lsp_session(options, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "ops.py", CODE)
        result = await inline(client, uri, 5, 11)
        assert result is not None  # noise or nothing, but an answer
        details = await last_completion(client)
    prompt = details["prompt"]
    assert details["template"] == EXPECTED_TEMPLATE.get(family, family)
    prefix = CODE[: CODE.index("    return \n\nprint") + len("    return ")]
    suffix = CODE[len(prefix) :]
    if family == "codestral":  # suffix first (SPM): typing only appends to the prompt
        assert prompt == f"{tokens['suf']}{suffix}{tokens['pre']}{prefix}"
    else:
        assert prompt == f"{tokens['pre']}{prefix}{tokens['suf']}{suffix}{tokens['mid']}"
    assert details["healed"]  # the token before the cursor was backed off and re-typed
    assert details["timings"]["prompt_tokens"] > 20


async def test_a_model_without_fim_tokens_is_prompted_with_the_prefix_only(tmp_path):
    model = write_tiny_model(tmp_path / "tiny-plain.gguf", None)
    options = {"model": {"path": str(model), "nCtx": 1024}, "completion": {"maxTokens": 8}}
    async with lsp_session(options, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "ops.py", CODE)
        await inline(client, uri, 5, 11)
        details = await last_completion(client)
    assert details["template"] == "none"
    assert details["prompt"] == CODE[: CODE.index("    return \n\nprint") + len("    return ")]


async def test_fim_can_be_switched_off_in_settings(tmp_path):
    model = write_tiny_model(tmp_path / "tiny-qwen.gguf", "qwen")
    options = {"model": {"path": str(model), "nCtx": 1024}, "completion": {"fim": "off"}}
    async with lsp_session(options, root=tmp_path) as client:
        uri = open_document(client, tmp_path / "ops.py", CODE)
        await inline(client, uri, 5, 11)
        details = await last_completion(client)
    assert details["template"] == "none"
