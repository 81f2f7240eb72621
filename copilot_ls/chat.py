"""The chat data path in order: the only module that knows it.

question -> slash command? (`/explain`, `/fix`, `/tests`, `/doc` run the code action through
`Refactorer`, `/clear` forgets the conversation) -> context (`context/chat.py`: the selection,
the definition around it, definitions of the names it uses) -> prompt (`prompts/chat.py`: the
context fitted to `chat.contextTokens`, the conversation, in the model's own chat template;
the oldest turns dropped while it does not fit `model.nCtx`) -> the model, on the runner's
thread, streaming the answer as it grows -> the answer, and, when it holds a code block that
rewrites the code in question, that code as a validated edit (never applied here).
No LSP types: offsets index the document's Python string; `features/chat.py` converts.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from copilot_ls.backends.base import Backend, Cancelled, GenerationRequest, PromptPart
from copilot_ls.backends.runner import ModelRunner, Priority
from copilot_ls.context.chat import chat_context
from copilot_ls.context.texts import FileTexts
from copilot_ls.context.tokens import names_nearest_first
from copilot_ls.index.store import SymbolIndex
from copilot_ls.postprocess import edits as shape
from copilot_ls.postprocess.answer import AnswerStream, Emit
from copilot_ls.postprocess.validate import EditRefused, check_edits
from copilot_ls.prompts.chat import (
    ChatTurn,
    ContextPiece,
    SlashCommand,
    chat_prompt,
    fit_context,
    parse_slash,
)
from copilot_ls.prompts.refactor import RefactorPrompt, fence, render_chat
from copilot_ls.refactor import ActionRefused, ActionRequest, FileChange, Reader, Refactorer
from copilot_ls.refactor_targets import (
    Problem,
    Target,
    definitions,
    enclosing,
    inside_roots,
    language_of,
    selection_point,
    whole_lines,
)
from copilot_ls.settings import Settings

log = logging.getLogger(__name__)

CONTEXT_MARGIN = 16
MIN_ANSWER_TOKENS = 16
NO_ANSWER = "(the model gave no answer: ask again, in other words)"
SLASH_HELP = "/explain, /fix [problem], /tests, /doc act on the selection; /clear forgets"


class ChatRefused(Exception):
    """The question cannot be answered as asked; the message says what to do."""


@dataclass(frozen=True)
class ChatRequest:
    """A question, about a selection (or the cursor, start == end) of a document, if any."""

    id: str
    question: str
    path: str | None = None
    text: str = ""
    span: tuple[int, int] | None = None
    """Character offsets of `text`; None: the whole document."""
    roots: tuple[str, ...] = ()
    workspace: str = ""
    """Whose conversation this is (the workspace folder)."""


@dataclass
class ChatResult:
    id: str
    answer: str
    command: str = "chat"
    """`chat`, the slash command that ran (`explain`, `fix`, `tests`, `doc`, `clear`), or
    `cancelled` (then `answer` is what was streamed before it stopped)."""
    changes: tuple[FileChange, ...] = ()
    """The validated edit the answer offers (applied only if the user wants it)."""
    refused: str = ""
    """Why the answer's code is not offered as an edit."""
    prompt: str = ""
    context: tuple[str, ...] = ()
    """Titles of the code pieces the model was shown."""
    history_turns: int = 0
    """Earlier turns sent with the question."""
    dropped_turns: int = 0
    """Turns left out for the prompt to fit the model's context."""
    generated_tokens: int = 0
    timings: dict[str, float] = field(default_factory=dict)


class ConversationHistory:
    """The last questions and answers of each workspace's conversation."""

    def __init__(self) -> None:
        self._turns: dict[str, deque[ChatTurn]] = {}

    def turns(self, workspace: str, limit: int) -> list[ChatTurn]:
        """The last `limit` turns, oldest first."""
        kept = list(self._turns.get(workspace, ()))
        return kept[len(kept) - limit :] if limit > 0 else []

    def add(self, workspace: str, turn: ChatTurn, limit: int) -> None:
        turns = self._turns.setdefault(workspace, deque())
        turns.append(turn)
        while len(turns) > max(limit, 0):
            turns.popleft()

    def clear(self, workspace: str) -> None:
        self._turns.pop(workspace, None)


@dataclass(frozen=True)
class _Fitted:
    """A prompt that fits the model's context, and the room left for the answer."""

    prompt: RefactorPrompt
    parts: tuple[PromptPart, ...]
    rendered: str
    pieces: list[ContextPiece]
    history: list[ChatTurn]
    budget: int


