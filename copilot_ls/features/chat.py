"""Features stage: the `copilot-ls.chat` command, streamed, and `copilot-ls.lastChat`.

`workspace/executeCommand` `copilot-ls.chat` takes one object `{"question", "uri"?, "range"?}`
(or the same as positional arguments). While the model writes, every new piece of the answer
goes out as a `copilot-ls/chatChunk` notification `{"id", "chunk", "done"}` and as a work-done
progress report (on the request's `workDoneToken`, else on a server-created token when the
client supports it); the last chunk has `done: true`, and the chunks add up to the answer. The
result is `{"id", "answer", "command", "edits"?, "refused"?, "applyCommand"?}`: `edits`, a
WorkspaceEdit the editor may apply, is never applied here; a slash command's edit also comes
with the `copilot-ls.applyAction` command that applies it through `workspace/applyEdit`.
`copilot_ls/chat.py` owns the data path; this module converts.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import Future
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcRequestCancelled
from pygls.workspace import TextDocument

from copilot_ls.backends.base import Cancelled
from copilot_ls.backends.model_files import ModelFileError
from copilot_ls.chat import Chat, ChatRefused, ChatRequest, ChatResult
from copilot_ls.context.texts import FileTexts
from copilot_ls.features.code_actions import (
    APPLY_ACTION,
    RequestFailed,
    _path,
    _range_json,
    _reader,
    workspace_edit,
)
from copilot_ls.features.workspace_index import workspace_roots
from copilot_ls.prompts.chat import parse_slash
from copilot_ls.refactor import ActionRefused, ActionResult, Refactorer
from copilot_ls.refactor_targets import inside_roots
from copilot_ls.server import CopilotServer

log = logging.getLogger(__name__)

CHAT = "copilot-ls.chat"
LAST_CHAT = "copilot-ls.lastChat"
CHUNK = "copilot-ls/chatChunk"
USAGE = f'{CHAT} takes {{"question": str, "uri"?: str, "range"?: Range}} or [question, uri, range]'

_WORK_DONE_TOKEN: ContextVar[types.ProgressToken | None] = ContextVar(
    "copilot_ls_work_done_token", default=None
)


@dataclass(frozen=True)
class ChatArguments:
    question: str
    uri: str | None = None
    range: types.Range | None = None


def parse_arguments(args: tuple[Any, ...] | list[Any]) -> ChatArguments:
    """The command's arguments; raises `JsonRpcInvalidParams` saying what is wrong."""
    if len(args) == 1 and isinstance(args[0], dict):
        raw = args[0]
        unknown = set(raw) - {"question", "uri", "range"}
        if unknown:
            raise JsonRpcInvalidParams(f"unknown argument(s) {sorted(unknown)}: {USAGE}")
        question, uri, where = raw.get("question"), raw.get("uri"), raw.get("range")
    elif 1 <= len(args) <= 3:
        question, uri, where = [*args, None, None][:3]
    else:
        raise JsonRpcInvalidParams(USAGE)
    if not isinstance(question, str) or not question.strip():
        raise JsonRpcInvalidParams(f"the question must be a non-empty string: {USAGE}")
    if uri is not None and not isinstance(uri, str):
        raise JsonRpcInvalidParams(f"uri must be a string: {USAGE}")
    return ChatArguments(question, uri, _range(where) if where is not None else None)


def _range(raw: Any) -> types.Range:
    try:
        start, end = raw["start"], raw["end"]
        numbers = [start["line"], start["character"], end["line"], end["character"]]
    except (KeyError, TypeError) as exc:
        raise JsonRpcInvalidParams(f"range must be an LSP Range: {USAGE}") from exc
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
        raise JsonRpcInvalidParams(f"range positions must be non-negative integers: {USAGE}")
    first = types.Position(line=numbers[0], character=numbers[1])
    last = types.Position(line=numbers[2], character=numbers[3])
    if (last.line, last.character) < (first.line, first.character):
        first, last = last, first
    return types.Range(start=first, end=last)


