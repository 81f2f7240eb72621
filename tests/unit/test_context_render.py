"""The chosen context is written as comments, or in the model's repo-level format."""

from copilot_ls.backends.base import Special
from copilot_ls.context.render import comment_block, comment_marker, file_text, render
from copilot_ls.context.selection import ContextItem, ContextSelection, SelectedFile
from copilot_ls.prompts.fim import FIM_TEMPLATES, repo_layout

PRICING = SelectedFile(
    "/w/pricing.py",
    ((3, "def cost(weight):"), (4, "    return weight * 2"), (9, "    def total(self):")),
    1,
)
SELECTION = ContextSelection(
    (ContextItem("/w/pricing.py", 3, 10, "definition", 1.0, "cost"),), (PRICING,)
)


def count(text: str) -> int:
    return len(text.split()) + 1


def test_skipped_lines_are_marked_with_an_indented_ellipsis_comment():
    assert file_text(PRICING) == (
        "def cost(weight):\n    return weight * 2\n    # ...\n    def total(self):\n"
    )


def test_the_comment_syntax_follows_the_file_type():
    assert comment_marker("/w/a.py") == "#"
    assert comment_marker("/w/a.ts") == "//"
    assert comment_marker("/w/a.lua") == "--"
    assert comment_marker("/w/Makefile") == "#"


def test_without_a_repo_layout_each_file_is_code_under_its_relative_path_in_a_comment():
    block = comment_block(SELECTION, "/w/orders.py", "/w")
    assert block == (
        "# pricing.py\ndef cost(weight):\n    return weight * 2\n    # ...\n"
        "    def total(self):\n\n# orders.py\n"
    )
    assert comment_block(SELECTION, "/w/orders.js", "/w").startswith("// pricing.py\n")


def test_comment_context_goes_in_front_of_the_prefix_and_keeps_the_cursor_part():
    rendered = render(SELECTION, "/w/orders.py", "/w", None, count)
    prompt = rendered.prompt(FIM_TEMPLATES["starcoder"], "x = ", "\n")
    assert prompt.parts[1] == rendered.comment_block + "x = "
    assert prompt.cursor_part == 1
    assert rendered.tokens == count(rendered.comment_block)
    assert rendered.items == SELECTION.items


def test_with_a_repo_layout_each_file_follows_a_separator_token_and_its_path():
    layout = repo_layout(FIM_TEMPLATES["qwen"], lambda token: True)
    rendered = render(SELECTION, "/w/app/orders.py", "/w", layout, count)
    prompt = rendered.prompt(FIM_TEMPLATES["qwen"], "x = ", "\n")
    assert prompt.parts == (
        Special("<|repo_name|>"),
        "w\n",
        Special("<|file_sep|>"),
        "pricing.py\n" + file_text(PRICING),
        Special("<|file_sep|>"),
        "app/orders.py\n",
        Special("<|fim_prefix|>"),
        "x = ",
        Special("<|fim_suffix|>"),
        "\n",
        Special("<|fim_middle|>"),
    )
    assert prompt.parts[prompt.cursor_part] == "x = "
    specials = 3  # repo name, two separators
    texts = count("w\n") + count("pricing.py\n" + file_text(PRICING)) + count("app/orders.py\n")
    assert rendered.tokens == specials + texts


def test_an_empty_selection_leaves_the_prompt_as_the_template_makes_it():
    rendered = render(ContextSelection(), "/w/a.py", "/w", None, count)
    assert rendered.tokens == 0
    template = FIM_TEMPLATES["qwen"]
    assert rendered.prompt(template, "a", "b") == template.build("a", "b")