class Chat:
    """Answers chat questions with the one model runner shared with completions."""

    def __init__(
        self,
        runner: ModelRunner,
        settings: Callable[[], Settings],
        index: Callable[[], SymbolIndex],
        refactorer: Refactorer,
        texts: FileTexts | None = None,
    ) -> None:
        self._runner = runner
        self._settings = settings
        self._index = index
        self._refactorer = refactorer
        self._texts = texts or FileTexts()
        self.history = ConversationHistory()
        self.last: ChatResult | None = None
        """The last answered question, with its exact prompt (for tests and curious users)."""

    async def ask(self, request: ChatRequest, reader: Reader, emit: Emit | None) -> ChatResult:
        """Answer `request`; `emit` gets the answer's chunks as they are generated. Raises
        `ChatRefused`, or `Cancelled` when the caller was cancelled."""
        slash = parse_slash(request.question)
        if slash is None:
            result = await self._answer(request, emit)
        elif slash.name == "clear":
            self.history.clear(request.workspace)
            result = ChatResult(request.id, "The conversation is cleared.", command="clear")
        elif slash.action is None:
            answer = f"unknown command /{slash.name}: {SLASH_HELP}"
            result = ChatResult(request.id, answer, command=slash.name, refused=answer)
        else:
            result = await self._run_action(request, slash, reader)
        self.last = result
        return result

    # ---- plain questions ---------------------------------------------------------------------

    async def _answer(self, request: ChatRequest, emit: Emit | None) -> ChatResult:
        settings = self._settings()
        pieces: list[ContextPiece] = []
        if request.path is not None:
            root = _root_of(request.path, request.roots)
            pieces = chat_context(
                request.path, request.text, request.span, self._index(), self._texts, root
            )
        history = self.history.turns(request.workspace, settings.chat.history_turns)
        cancel = threading.Event()
        result, cut_short = await self._runner.call(
            lambda backend: self._generate(backend, request, pieces, history, emit, cancel),
            cancel,
            priority=Priority.LONG,  # a completion waits at most one token step of a chat
        )
        if result.answer != NO_ANSWER:
            turn = ChatTurn(request.question.strip(), result.answer)
            self.history.add(request.workspace, turn, settings.chat.history_turns)
        if request.path is not None and "```" in result.answer:
            result.changes, result.refused = offer_edit(request, result.answer, cut_short)
        return result

    def _generate(
        self,
        backend: Backend,
        request: ChatRequest,
        pieces: list[ContextPiece],
        history: list[ChatTurn],
        emit: Emit | None,
        cancel: threading.Event,
    ) -> tuple[ChatResult, bool]:
        """On the model thread: fit the prompt, generate, stream. Returns the result and
        whether the answer was cut at the token limit."""
        fitted = self._fit(backend, request.question, pieces, history)
        stream = AnswerStream(fitted.prompt.stops, emit)
        started = time.perf_counter()
        generation = backend.generate(
            GenerationRequest(
                parts=fitted.parts,
                max_tokens=fitted.budget,
                token_healing=False,
                stop=stream.update,  # True at a stop marker or a repeated line
            ),
            cancel,
        )
        if generation.stop_reason == "cancelled" or cancel.is_set():
            tokens = generation.generated_tokens
            self.last = ChatResult(request.id, stream.sent, "cancelled", generated_tokens=tokens)
            raise Cancelled("the chat request was cancelled")
        result = ChatResult(
            request.id,
            stream.finish(generation.text) or NO_ANSWER,
            prompt=fitted.rendered,
            context=tuple(p.title for p in fitted.pieces),
            history_turns=len(fitted.history),
            dropped_turns=len(history) - len(fitted.history),
            generated_tokens=generation.generated_tokens,
            timings={
                "prefill_s": generation.prefill_s,
                "decode_s": generation.decode_s,
                "total_s": time.perf_counter() - started,
            },
        )
        return result, generation.stop_reason == "length"

    def _fit(
        self,
        backend: Backend,
        question: str,
        pieces: list[ContextPiece],
        history: list[ChatTurn],
    ) -> _Fitted:
        """The prompt: the code cut to `chat.contextTokens`, then, while it leaves less than
        `chat.maxTokens` of the model's context for the answer, the oldest turn left out, and
        when no turn is left, the least important code."""
        settings = self._settings()
        pieces = fit_context(pieces, settings.chat.context_tokens, backend.count_tokens)
        n_ctx = int(getattr(backend, "n_ctx", settings.model.n_ctx))
        kept = list(history)
        while True:
            prompt = chat_prompt(question, pieces, kept)
            parts = render_chat(prompt, backend.chat_template(), backend.has_special)
            rendered = "".join(p if isinstance(p, str) else p.text for p in parts)
            room = n_ctx - backend.count_tokens(rendered) - CONTEXT_MARGIN
            if room >= settings.chat.max_tokens or not (kept or pieces):
                break
            if kept:
                kept.pop(0)
            else:
                pieces.pop()
        budget = min(settings.chat.max_tokens, room)
        if budget < MIN_ANSWER_TOKENS:
            raise ChatRefused("the question does not fit the model's context: raise `model.nCtx`")
        return _Fitted(prompt, parts, rendered, pieces, kept, budget)

    # ---- slash commands ----------------------------------------------------------------------

    async def _run_action(
        self, request: ChatRequest, slash: SlashCommand, reader: Reader
    ) -> ChatResult:
        """A slash command: the code action on the selection or the definition around it."""
        assert slash.action is not None
        if request.path is None:
            reason = f"/{slash.name} needs a document: run it from a file"
            return ChatResult(request.id, reason, command=slash.name, refused=reason)
        start, end = request.span or (0, 0)
        problem = None
        if slash.action == "fix":
            problem = Problem(slash.rest or "a bug in this code", start, max(start, end))
        action = ActionRequest(
            slash.action, request.path, request.text, start, end, request.roots, problem
        )
        try:
            done = await self._refactorer.run(action, reader)
        except ActionRefused as exc:
            answer = f"/{slash.name}: {exc}"
            return ChatResult(request.id, answer, command=slash.name, refused=str(exc))
        result = ChatResult(request.id, done.message, command=slash.name, prompt=done.prompt)
        result.generated_tokens = done.generated_tokens
        result.timings = dict(done.timings)
        if slash.action == "explain":
            turn = ChatTurn("Explain this code.", done.message)
            self.history.add(request.workspace, turn, self._settings().chat.history_turns)
        else:
            result.changes = done.changes
            result.answer = f"{done.message}:\n\n{_preview(done.changes)}"
        return result


