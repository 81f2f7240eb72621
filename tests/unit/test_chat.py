"""The chat data path with a scripted model (copilot_ls/chat.py): context, streaming, history,
slash commands, code blocks offered as validated edits, cancellation, and refusals."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from copilot_ls.backends.base import Backend, Cancelled
from copilot_ls.backends.runner import ModelRunner
from copilot_ls.chat import NO_ANSWER, Chat, ChatRefused, ChatRequest, offer_edit
from copilot_ls.index.extract import extract_file
from copilot_ls.index.store import SymbolIndex
from copilot_ls.postprocess.edits import apply_edits
from copilot_ls.refactor import Refactorer
from copilot_ls.settings import ChatSettings, ModelSettings, Settings
from tests.fixtures.scripted_backend import CHATML, ScriptedBackend

pytest.importorskip("tree_sitter_python")

PRICING = '''def compute_shipping_cost(weight_kg, distance_km):
    """Price in euros of a parcel."""
    return round(weight_kg * distance_km * 0.02, 2)
'''
ORDERS = """from pricing import compute_shipping_cost


def parcel_weight(items):
    return sum(item.weight for item in items)


def order_total(order):
    weight = parcel_weight(order.items)
    shipping = compute_shipping_cost(weight, order.distance)
    return order.subtotal + shipping