def chat_request(ls: CopilotServer, arguments: ChatArguments, chat_id: str) -> ChatRequest:
    """The request for `copilot_ls.chat`: the document's text and the range as offsets."""
    roots = tuple(workspace_roots(ls))
    if arguments.uri is None:
        return ChatRequest(chat_id, arguments.question, roots=roots, workspace=_home(None, roots))
    document = _document(ls, arguments.uri)
    span = None
    if arguments.range is not None:
        span = (
            document.offset_at_position(arguments.range.start),
            document.offset_at_position(arguments.range.end),
        )
    path = _path(document.uri)
    return ChatRequest(
        chat_id,
        arguments.question,
        path,
        document.source,
        span,
        roots,
        _home(path, roots),
    )


def _document(ls: CopilotServer, uri: str) -> TextDocument:
    """The open document, else the file on disk; InvalidParams when neither exists."""
    document = ls.workspace.text_documents.get(uri)
    if document is not None:
        return document
    path = _path(uri) if uri.startswith("file:") else ""
    try:
        text = Path(path).read_text(encoding="utf-8") if path else None
    except (OSError, UnicodeDecodeError):
        text = None
    if text is None:
        raise JsonRpcInvalidParams(f"unknown document {uri}: open it, then ask again")
    return TextDocument(uri, text, position_codec=ls.workspace.position_codec)


def _home(path: str | None, roots: tuple[str, ...]) -> str:
    """The workspace folder a conversation belongs to."""
    holding = [root for root in roots if path is not None and inside_roots(path, [root])]
    return max(holding, key=len) if holding else (roots[0] if roots else "")


class _Stream:
    """Sends the answer's chunks (notifications and progress reports) from the event loop."""

    def __init__(self, ls: CopilotServer, chat_id: str) -> None:
        self._ls = ls
        self._id = chat_id
        self._loop = asyncio.get_running_loop()
        self._token: types.ProgressToken | None = None
        self.sent = ""
        self.done = False

    async def begin(self, token: types.ProgressToken | None) -> None:
        """Work-done progress on the client's token, else on one of ours when allowed."""
        window = self._ls.client_capabilities.window
        if token is None and window is not None and window.work_done_progress:
            token = f"copilot-ls/chat/{self._id}"
            try:
                await self._ls.work_done_progress.create_async(token)
            except Exception:  # a client may refuse: the chat runs without progress
                return
        if token is None:
            return
        self._token = token
        self._ls.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title="copilot-ls chat", cancellable=True)
        )
        _cancel_on(self._ls.work_done_progress.tokens.get(token), self._loop)

    def from_model_thread(self, chunk: str) -> None:
        self._loop.call_soon_threadsafe(self.send, chunk)

    def send(self, chunk: str, done: bool = False) -> None:
        if self.done:
            return
        self.sent += chunk
        self.done = done
        self._ls.protocol.notify(CHUNK, {"id": self._id, "chunk": chunk, "done": done})
        if self._token is not None and chunk:
            report = types.WorkDoneProgressReport(message=chunk)
            self._ls.work_done_progress.report(self._token, report)

    def end(self, answer: str | None) -> None:
        """The last chunk: the rest of the answer (none when it failed or was cancelled)."""
        rest = answer[len(self.sent) :] if answer and answer.startswith(self.sent) else ""
        self.send(rest, done=True)
        if self._token is not None:
            message = "done" if answer is not None else "cancelled or failed"
            self._ls.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))
            self._token = None