def _preview(changes: Sequence[FileChange]) -> str:
    """The new lines of the edits, as code blocks."""
    blocks = []
    for change in changes:
        language = language_of(change.path) or ""
        added = "".join(edit.new_text for edit in change.edits).strip("\n")
        blocks.append(f"{fence(language)}\n{added}\n```")
    return "\n\n".join(blocks)


def _root_of(path: str, roots: Sequence[str]) -> str | None:
    inside = [root for root in roots if inside_roots(path, [root])]
    return max(inside, key=len) if inside else None


# ---- an answer's code as an edit ---------------------------------------------------------------


def offer_edit(
    request: ChatRequest, answer: str, cut_short: bool = False
) -> tuple[tuple[FileChange, ...], str]:
    """The answer's code block as an edit of the code in question (the selected lines, or the
    definition around the cursor), checked like a code action's; or no edit and why not ("" when
    the answer simply offers none)."""
    language = language_of(request.path or "")
    if request.path is None or language is None or request.span is None:
        return (), ""
    text = request.text
    target, name = _target(language, text, request.span)
    if target is None:
        return (), ""
    old = text[target.start : target.end]
    code = shape.extract_code(answer, language)
    if not code.strip() or not _rewrites(code, old, name):
        return (), ""  # an example or a call, not a new version of this code
    if cut_short:
        return (), "the answer was cut at `chat.maxTokens`: raise it, or select less code"
    if not inside_roots(request.path, request.roots):
        return (), f"{request.path} is outside the workspace folders: nothing is edited"
    edits = shape.minimal_edits(old, shape.replacement(old, code), target.start)
    if not edits:
        return (), ""
    try:
        check_edits(language, text, edits, (target.start, target.end))
    except EditRefused as exc:
        return (), str(exc)
    return (FileChange(request.path, text, tuple(edits)),), ""


def _target(language: str, text: str, span: tuple[int, int]) -> tuple[Target | None, str]:
    """The selected lines, or the definition around the cursor, and its name ("" for lines)."""
    start, end = span
    selected, point = selection_point(text, start, end)
    if selected:
        return whole_lines(text, start, end), ""
    around = enclosing(definitions(language, text), start, point)
    return (around.target, around.name) if around is not None else (None, "")


_HEADER = re.compile(r"^\s*(?:[\w.@]+\s+)*?(?:def|class|fn|func|function)\s+(\w+)", re.MULTILINE)


def _rewrites(code: str, old: str, name: str) -> bool:
    """Whether `code` looks like a new version of `old`: for a definition, code that defines
    the same name first; for selected lines, code sharing most of its names."""
    if name:
        first = _HEADER.search(code)
        return first is not None and first.group(1) == name
    old_names = set(names_nearest_first(old.split("\n")))
    new_names = set(names_nearest_first(code.split("\n")))
    return bool(old_names) and len(old_names & new_names) * 2 >= len(old_names)
