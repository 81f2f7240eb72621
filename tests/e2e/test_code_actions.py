"""Code actions end to end: the real server over stdio and the embedded SmolLM2 model.

Listing is instant and has the right kinds; resolving "Add docstring" gives an edit whose
result parses; a client without resolve support gets a command that applies the edit through
`workspace/applyEdit`; cancelling a running action stops the generation.
"""

from __future__ import annotations

import ast
import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Union

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

from tests.e2e.conftest import SERVER, open_document, stop_server

pytestmark = pytest.mark.model

SOURCE = """import json


def fibonacci(n):
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)


def load(path):
    with open(path) as f:
        return json.load(f)
"""
OPTIONS = {"actions": {"maxTokens": 96}}


@asynccontextmanager
async def session(
    root: Path, *, resolve: bool = True, options: dict[str, Any] | None = None
) -> AsyncIterator[tuple[LanguageClient, list[types.ApplyWorkspaceEditParams]]]:
    """The real server, initialized like Neovim 0.11 (optionally without resolve support);
    also yields the `workspace/applyEdit` requests the client received (all applied)."""
    client = make_test_lsp_client()
    applied: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    converter = client.protocol._converter
    # lsprotocol's own hook takes any object with a `command` key for a Command, so a CodeAction
    # carrying a command would lose its kind and data; tell them apart as the spec does.
    converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007 - the exact type lsprotocol uses
        lambda obj, _: converter.structure(
            obj, types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        ),
    )
    capabilities = client_capabilities("neovim@v0.11.0")
    if not resolve:
        assert capabilities.text_document and capabilities.text_document.code_action
        capabilities.text_document.code_action.resolve_support = None
    await client.start_io(*SERVER)
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities,
                initialization_options=options or OPTIONS,
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            )
        )
        yield client, applied
        await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        await stop_server(client)


async def list_actions(client: LanguageClient, uri: str, line: int, character: int):
    at = types.Position(line=line, character=character)
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )


def _offset(text: str, position: types.Position) -> int:
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[: position.line]) + position.character


def apply_workspace_edit(texts: dict[str, str], edit: types.WorkspaceEdit) -> dict[str, str]:
    """What a client does with a WorkspaceEdit (ASCII texts: UTF-16 units are characters)."""
    texts = dict(texts)
    pending: list[tuple[str, list[types.TextEdit]]] = list((edit.changes or {}).items())
    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            texts.setdefault(change.uri, "")
        elif isinstance(change, types.TextDocumentEdit):
            pending.append((change.text_document.uri, list(change.edits)))  # type: ignore[arg-type]
    for uri, edits in pending:
        text = texts[uri]
        ordered = sorted(edits, key=lambda e: _offset(text, e.range.start), reverse=True)
        for e in ordered:
            start, end = _offset(text, e.range.start), _offset(text, e.range.end)
            text = text[:start] + e.new_text + text[end:]
        texts[uri] = text
    return texts


async def test_listing_is_instant_and_resolving_add_docstring_gives_a_file_that_parses(tmp_path):
    async with session(tmp_path) as (client, _):
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        started = time.perf_counter()
        actions = await list_actions(client, uri, 4, 8)  # in `fibonacci`, at `if`
        listed_s = time.perf_counter() - started
        kinds = {a.data["action"]: a.kind for a in actions}
        assert kinds == {
            "docstring": types.CodeActionKind.RefactorRewrite,
            "annotations": types.CodeActionKind.RefactorRewrite,
            "simplify": types.CodeActionKind.RefactorRewrite,
            "tests": types.CodeActionKind.Source,
            "explain": types.CodeActionKind.Source,
        }
        docstring = next(a for a in actions if a.data["action"] == "docstring")
        assert docstring.edit is None and docstring.command is None  # resolved lazily

        started = time.perf_counter()
        resolved = await client.code_action_resolve_async(docstring)
        resolved_s = time.perf_counter() - started
        assert resolved.edit is not None, f"refused: {resolved.disabled} {client.messages}"
        new = apply_workspace_edit({uri: SOURCE}, resolved.edit)[uri]
        tree = ast.parse(new)  # the file still parses ...
        function = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
        assert ast.get_docstring(function), new  # ... and `fibonacci` has a docstring
        assert new.replace(ast.get_docstring(function, clean=False) or "", "").count("\n") > 0
        # Listing ran no model: measured side by side, it is a small part of one resolve.
        assert listed_s < resolved_s / 5, (listed_s, resolved_s)


async def test_without_resolve_support_the_command_applies_the_edit_with_apply_edit(tmp_path):
    async with session(tmp_path, resolve=False) as (client, applied):
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        actions = await list_actions(client, uri, 10, 8)  # in `load`
        docstring = next(a for a in actions if a.data["action"] == "docstring")
        assert (
            docstring.command is not None and docstring.command.command == "copilot-ls.applyAction"
        )
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=docstring.command.command, arguments=docstring.command.arguments
            )
        )
        assert result["applied"] is True, (result, client.messages)
        assert len(applied) == 1  # the workspace/applyEdit request reached the client
        new = apply_workspace_edit({uri: SOURCE}, applied[0].edit)[uri]
        function = [n for n in ast.parse(new).body if isinstance(n, ast.FunctionDef)][1]
        assert function.name == "load" and ast.get_docstring(function)


async def test_explain_shows_the_answer_in_a_message_and_edits_nothing(tmp_path):
    async with session(tmp_path) as (client, applied):
        uri = open_document(client, tmp_path / "calc.py", SOURCE)
        actions = await list_actions(client, uri, 4, 8)
        explain = next(a for a in actions if a.data["action"] == "explain")
        assert explain.command is not None
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=explain.command.command, arguments=explain.command.arguments
            )
        )
        assert result["explanation"].strip()
        assert any(m.message == result["explanation"] for m in client.messages)
        assert applied == []


def _long_function(lines: int) -> str:
    body = "".join(f"    total = total + values[{i}] * {i + 1}\n" for i in range(lines))
    return f"def weighted(values):\n    total = 0\n{body}    return total\n"


async def test_cancelling_a_running_action_stops_its_generation(tmp_path):
    options = {"actions": {"maxTokens": 400}}
    source = _long_function(40)
    async with session(tmp_path, options=options) as (client, _):
        uri = open_document(client, tmp_path / "weights.py", source)
        actions = await list_actions(client, uri, 1, 4)
        simplify = next(a for a in actions if a.data["action"] == "simplify")
        future = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.CODE_ACTION_RESOLVE, simplify, msg_id="to-cancel"
            )
        )

        def reports() -> list[Any]:  # of the action (the workspace index reports too)
            return [
                report
                for token, reports in client.progress_reports.items()
                if str(token).startswith("copilot-ls/action/")
                for report in reports
            ]

        for _ in range(600):  # until the model has written a few tokens
            if any(isinstance(r, types.WorkDoneProgressReport) for r in reports()):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no progress report; messages: {client.messages}")
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="to-cancel"))
        with pytest.raises(JsonRpcException):
            await future
        for _ in range(100):
            ends = [r for r in reports() if isinstance(r, types.WorkDoneProgressEnd)]
            if ends:
                break
            await asyncio.sleep(0.05)
        assert ends and ends[-1].message and ends[-1].message.startswith("cancelled after")
        tokens = int(ends[-1].message.split()[2])
        assert tokens < 400, ends[-1].message  # it stopped before its limit
        # ... and the server still serves.
        assert await list_actions(client, uri, 1, 4)
