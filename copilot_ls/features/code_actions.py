"""Features stage: `textDocument/codeAction`, `codeAction/resolve` and the command
`copilot-ls.applyAction`: refactors, tests and explanations written by the model.

Listing is instant (a parse, no model call). The model runs when an action is chosen: on
`codeAction/resolve` for clients that resolve edits lazily, otherwise through the action's
command, which applies the result with `workspace/applyEdit`. Explain always runs as a command
and shows its answer with `window/showMessage`. Handlers convert between LSP and the offsets of
`copilot_ls/refactor.py`, which owns the data path and the checks.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import Future
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcRequestCancelled
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition

from copilot_ls.backends.base import Cancelled
from copilot_ls.backends.model_files import ModelFileError
from copilot_ls.features.workspace_index import workspace_roots
from copilot_ls.refactor import (
    ActionRefused,
    ActionRequest,
    ActionResult,
    Problem,
    Reader,
    Refactorer,
)
from copilot_ls.refactor import offers as list_offers
from copilot_ls.server import CopilotServer

log = logging.getLogger(__name__)

APPLY_ACTION = "copilot-ls.applyAction"
KINDS = [
    types.CodeActionKind.QuickFix,
    types.CodeActionKind.RefactorRewrite,
    types.CodeActionKind.RefactorExtract,
    types.CodeActionKind.Source,
]
REPORT_EVERY = 8
"""Tokens between two progress reports."""


class RequestFailed(JsonRpcException):
    """LSP `RequestFailed`: the request was valid but the server could not serve it."""

    code = -32803


def _path(uri: str) -> str:
    return unquote(urlparse(uri).path)


def _pos(raw: dict[str, Any]) -> types.Position:
    return types.Position(line=int(raw["line"]), character=int(raw["character"]))


def _range_json(r: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def _resolves_edits(ls: CopilotServer) -> bool:
    text_document = ls.client_capabilities.text_document
    code_action = text_document.code_action if text_document else None
    support = code_action.resolve_support if code_action else None
    return bool(support and "edit" in support.properties)


def list_actions(ls: CopilotServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """The code actions at a selection or cursor: a parse, never a model call."""
    document = ls.workspace.text_documents.get(params.text_document.uri)
    if document is None or not ls.settings.actions.enable:
        return []
    start = document.offset_at_position(params.range.start)
    end = document.offset_at_position(params.range.end)
    diagnostics = params.context.diagnostics or []
    problems = [
        Problem(
            d.message,
            document.offset_at_position(d.range.start),
            document.offset_at_position(d.range.end),
        )
        for d in diagnostics
    ]
    roots = workspace_roots(ls)
    listed = list_offers(_path(document.uri), document.source, start, end, roots, problems)
    only = [str(kind) for kind in params.context.only or []]
    command_too = not _resolves_edits(ls)
    actions = []
    for offer in listed:
        if not _wanted(offer.kind, only):
            continue
        data: dict[str, Any] = {
            "action": offer.action,
            "uri": document.uri,
            "version": document.version,
            "range": _range_json(params.range),
            "title": offer.title,
        }
        diagnostic = None
        if offer.problem is not None:
            diagnostic = diagnostics[problems.index(offer.problem)]
            data["problem"] = {
                "message": diagnostic.message,
                "range": _range_json(diagnostic.range),
            }
        action = types.CodeAction(
            title=offer.title,
            kind=offer.kind,
            diagnostics=[diagnostic] if diagnostic else None,
            data=data,
        )
        if command_too or offer.action == "explain":
            action.command = types.Command(
                title=offer.title, command=APPLY_ACTION, arguments=[data]
            )
        actions.append(action)
    return actions


def _request(ls: CopilotServer, data: dict[str, Any]) -> ActionRequest:
    uri = data.get("uri")
    document = ls.workspace.text_documents.get(uri) if isinstance(uri, str) else None
    if document is None:
        raise JsonRpcInvalidParams(f"unknown document {uri}: open it, then ask for actions again")
    if data.get("version") is not None and data["version"] != document.version:
        raise ActionRefused("the document changed since the actions were listed: ask again")
    start = document.offset_at_position(_pos(data["range"]["start"]))
    end = document.offset_at_position(_pos(data["range"]["end"]))
    problem = None
    if isinstance(data.get("problem"), dict):
        where = data["problem"]["range"]
        problem = Problem(
            str(data["problem"]["message"]),
            document.offset_at_position(_pos(where["start"])),
            document.offset_at_position(_pos(where["end"])),
        )
    return ActionRequest(
        action=str(data.get("action")),
        path=_path(document.uri),
        text=document.source,
        start=start,
        end=end,
        roots=tuple(workspace_roots(ls)),
        problem=problem,
    )


class _Progress:
    """Work-done progress of one action, cancellable from the client's progress UI."""

    def __init__(self, ls: CopilotServer, title: str) -> None:
        self._ls = ls
        self._title = title
        self._token = f"copilot-ls/action/{uuid.uuid4()}"
        self._loop = asyncio.get_running_loop()
        self._on = False
        self.tokens = 0

    async def begin(self) -> None:
        window = self._ls.client_capabilities.window
        if not (window and window.work_done_progress):
            return
        try:
            await self._ls.work_done_progress.create_async(self._token)
        except Exception:  # a client may refuse: the action runs without progress
            return
        self._on = True
        task = asyncio.current_task()
        future: Future[Any] | None = self._ls.work_done_progress.tokens.get(self._token)
        if future is not None and task is not None:
            future.add_done_callback(
                lambda f: self._loop.call_soon_threadsafe(task.cancel) if f.cancelled() else None
            )
        self._ls.work_done_progress.begin(
            self._token,
            types.WorkDoneProgressBegin(
                title=f"copilot-ls: {self._title}", cancellable=True, percentage=0
            ),
        )

    def on_tokens(self, done: int, most: int) -> None:
        """Called on the model thread."""
        self.tokens = done
        if self._on and done % REPORT_EVERY == 0:
            report = types.WorkDoneProgressReport(
                message=f"{done} tokens", percentage=min(99, 100 * done // max(most, 1))
            )
            self._loop.call_soon_threadsafe(self._ls.work_done_progress.report, self._token, report)

    def end(self, message: str) -> None:
        if self._on:
            self._on = False
            self._ls.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))


