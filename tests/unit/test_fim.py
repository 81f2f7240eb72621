"""FIM templates are chosen from the vocabulary and lay prompts out per family."""

import pytest

from copilot_ls.backends.base import Special
from copilot_ls.prompts.fim import FIM_TEMPLATES, PREFIX_ONLY, detect_template


def vocab(*tokens: str):
    return lambda text: text in tokens


@pytest.mark.parametrize(
    ("tokens", "family"),
    [
        (("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"), "starcoder"),
        (("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"), "qwen"),
        (("<PRE>", "<SUF>", "<MID>", "<EOT>"), "codellama"),
        (("▁<PRE>", "▁<SUF>", "▁<MID>"), "codellama-spm"),
        (("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"), "deepseek"),
        (("[PREFIX]", "[SUFFIX]", "[MIDDLE]"), "codestral"),
    ],
)
def test_family_is_detected_from_its_marker_tokens(tokens, family):
    assert detect_template(vocab(*tokens)).family == family


def test_a_vocabulary_without_fim_tokens_gets_prefix_only_prompts():
    template = detect_template(vocab("<|endoftext|>", "<file_sep>", "<repo_name>"))
    assert template is PREFIX_ONLY
    prompt = template.build("def f(", ")")
    assert prompt.parts == ("def f(",) and prompt.cursor_part == 0


def test_psm_layout_puts_the_cursor_at_the_end_of_the_prefix_part():
    prompt = FIM_TEMPLATES["starcoder"].build("a = ", "\nb")
    assert prompt.parts == (
        Special("<fim_prefix>"),
        "a = ",
        Special("<fim_suffix>"),
        "\nb",
        Special("<fim_middle>"),
    )
    assert prompt.parts[prompt.cursor_part] == "a = "


def test_codestral_puts_the_suffix_first():
    prompt = FIM_TEMPLATES["codestral"].build("a = ", "\nb")
    assert prompt.parts == (Special("[SUFFIX]"), "\nb", Special("[PREFIX]"), "a = ")
    assert prompt.cursor_part == 3
