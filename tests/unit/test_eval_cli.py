"""`copilot-ls eval`: its settings, and clear errors (exit code 2) before any model work."""

from __future__ import annotations

import argparse
import logging

import pytest

from copilot_ls.cli import main
from copilot_ls.cli_eval import EVAL_PROMPT_TOKENS, _settings
from tests.unit.test_eval_sites import ORDERS, PRICING


@pytest.fixture(autouse=True)
def _keep_logging():
    """`main` points the root logger at the (captured) stderr; later tests get it back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def eval_args(**overrides: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "settings": None,
        "model": None,
        "max_prompt_tokens": None,
        "fresh": False,
    }
    values.update(overrides)
    return argparse.Namespace(**values)


def test_the_eval_prompt_budget_is_smaller_than_the_editor_default_unless_set():
    assert _settings(eval_args()).completion.max_prompt_tokens == EVAL_PROMPT_TOKENS
    from_settings = _settings(eval_args(settings='{"completion": {"maxPromptTokens": 900}}'))
    assert from_settings.completion.max_prompt_tokens == 900
    flag = _settings(
        eval_args(settings='{"completion": {"maxPromptTokens": 900}}', max_prompt_tokens=300)
    )
    assert flag.completion.max_prompt_tokens == 300


def test_settings_may_come_wrapped_in_copilotls_and_model_sets_the_path():
    settings = _settings(
        eval_args(settings='{"copilotLs": {"completion": {"contextTokens": 99}}}', model="/m.gguf")
    )
    assert settings.completion.context_tokens == 99 and settings.model.path == "/m.gguf"


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]", '{"completion": 3}', '{"model": "m.gguf"}'])
def test_unusable_settings_are_a_clear_error(tmp_path, capsys, bad):
    assert main(["eval", str(tmp_path), "--settings", bad]) == 2
    assert "copilot-ls eval: --settings" in capsys.readouterr().err


def test_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_n_must_be_positive(tmp_path, capsys):
    assert main(["eval", str(tmp_path), "--n", "0"]) == 2
    assert "--n must be at least 1" in capsys.readouterr().err


def test_a_folder_without_eligible_lines_is_a_clear_error_with_a_hint(tmp_path, capsys):
    (tmp_path / "only.py").write_text('"""Nothing but a docstring."""\n')
    assert main(["eval", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no line of" in err and "try --sites any" in err


def test_a_missing_model_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    (tmp_path / "pricing.py").write_text(PRICING)
    (tmp_path / "orders.py").write_text(ORDERS)
    missing = tmp_path / "missing.gguf"
    assert main(["eval", str(tmp_path), "--model", str(missing)]) == 2
    assert f"model file not found at {missing}" in capsys.readouterr().err


def test_fresh_turns_speculative_decoding_off():
    assert _settings(eval_args()).completion.speculative == "auto"
    assert _settings(eval_args(fresh=True)).completion.speculative == "off"