def _reader(ls: CopilotServer) -> Reader:
    def read(path: str) -> str | None:
        document = ls.workspace.text_documents.get(_uri(path))
        if document is not None:
            return document.source
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    return read


def _uri(path: str) -> str:
    return Path(path).as_uri()


async def run_action(
    refactorer: Refactorer, ls: CopilotServer, data: dict[str, Any]
) -> ActionResult:
    """Run the action described by a listed action's data; reports progress while the model
    writes. Raises ActionRefused, or JSON-RPC errors for bad requests and missing models."""
    request = _request(ls, data)
    progress = _Progress(ls, str(data.get("title") or request.action))
    await progress.begin()
    outcome = "cancelled"
    try:
        result = await refactorer.run(request, _reader(ls), progress.on_tokens)
        outcome = result.message
        return result
    except ActionRefused as exc:
        outcome = f"refused: {exc}"
        raise
    except Cancelled as exc:
        raise JsonRpcRequestCancelled("superseded by a newer code action") from exc
    except ModelFileError as exc:
        outcome = str(exc)
        ls.show_once(f"copilot-ls: {exc}")
        raise RequestFailed(str(exc)) from exc
    finally:
        if outcome == "cancelled":
            outcome = f"cancelled after {progress.tokens} tokens"
        progress.end(outcome)