def _cancel_on(future: Future[Any] | None, loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the current task when `future` (a request's or a progress token's) is cancelled."""
    task = asyncio.current_task()
    if future is not None and task is not None:
        future.add_done_callback(
            lambda f: loop.call_soon_threadsafe(task.cancel) if f.cancelled() else None
        )


def _follow_cancel_request(ls: CopilotServer) -> None:
    """pygls runs a command as a task of its own, apart from its executeCommand request, and
    `$/cancelRequest` cancels only the request's future: tie the command's task to it."""
    msg_id = ls.protocol.msg_id
    pending: dict[Any, Future[Any]] = getattr(ls.protocol, "_request_futures", {})
    if msg_id is not None:
        _cancel_on(pending.get(msg_id), asyncio.get_running_loop())


def _capture_work_done_tokens(server: CopilotServer) -> None:
    """pygls hands a command only its arguments: keep the request's `workDoneToken` in a
    context variable, which the command's task (created right after) inherits."""
    builtin = server.protocol.fm.builtin_features
    execute = builtin[types.WORKSPACE_EXECUTE_COMMAND]

    def execute_command(params: types.ExecuteCommandParams) -> Any:
        _WORK_DONE_TOKEN.set(params.work_done_token)
        return (yield from execute(params))

    builtin[types.WORKSPACE_EXECUTE_COMMAND] = execute_command


def result_json(
    ls: CopilotServer, result: ChatResult, apply: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The command's result: `{"id", "answer", "command", "edits"?, "refused"?,
    "applyCommand"?}`."""
    reply: dict[str, Any] = {"id": result.id, "answer": result.answer, "command": result.command}
    refused = result.refused
    if result.changes:
        try:
            edit = workspace_edit(ls, ActionResult(result.command, changes=result.changes))
            reply["edits"] = get_converter().unstructure(edit, types.WorkspaceEdit)
            if apply is not None:
                reply["applyCommand"] = apply
        except ActionRefused as exc:
            refused = str(exc)
    if refused:
        reply["refused"] = refused
    return reply


def apply_command(
    ls: CopilotServer, arguments: ChatArguments, result: ChatResult
) -> dict[str, Any] | None:
    """For a slash command's edit: the `copilot-ls.applyAction` command that runs the same
    action again and applies it with `workspace/applyEdit` (greedy decoding of the same prompt
    writes the same edit), for clients that cannot apply a WorkspaceEdit themselves."""
    slash = parse_slash(arguments.question)
    action = slash.action if slash is not None else None
    if action in (None, "explain") or arguments.uri is None or arguments.range is None:
        return None
    document = ls.workspace.text_documents.get(arguments.uri)
    where = _range_json(arguments.range)
    data: dict[str, Any] = {
        "action": action,
        "uri": arguments.uri,
        "version": document.version if document is not None else None,
        "range": where,
        "title": f"copilot-ls: /{result.command}",
    }
    if action == "fix" and slash is not None:
        data["problem"] = {"message": slash.rest or "a bug in this code", "range": where}
    return {"title": data["title"], "command": APPLY_ACTION, "arguments": [data]}


async def run_chat(ls: CopilotServer, chat: Chat, args: tuple[Any, ...]) -> dict[str, Any]:
    """Answer one `copilot-ls.chat` command, streaming the answer."""
    if not ls.settings.chat.enable:
        raise RequestFailed("chat is turned off (`chat.enable`)")
    arguments = parse_arguments(args)
    chat_id = uuid.uuid4().hex[:12]
    request = chat_request(ls, arguments, chat_id)
    _follow_cancel_request(ls)
    stream = _Stream(ls, chat_id)
    await stream.begin(_WORK_DONE_TOKEN.get())
    answer: str | None = None
    try:
        result = await chat.ask(request, _reader(ls), stream.from_model_thread)
        answer = result.answer
        return result_json(ls, result, apply_command(ls, arguments, result))
    except Cancelled as exc:
        raise JsonRpcRequestCancelled("the chat request was cancelled") from exc
    except ChatRefused as exc:
        raise RequestFailed(str(exc)) from exc
    except ModelFileError as exc:
        ls.show_once(f"copilot-ls: {exc}")
        raise RequestFailed(str(exc)) from exc
    finally:
        stream.end(answer)


def last_chat_json(chat: Chat) -> dict[str, Any] | None:
    result = chat.last
    if result is None:
        return None
    return {
        "id": result.id,
        "command": result.command,
        "answer": result.answer,
        "prompt": result.prompt,
        "context": list(result.context),
        "historyTurns": result.history_turns,
        "droppedTurns": result.dropped_turns,
        "generatedTokens": result.generated_tokens,
        "refused": result.refused,
        "timings": result.timings,
    }


def register(server: CopilotServer) -> None:
    refactorer = Refactorer(server.runner, lambda: server.settings)
    texts = FileTexts(lambda path: server.recent.text(path))
    chat = Chat(server.runner, lambda: server.settings, lambda: server.index, refactorer, texts)
    _capture_work_done_tokens(server)

    @server.command(CHAT)
    async def chat_command(ls: CopilotServer, *args: Any) -> dict[str, Any]:
        return await run_chat(ls, chat, args)

    @server.command(LAST_CHAT)
    def last_chat(ls: CopilotServer, *args: Any) -> dict[str, Any] | None:
        """The last chat question's prompt, context and answer (for tests and debugging)."""
        return last_chat_json(chat)
