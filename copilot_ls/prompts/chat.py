"""Prompts stage: the chat prompt (code context, conversation, question), fitted to budgets.

Text in, text out. The code the question is about arrives as `ContextPiece`s in priority order
(the selection, the definition around it, definitions of the names it uses); `fit_context`
keeps what fits the `chat.contextTokens` budget. The earlier turns of the conversation become
earlier user/assistant messages of the model's own chat template (`render_chat` of
`prompts/refactor.py`); only the new question carries the code, so a long conversation does
not repeat it. Also here: reading the slash commands (`/explain`, `/fix`, `/tests`, `/doc`,
`/clear`) at the start of a question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from copilot_ls.prompts.refactor import RefactorPrompt, fence, language_name

CHAT_SYSTEM = (
    "You are a helpful coding assistant inside the user's editor. Answer questions about "
    "their code briefly and accurately. When you change code, give the whole changed code "
    "in one fenced code block."
)
STOPS = ("\n### Instruction:",)
"""The next turn of the plain instruction format (models without a chat template)."""
SLASH_ACTIONS = {"explain": "explain", "fix": "fix", "tests": "tests", "doc": "docstring"}
"""Slash command -> the code action it runs."""
SLASH = re.compile(r"^/([A-Za-z]+)\b[ \t]*(.*)$", re.DOTALL)
PIECE_OVERHEAD = 8
"""Tokens a piece costs besides its title and code (fences, newlines)."""
MIN_PIECE_LINES = 3
"""A piece cut to fit the budget keeps at least this many lines, or is left out."""

PieceKind = Literal["selection", "enclosing", "file", "definition"]


@dataclass(frozen=True)
class ChatTurn:
    """One earlier question and its answer."""

    question: str
    answer: str


@dataclass(frozen=True)
class ContextPiece:
    """Some code the model is shown with the question, under a title saying what it is."""

    title: str
    code: str
    language: str
    kind: PieceKind
    cut: bool = False
    """Only its first lines are shown (the rest did not fit the budget)."""


@dataclass(frozen=True)
class SlashCommand:
    name: str
    """`explain`, `fix`, `tests`, `doc`, `clear`, or an unknown word."""
    rest: str
    """What follows the command (for `/fix`: the problem to fix)."""

    @property
    def action(self) -> str | None:
        """The code action it runs; None for `/clear` and unknown commands."""
        return SLASH_ACTIONS.get(self.name)


def parse_slash(question: str) -> SlashCommand | None:
    """The slash command a question starts with (`/fix the loop never ends`); None for a
    plain question. A path (`/usr/lib`) is not a command."""
    match = SLASH.match(question.strip())
    if match is None or question.strip()[len(match.group(1)) + 1 :][:1] == "/":
        return None
    return SlashCommand(match.group(1).lower(), match.group(2).strip())


def piece_text(piece: ContextPiece) -> str:
    """A piece as the model reads it: its title, then its code in a fenced block."""
    code = piece.code.rstrip("\n")
    if piece.cut:
        code += "\n..."
    return f"{piece.title}:\n{fence(piece.language)}\n{code}\n```"


def fit_context(
    pieces: Sequence[ContextPiece], budget: int, count_tokens: Callable[[str], int]
) -> list[ContextPiece]:
    """The pieces, in the order given, that fit `budget` tokens. The first piece that does
    not fit whole (the selection, say) is cut to its first lines when that leaves it useful;
    later ones that do not fit are left out."""
    kept: list[ContextPiece] = []
    used = 0
    for piece in pieces:
        cost = count_tokens(piece_text(piece)) + PIECE_OVERHEAD
        if used + cost <= budget:
            kept.append(piece)
            used += cost
        elif not kept:
            cut = _cut_to_fit(piece, budget - used, count_tokens)
            if cut is not None:
                kept.append(cut)
                used += count_tokens(piece_text(cut)) + PIECE_OVERHEAD
    return kept


def _cut_to_fit(
    piece: ContextPiece, room: int, count_tokens: Callable[[str], int]
) -> ContextPiece | None:
    lines = piece.code.rstrip("\n").split("\n")
    fixed = count_tokens(piece_text(replace(piece, code="", cut=True))) + PIECE_OVERHEAD
    used, keep = fixed, 0
    for line in lines:
        used += count_tokens(line) + 1
        if used > room:
            break
        keep += 1
    if keep < MIN_PIECE_LINES:
        return None
    return replace(piece, code="\n".join(lines[:keep]) + "\n", cut=True)


def question_text(question: str, pieces: Sequence[ContextPiece]) -> str:
    """The user message: the code context, then the question."""
    if not pieces:
        return question.strip()
    blocks = "\n\n".join(piece_text(p) for p in pieces)
    return f"{blocks}\n\nQuestion: {question.strip()}"


def chat_prompt(
    question: str, pieces: Sequence[ContextPiece], history: Sequence[ChatTurn]
) -> RefactorPrompt:
    """The prompt of one chat question: the conversation so far as earlier messages, then
    the code context and the question. The answer is the model's own, from its first word."""
    turns = tuple((turn.question, turn.answer) for turn in history)
    return RefactorPrompt(CHAT_SYSTEM, question_text(question, pieces), "", STOPS, turns)


def selection_title(path: str, first_line: int, last_line: int) -> str:
    """`Selected code from calc.py (lines 3-7)`, lines 1-based."""
    lines = f"line {first_line}" if first_line == last_line else f"lines {first_line}-{last_line}"
    return f"Selected code from {path} ({lines})"


def enclosing_title(kind: str, name: str, path: str, selected: bool) -> str:
    where = "around the selection" if selected else "at the cursor"
    return f"The {kind} `{name}` {where}, in {path}"


def definition_title(name: str, path: str) -> str:
    return f"Definition of `{name}` in {path}"


def file_title(path: str, language: str) -> str:
    return f"The {language_name(language)} file {path}" if language else f"The file {path}"