"""


def chat_backend(*answers: str, **options: Any) -> ScriptedBackend:
    """A scripted backend with a ChatML template."""
    return ScriptedBackend(*answers, template=CHATML, **options)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for name, text in (("pricing.py", PRICING), ("orders.py", ORDERS)):
        (tmp_path / name).write_text(text)
    return tmp_path


def make_chat(
    backend: Backend, root: Path, settings: Settings | None = None
) -> tuple[Chat, SymbolIndex]:
    index = SymbolIndex()
    for path in sorted(root.glob("*.py")):
        index.replace(extract_file(str(path), path.read_bytes(), mtime_ns=path.stat().st_mtime_ns))
    chosen = settings or Settings()
    runner = ModelRunner(lambda: backend)
    chat = Chat(runner, lambda: chosen, lambda: index, Refactorer(runner, lambda: chosen))
    return chat, index


def ask(
    root: Path, question: str, select: str = "", at: str = "", text: str = ORDERS
) -> ChatRequest:
    """A question about `select` (or the cursor at `at`) in orders.py."""
    if select:
        span = (text.index(select), text.index(select) + len(select))
    elif at:
        span = (text.index(at), text.index(at))
    else:
        span = None
    path = str(root / "orders.py")
    return ChatRequest("c1", question, path, text, span, (str(root),), str(root))


def no_file(path: str) -> str | None:
    return None


# ---- plain questions -------------------------------------------------------------------------


async def test_the_answer_streams_in_chunks_that_add_up_to_it(workspace):
    backend = chat_backend("\nIt adds the shipping cost to the subtotal.\n")
    chat, _ = make_chat(backend, workspace)
    chunks: list[str] = []
    result = await chat.ask(
        ask(workspace, "What does this do?", at="return order"), no_file, chunks.append
    )
    assert result.answer == "It adds the shipping cost to the subtotal."
    assert len(chunks) > 5 and "".join(chunks) == result.answer
    assert chat.last is result


async def test_the_prompt_shows_the_selection_its_function_and_the_definitions_it_uses(workspace):
    backend = chat_backend("Fine.")
    chat, _ = make_chat(backend, workspace)
    select = "    shipping = compute_shipping_cost(weight, order.distance)\n"
    result = await chat.ask(ask(workspace, "Is this right?", select=select), no_file, None)
    prompt = backend.prompts[0]
    assert "Selected code from orders.py (line 10):\n```python\nshipping = compute" in prompt
    assert "The function `order_total` around the selection, in orders.py" in prompt
    assert "Definition of `compute_shipping_cost` in pricing.py" in prompt  # from the index
    assert "return round(weight_kg * distance_km * 0.02, 2)" in prompt
    assert prompt.index("Selected code") < prompt.index("Question: Is this right?")
    assert result.context[:2] == (
        "Selected code from orders.py (line 10)",
        "The function `order_total` around the selection, in orders.py",
    )


async def test_a_helper_defined_in_the_same_file_is_shown_from_the_buffer(workspace):
    backend = chat_backend("Fine.")
    chat, _ = make_chat(backend, workspace)
    await chat.ask(ask(workspace, "Explain", at="weight = parcel"), no_file, None)
    assert "Definition of `parcel_weight` in orders.py" in backend.prompts[0]
    assert "return sum(item.weight for item in items)" in backend.prompts[0]


async def test_a_selected_function_is_shown_once(workspace):
    backend = chat_backend("Fine.")
    chat, _ = make_chat(backend, workspace)
    whole = ORDERS[ORDERS.index("def order_total") :]
    result = await chat.ask(ask(workspace, "Explain", select=whole), no_file, None)
    assert result.context[0] == "Selected code from orders.py (lines 8-11)"
    assert not any(title.startswith("The function") for title in result.context)
    assert backend.prompts[0].count("def order_total(order):") == 1


async def test_the_context_budget_leaves_out_what_does_not_fit(workspace):
    backend = chat_backend("Fine.")
    tight = Settings(chat=ChatSettings(context_tokens=60))
    chat, _ = make_chat(backend, workspace, tight)
    result = await chat.ask(ask(workspace, "Explain", at="weight = parcel"), no_file, None)
    assert result.context == ("The function `order_total` at the cursor, in orders.py",)
    assert "pricing.py" not in backend.prompts[0]


async def test_without_a_range_the_file_itself_is_the_context(workspace):
    backend = chat_backend("Orders.")
    chat, _ = make_chat(backend, workspace)
    result = await chat.ask(ask(workspace, "What is this file?"), no_file, None)
    assert result.context[0] == "The Python file orders.py"
    assert "def parcel_weight(items):" in backend.prompts[0]


async def test_a_question_without_a_document_has_no_code_context(workspace):
    backend = chat_backend("A pure function has no side effects.")
    chat, _ = make_chat(backend, workspace)
    request = ChatRequest("c1", "What is a pure function?", workspace=str(workspace))
    result = await chat.ask(request, no_file, None)
    assert result.context == () and result.answer.startswith("A pure function")
    assert "<|im_start|>user\nWhat is a pure function?<|im_end|>" in backend.prompts[0]


async def test_an_empty_answer_says_so_and_is_not_remembered(workspace):
    chat, _ = make_chat(chat_backend("  \n"), workspace)
    result = await chat.ask(ask(workspace, "Hm?"), no_file, None)
    assert result.answer == NO_ANSWER
    assert chat.history.turns(str(workspace), 6) == []


# ---- history ---------------------------------------------------------------------------------


async def test_the_second_question_is_asked_with_the_first_turn(workspace):
    backend = chat_backend("It returns the total.", "Because shipping is added.")
    chat, _ = make_chat(backend, workspace)
    await chat.ask(ask(workspace, "What does it return?", at="return order"), no_file, None)
    second = await chat.ask(ask(workspace, "Why?", at="return order"), no_file, None)
    prompt = backend.prompts[1]
    assert "<|im_start|>user\nWhat does it return?<|im_end|>" in prompt
    assert "<|im_start|>assistant\nIt returns the total.<|im_end|>" in prompt
    assert prompt.index("It returns the total.") < prompt.index("Question: Why?")
    assert second.history_turns == 1


async def test_only_the_last_history_turns_are_kept(workspace):
    backend = chat_backend("answer")
    chat, _ = make_chat(backend, workspace, Settings(chat=ChatSettings(history_turns=2)))
    for i in range(4):
        await chat.ask(ask(workspace, f"question {i}?"), no_file, None)
    last = backend.prompts[-1]
    assert "question 0?" not in last  # the two turns before the fourth question are 1 and 2
    assert "question 1?" in last and "question 2?" in last
    assert chat.last is not None and chat.last.history_turns == 2


async def test_the_oldest_turns_are_dropped_when_the_prompt_would_not_fit_n_ctx(workspace):
    long_answer = "word " * 120
    backend = chat_backend(long_answer, n_ctx=400)
    settings = Settings(chat=ChatSettings(max_tokens=64, context_tokens=60))
    chat, _ = make_chat(backend, workspace, settings)
    for i in range(3):
        await chat.ask(ask(workspace, f"question {i}?"), no_file, None)
    assert chat.last is not None and chat.last.dropped_turns >= 1
    assert "question 0?" not in backend.prompts[-1] and "question 2?" in backend.prompts[-1]
    assert len(backend.prompts[-1]) // 4 + 64 <= 400


async def test_clear_forgets_the_conversation_without_the_model(workspace):
    backend = chat_backend("It returns the total.")
    chat, _ = make_chat(backend, workspace)
    await chat.ask(ask(workspace, "What does it return?"), no_file, None)
    cleared = await chat.ask(ask(workspace, "/clear"), no_file, None)
    assert cleared.command == "clear" and len(backend.prompts) == 1
    await chat.ask(ask(workspace, "And now?"), no_file, None)
    assert "What does it return?" not in backend.prompts[-1]


async def test_a_question_too_long_for_the_context_is_refused(workspace):
    backend = chat_backend("x", n_ctx=64)
    chat, _ = make_chat(backend, workspace)
    with pytest.raises(ChatRefused, match=r"model\.nCtx"):
        await chat.ask(ask(workspace, "why " * 200), no_file, None)


# ---- slash commands --------------------------------------------------------------------------


async def test_doc_returns_a_validated_docstring_edit_without_applying_it(workspace):
    backend = chat_backend('Total price of an order, shipping included."""\n```')
    chat, _ = make_chat(backend, workspace)
    result = await chat.ask(ask(workspace, "/doc", at="weight = parcel"), no_file, None)
    assert result.command == "doc" and not result.refused
    (change,) = result.changes
    new = apply_edits(ORDERS, change.edits)
    assert 'def order_total(order):\n    """Total price of an order, shipping included."""' in new
    assert (workspace / "orders.py").read_text() == ORDERS  # nothing applied
    assert "Total price of an order" in result.answer


async def test_fix_passes_the_words_after_it_as_the_problem(workspace):
    backend = chat_backend(
        "def parcel_weight(items):\n    return sum(i.weight for i in items)\n```"
    )
    chat, _ = make_chat(backend, workspace)
    result = await chat.ask(
        ask(workspace, "/fix empty items crash", at="return sum"), no_file, None
    )
    assert "empty items crash" in backend.prompts[0]
    assert result.changes and result.command == "fix"


