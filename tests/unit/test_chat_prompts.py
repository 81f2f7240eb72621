"""Chat prompt building (copilot_ls/prompts/chat.py) and answer streaming (AnswerStream):
slash parsing, context fitted to a token budget, history as earlier turns, chunks that always
add up to the final answer."""

from __future__ import annotations

from copilot_ls.backends.base import Special
from copilot_ls.chat import ConversationHistory
from copilot_ls.postprocess.answer import AnswerStream
from copilot_ls.prompts.chat import (
    ChatTurn,
    ContextPiece,
    chat_prompt,
    fit_context,
    parse_slash,
    piece_text,
)
from copilot_ls.prompts.refactor import render_chat

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def count(text: str) -> int:
    """One token per word, roughly what the tests need."""
    return len(text.split())


def piece(kind: str, words: int, title: str = "") -> ContextPiece:
    code = "\n".join(f"line{i} = {i}" for i in range(words // 3))
    return ContextPiece(title or kind, code, "python", kind)  # type: ignore[arg-type]


# ---- slash commands -----------------------------------------------------------------------


def test_slash_commands_are_read_with_the_text_after_them():
    fix = parse_slash("  /fix the loop never ends ")
    assert fix is not None and fix.name == "fix" and fix.action == "fix"
    assert fix.rest == "the loop never ends"
    doc = parse_slash("/doc")
    assert doc is not None and doc.action == "docstring" and doc.rest == ""
    assert parse_slash("/Explain").action == "explain"  # type: ignore[union-attr]
    assert parse_slash("/tests").action == "tests"  # type: ignore[union-attr]


def test_clear_and_unknown_commands_run_no_action():
    clear = parse_slash("/clear")
    assert clear is not None and clear.name == "clear" and clear.action is None
    unknown = parse_slash("/frobnicate it")
    assert unknown is not None and unknown.action is None


def test_plain_questions_and_paths_are_not_commands():
    assert parse_slash("What does /fix do?") is None
    assert parse_slash("/usr/lib holds what?") is None
    assert parse_slash("why?") is None


# ---- context budget -----------------------------------------------------------------------


def test_pieces_are_kept_in_order_while_they_fit():
    pieces = [piece("selection", 30), piece("enclosing", 30), piece("definition", 30)]
    costs = [count(piece_text(p)) + 8 for p in pieces]
    kept = fit_context(pieces, costs[0] + costs[1], count)
    assert [p.kind for p in kept] == ["selection", "enclosing"]


def test_a_later_piece_that_does_not_fit_is_skipped_but_a_smaller_one_after_it_is_kept():
    pieces = [piece("selection", 30), piece("enclosing", 300), piece("definition", 12)]
    budget = count(piece_text(pieces[0])) + count(piece_text(pieces[2])) + 16
    assert [p.kind for p in fit_context(pieces, budget, count)] == ["selection", "definition"]


def test_a_selection_larger_than_the_budget_is_cut_to_its_first_lines():
    big = piece("selection", 600)
    kept = fit_context([big], 60, count)
    assert len(kept) == 1 and kept[0].cut
    assert big.code.startswith(kept[0].code)
    assert count(piece_text(kept[0])) + 8 <= 60
    assert piece_text(kept[0]).endswith("\n...\n```")


def test_a_budget_too_small_for_a_few_lines_keeps_nothing():
    assert fit_context([piece("selection", 600)], 10, count) == []


# ---- the prompt ---------------------------------------------------------------------------


def test_the_question_comes_after_the_code_and_history_turns_are_earlier_messages():
    pieces = [ContextPiece("Selected code from calc.py (line 1)", "x = 1\n", "python", "selection")]
    history = [ChatTurn("What is x?", "x is one.")]
    prompt = chat_prompt("Why one?", pieces, history)
    assert prompt.user.startswith("Selected code from calc.py (line 1):\n```python\nx = 1\n```")
    assert prompt.user.endswith("Question: Why one?")
    assert prompt.examples == (("What is x?", "x is one."),)
    parts = render_chat(prompt, CHATML, lambda t: t in ("<|im_start|>", "<|im_end|>"))
    text = "".join(p if isinstance(p, str) else p.text for p in parts)
    assert text.index("What is x?") < text.index("x is one.") < text.index("Why one?")
    assert text.endswith("<|im_start|>assistant\n")
    assert Special("<|im_end|>") in parts  # the template's markup, as special tokens


def test_a_question_without_code_is_sent_as_it_is():
    assert chat_prompt("  What is a monad? ", [], []).user == "What is a monad?"


# ---- history --------------------------------------------------------------------------------


def test_history_keeps_the_last_turns_of_each_workspace_and_clear_forgets_one():
    history = ConversationHistory()
    for i in range(5):
        history.add("/a", ChatTurn(f"q{i}", f"a{i}"), limit=3)
    history.add("/b", ChatTurn("other", "answer"), limit=3)
    assert [t.question for t in history.turns("/a", 3)] == ["q2", "q3", "q4"]
    assert [t.question for t in history.turns("/a", 2)] == ["q3", "q4"]
    assert history.turns("/a", 0) == []
    history.clear("/a")
    assert history.turns("/a", 3) == [] and len(history.turns("/b", 3)) == 1


# ---- streaming --------------------------------------------------------------------------------


def stream_of(text: str, stops: tuple[str, ...] = ("\n### Instruction:",)) -> tuple[list[str], str]:
    """Feed `text` one character at a time, as a token loop would; the chunks and the answer."""
    chunks: list[str] = []
    stream = AnswerStream(stops, chunks.append)
    for end in range(1, len(text) + 1):
        stream.update(text[:end])
    return chunks, stream.finish(text)


def test_chunks_add_up_to_the_answer_without_the_surrounding_blanks():
    chunks, answer = stream_of("\n  It adds two numbers.\n\nThen it returns them.  \n")
    assert answer == "It adds two numbers.\n\nThen it returns them."
    assert "".join(chunks) == answer[: len("".join(chunks))]
    assert "".join(chunks) == answer  # everything but blanks was final before the end
    assert all(chunks)


def test_a_stop_marker_is_never_streamed_even_in_part():
    chunks, answer = stream_of("Sum of a and b.\n### Instruction:\nmore")
    assert answer == "Sum of a and b."
    streamed = "".join(chunks)
    assert "#" not in streamed and answer.startswith(streamed)


def test_a_text_that_looks_like_a_stop_start_is_released_once_it_is_not():
    chunks, answer = stream_of("a\n### Heading\nb")
    assert answer == "a\n### Heading\nb" == "".join(chunks)


def test_a_repeated_line_of_prose_ends_the_answer_and_is_never_streamed():
    looping = "It is fast enough.\n\nThe function is already optimized.\n\n"
    looping += "The function is already optimized.\n\nThe function is"
    chunks, answer = stream_of(looping)
    assert answer == "It is fast enough.\n\nThe function is already optimized."
    assert "".join(chunks) == answer


def test_repeated_lines_inside_code_blocks_are_kept():
    code = "```python\nresult = compute(a)\nresult = compute(a)\n```\nThat repeats the call twice."
    chunks, answer = stream_of(code)
    assert answer == code and "".join(chunks) == answer


def test_the_stream_reports_the_end_at_a_repeated_line():
    stream = AnswerStream((), None)
    assert stream.update("Same long line here.\nSame long line here") is False
    assert stream.update("Same long line here.\nSame long line here.\n") is True