def _position(document: TextDocument, text: str, offset: int) -> types.Position:
    """The LSP position (client units) of a character offset of `text`."""
    if offset >= len(text) and text and not text.endswith("\n"):
        line = text.count("\n")
        last = text[text.rfind("\n") + 1 :]
        return document.position_to_client_units(ServerTextPosition(line, len(last)))
    return document.client_position_at_offset(offset)


def workspace_edit(ls: CopilotServer, result: ActionResult) -> types.WorkspaceEdit:
    """The result's edits as a WorkspaceEdit the client can apply: `documentChanges` when it
    supports them or a file must be created (clients that can create files, like Neovim, read
    them even without advertising `documentChanges`), else `changes`."""
    caps = ls.client_capabilities.workspace
    edit_caps = caps.workspace_edit if caps else None
    operations = [str(op) for op in (edit_caps.resource_operations or [])] if edit_caps else []
    creates = any(change.create for change in result.changes)
    if creates and "create" not in operations:
        path = next(change.path for change in result.changes if change.create)
        raise ActionRefused(
            f"this editor cannot create files through LSP: create {path} and run the action again"
        )
    changes: dict[str, list[types.TextEdit]] = {}
    document_changes: list[types.TextDocumentEdit | types.CreateFile] = []
    for change in result.changes:
        uri = _uri(change.path)
        open_document = ls.workspace.text_documents.get(uri)
        document = open_document or TextDocument(
            uri, change.old_text, position_codec=ls.workspace.position_codec
        )
        changes[uri] = [
            types.TextEdit(
                range=types.Range(
                    start=_position(document, change.old_text, e.start),
                    end=_position(document, change.old_text, e.end),
                ),
                new_text=e.new_text,
            )
            for e in change.edits
        ]
        if change.create:
            options = types.CreateFileOptions(ignore_if_exists=True)
            document_changes.append(types.CreateFile(uri=uri, options=options))
        version = open_document.version if open_document is not None else None
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        document_changes.append(
            types.TextDocumentEdit(text_document=identifier, edits=list(changes[uri]))
        )
    if creates or (edit_caps and edit_caps.document_changes):
        return types.WorkspaceEdit(document_changes=document_changes)
    return types.WorkspaceEdit(changes=changes)


def _refused(ls: CopilotServer, title: str, exc: ActionRefused) -> str:
    message = f"copilot-ls: {title}: {exc}"
    log.info("%s", message)
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))
    return message


def register(server: CopilotServer) -> None:
    refactorer = Refactorer(server.runner, lambda: server.settings)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True),
    )
    def code_action(ls: CopilotServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return list_actions(ls, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: CopilotServer, action: types.CodeAction) -> types.CodeAction:
        data = action.data
        if not isinstance(data, dict) or action.edit is not None or data.get("action") == "explain":
            return action  # explain runs as a command; nothing else to fill in
        try:
            result = await run_action(refactorer, ls, data)
            action.edit = workspace_edit(ls, result)
        except ActionRefused as exc:
            reason = _refused(ls, action.title, exc)
            action.disabled = types.CodeActionDisabled(reason=reason)
        return action

    @server.command(APPLY_ACTION)
    async def apply_action(ls: CopilotServer, *args: Any) -> dict[str, Any]:
        data = args[0] if args else None
        if not isinstance(data, dict):
            raise JsonRpcInvalidParams(f"{APPLY_ACTION} takes the action's data as its argument")
        title = str(data.get("title") or data.get("action"))
        try:
            result = await run_action(refactorer, ls, data)
            if result.action == "explain":
                ls.window_show_message(
                    types.ShowMessageParams(type=types.MessageType.Info, message=result.message)
                )
                return {"applied": False, "action": "explain", "explanation": result.message}
            edit = workspace_edit(ls, result)
        except ActionRefused as exc:
            return {
                "applied": False,
                "action": data.get("action"),
                "error": _refused(ls, title, exc),
            }
        applied = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=title)
        )
        return {
            "applied": bool(applied.applied),
            "action": result.action,
            "message": result.message,
            "failureReason": applied.failure_reason,
        }
