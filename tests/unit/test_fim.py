"""FIM templates are chosen from the vocabulary and lay prompts out per family."""

import pytest

from copilot_ls.backends.base import Special
from copilot_ls.prompts.fim import (
    FIM_TEMPLATES,
    PREFIX_ONLY,
    build_repo_prompt,
    detect_template,
    repo_context_parts,
    repo_layout,
)


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


FILES = [("lib/pricing.py", "def cost():\n    return 1\n")]


def test_qwen_repo_level_prompt_puts_the_current_path_before_the_fim_markers():
    template = FIM_TEMPLATES["qwen"]
    layout = repo_layout(template, vocab("<|file_sep|>", "<|repo_name|>"))
    context = repo_context_parts(layout, "shop", FILES)
    prompt = build_repo_prompt(template, layout, context, "orders.py", "a = ", "\nb")
    assert prompt.parts == (
        Special("<|repo_name|>"),
        "shop\n",
        Special("<|file_sep|>"),
        "lib/pricing.py\ndef cost():\n    return 1\n",
        Special("<|file_sep|>"),
        "orders.py\n",
        Special("<|fim_prefix|>"),
        "a = ",
        Special("<|fim_suffix|>"),
        "\nb",
        Special("<|fim_middle|>"),
    )
    assert prompt.parts[prompt.cursor_part] == "a = "


def test_starcoder2_repo_level_prompt_puts_the_current_path_inside_the_prefix():
    template = FIM_TEMPLATES["starcoder"]
    layout = repo_layout(template, vocab("<file_sep>", "<repo_name>"))
    context = repo_context_parts(layout, "shop", FILES)
    prompt = build_repo_prompt(template, layout, context, "orders.py", "a = ", "\nb")
    assert prompt.parts == (
        Special("<repo_name>"),
        "shop",
        Special("<file_sep>"),
        "lib/pricing.py\ndef cost():\n    return 1\n",
        Special("<file_sep>"),
        Special("<fim_prefix>"),
        "orders.py\na = ",
        Special("<fim_suffix>"),
        "\nb",
        Special("<fim_middle>"),
    )
    assert prompt.parts[prompt.cursor_part] == "orders.py\na = "


def test_the_repo_name_is_left_out_when_the_vocabulary_lacks_its_token_or_it_is_unknown():
    template = FIM_TEMPLATES["starcoder"]
    layout = repo_layout(template, vocab("<file_sep>"))
    assert layout is not None and layout.repo_name is None
    assert repo_context_parts(layout, "shop", FILES)[0] == Special("<file_sep>")
    full = repo_layout(template, vocab("<file_sep>", "<repo_name>"))
    assert repo_context_parts(full, "", FILES)[0] == Special("<file_sep>")


def test_a_file_text_ends_with_exactly_one_newline():
    layout = repo_layout(FIM_TEMPLATES["qwen"], vocab("<|file_sep|>"))
    parts = repo_context_parts(layout, "", [("a.py", "x = 1"), ("b.py", "y = 2\n\n")])
    assert parts[1] == "a.py\nx = 1\n" and parts[3] == "b.py\ny = 2\n"


@pytest.mark.parametrize("family", sorted(set(FIM_TEMPLATES) - {"qwen", "starcoder"}))
def test_families_without_repo_level_training_have_no_repo_layout(family):
    assert repo_layout(FIM_TEMPLATES[family], lambda token: True) is None


def test_no_repo_layout_without_the_file_separator_token():
    assert repo_layout(FIM_TEMPLATES["qwen"], vocab("<|repo_name|>")) is None


@pytest.mark.parametrize("family", sorted(FIM_TEMPLATES))
def test_every_template_ends_its_cursor_part_with_the_prefix(family):
    prompt = FIM_TEMPLATES[family].build("a = ", "\nb")
    assert prompt.parts[prompt.cursor_part] == "a = "
    assert "\nb" in prompt.parts and prompt.uses_suffix