async def test_explain_answers_in_prose_and_is_remembered(workspace):
    backend = chat_backend("It sums the weights.", "ok")
    chat, _ = make_chat(backend, workspace)
    result = await chat.ask(ask(workspace, "/explain", at="return sum"), no_file, None)
    assert result.answer == "It sums the weights." and not result.changes
    await chat.ask(ask(workspace, "Thanks"), no_file, None)
    assert "It sums the weights." in backend.prompts[-1]


async def test_a_refused_action_explains_why_and_an_unknown_command_lists_the_commands(workspace):
    backend = chat_backend("def broken(:\n```")
    chat, _ = make_chat(backend, workspace)
    refused = await chat.ask(ask(workspace, "/fix", at="return sum"), no_file, None)
    assert refused.refused and not refused.changes and refused.answer.startswith("/fix: ")
    unknown = await chat.ask(ask(workspace, "/frob"), no_file, None)
    assert "/explain" in unknown.answer and len(backend.prompts) == 1


# ---- code blocks offered as edits ------------------------------------------------------------

REWRITE = """Here is a simpler version:

```python
def parcel_weight(items):
    return sum(i.weight for i in items)
```
"""


async def test_a_code_block_rewriting_the_function_is_offered_as_a_validated_edit(workspace):
    chat, _ = make_chat(chat_backend(REWRITE), workspace)
    result = await chat.ask(ask(workspace, "Simplify", at="return sum"), no_file, None)
    assert result.answer.startswith("Here is a simpler version") and not result.refused
    (change,) = result.changes
    assert "    return sum(i.weight for i in items)\n" in apply_edits(ORDERS, change.edits)


def test_a_code_block_that_breaks_the_file_is_refused_but_the_answer_stays(workspace):
    broken = "```python\ndef parcel_weight(items:\n    return 0\n```"
    changes, refused = offer_edit(ask(workspace, "?", at="return sum"), broken)
    assert changes == () and "syntax" in refused


def test_an_example_call_is_not_taken_for_a_new_version_of_the_function(workspace):
    example = "Call it like this:\n```python\nprint(parcel_weight(order.items))\n```"
    assert offer_edit(ask(workspace, "?", at="return sum"), example) == ((), "")


def test_a_code_block_for_selected_lines_must_share_their_names(workspace):
    select = "    weight = parcel_weight(order.items)\n"
    request = ask(workspace, "?", select=select)
    changes, _ = offer_edit(request, "```python\nweight = parcel_weight(list(order.items))\n```")
    assert changes and apply_edits(ORDERS, changes[0].edits).count("list(order.items)") == 1
    assert offer_edit(request, "```python\nimport os\n```") == ((), "")


def test_an_answer_cut_at_the_token_limit_offers_no_edit(workspace):
    changes, refused = offer_edit(ask(workspace, "?", at="return sum"), REWRITE, cut_short=True)
    assert changes == () and "chat.maxTokens" in refused


def test_files_outside_the_workspace_get_no_edit(workspace, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    request = replace(ask(workspace, "?", at="return sum"), roots=(str(elsewhere),))
    changes, refused = offer_edit(request, REWRITE)
    assert changes == () and "outside the workspace" in refused


# ---- cancellation ------------------------------------------------------------------------------


async def test_cancelling_the_caller_stops_generation_and_keeps_no_turn(workspace):
    backend = chat_backend("a long answer " * 50)
    backend.release.clear()
    chat, _ = make_chat(backend, workspace)
    task = asyncio.ensure_future(chat.ask(ask(workspace, "Explain"), no_file, None))
    await asyncio.to_thread(backend.started.wait, 5)
    task.cancel()
    backend.release.set()
    with pytest.raises((asyncio.CancelledError, Cancelled)):
        await task
    assert chat.history.turns(str(workspace), 6) == []


def test_settings_have_chat_defaults():
    chat = Settings().chat
    assert (chat.enable, chat.max_tokens, chat.history_turns, chat.context_tokens) == (
        True,
        384,
        6,
        512,
    )
    assert ModelSettings().n_ctx == 4096
