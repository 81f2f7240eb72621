"""Code-action prompts and their rendering with a chat template (copilot_ls/prompts/refactor.py)."""

from __future__ import annotations

import pytest

from copilot_ls.backends.base import Special
from copilot_ls.prompts.refactor import (
    CodeFacts,
    build_prompt,
    doc_comment_style,
    render_chat,
)

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIALS = {"<|im_start|>", "<|im_end|>"}
FACTS = CodeFacts(
    language="python",
    code="def add(a, b):\n    return a + b\n",
    name="add",
    kind="function",
    header="def add(a, b):",
    body_indent="    ",
)


def _text(parts) -> str:
    return "".join(p.text if isinstance(p, Special) else p for p in parts)


def test_the_python_docstring_prompt_opens_the_docstring_under_the_header():
    prompt = build_prompt("docstring", FACTS)
    assert prompt.answer_prefix == '```python\ndef add(a, b):\n    """'
    assert '"""' in prompt.stops
    assert FACTS.code.rstrip() in prompt.user


@pytest.mark.parametrize(
    "language,style", [("python", '"""'), ("rust", "///"), ("go", "//"), ("java", "/**")]
)
def test_doc_comment_styles_follow_the_language(language, style):
    assert doc_comment_style(language) == style


def test_a_block_comment_docstring_prompt_stops_at_the_comment_end():
    prompt = build_prompt("docstring", CodeFacts(language="java", code="int f() { return 1; }"))
    assert prompt.answer_prefix.endswith("/**\n * ")
    assert "*/" in prompt.stops


@pytest.mark.parametrize("action", ["annotations", "simplify", "extract", "fix"])
def test_rewrite_prompts_open_a_fence_in_the_language_and_stop_at_its_end(action):
    prompt = build_prompt(action, FACTS)
    assert prompt.answer_prefix == "```python\n"
    assert prompt.stops == ("```",)
    assert "def add(a, b):" in prompt.user


def test_the_fix_prompt_quotes_the_diagnostic():
    facts = CodeFacts(language="python", code="x = y\n", diagnostic="undefined name 'y' (line 3)")
    assert "undefined name 'y' (line 3)" in build_prompt("fix", facts).user


def test_the_extract_prompt_shows_the_selected_lines_and_the_whole_code():
    facts = CodeFacts(language="python", code="def f():\n    a = 1\n    b = 2\n", selection="a = 1")
    user = build_prompt("extract", facts).user
    assert "a = 1\n```" in user
    assert "def f():" in user


def test_the_python_tests_prompt_starts_the_file_with_the_import_and_a_test_function():
    facts = CodeFacts(
        language="python", code=FACTS.code, name="add", test_imports="from m import add"
    )
    prompt = build_prompt("tests", facts)
    assert prompt.answer_prefix == "```python\nfrom m import add\n\n\ndef test_"
    assert "pytest" in prompt.user


def test_the_explain_prompt_asks_for_prose_without_an_answer_prefix():
    prompt = build_prompt("explain", FACTS)
    assert prompt.answer_prefix == ""
    assert prompt.stops == ()
    assert "Explain" in prompt.user


def test_the_chat_template_markup_becomes_special_tokens_and_ends_with_the_answer_prefix():
    prompt = build_prompt("simplify", FACTS)
    parts = render_chat(prompt, CHATML, SPECIALS.__contains__)
    assert parts[0] == Special("<|im_start|>")
    assert Special("<|im_end|>") in parts
    assert _text(parts).endswith("<|im_start|>assistant\n```python\n")
    assert any(prompt.user in p for p in parts if isinstance(p, str))


def test_special_token_text_inside_the_code_stays_plain_text():
    facts = CodeFacts(language="python", code="TOKEN = '<|im_end|>'\n")
    parts = render_chat(build_prompt("explain", facts), CHATML, SPECIALS.__contains__)
    specials = [p for p in parts if isinstance(p, Special)]
    # system and user turns open and close, the assistant turn only opens: none from the code
    assert specials.count(Special("<|im_start|>")) == 3
    assert specials.count(Special("<|im_end|>")) == 2
    assert "TOKEN = '<|im_end|>'" in _text(parts)


def test_a_model_without_a_chat_template_gets_a_plain_instruction_prompt():
    parts = render_chat(build_prompt("simplify", FACTS), None, SPECIALS.__contains__)
    text = _text(parts)
    assert all(isinstance(p, str) for p in parts)
    assert "### Instruction:" in text
    assert text.endswith("### Response:\n```python\n")


def test_a_template_that_fails_falls_back_to_the_plain_prompt():
    template = "{{ raise_exception('no system role') }}"
    text = _text(render_chat(build_prompt("simplify", FACTS), template, SPECIALS.__contains__))
    assert "### Instruction:" in text


def test_examples_become_earlier_turns():
    prompt = build_prompt("annotations", FACTS)
    assert prompt.examples
    text = _text(render_chat(prompt, CHATML, SPECIALS.__contains__))
    assert text.count("<|im_start|>user") == 2
    assert text.index("greet(name: str") < text.index("def add(a, b)")
