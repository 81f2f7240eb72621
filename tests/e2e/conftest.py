"""End-to-end helpers: start the real server process over stdio and talk LSP to it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make install)")

SERVER = [sys.executable, "-m", "copilot_ls", "--log-level", "DEBUG"]


@asynccontextmanager
async def lsp_session(
    init_options: dict[str, Any] | None = None,
    *,
    root: Path | None = None,
    capabilities: str = "neovim@v0.11.0",
) -> AsyncIterator[LanguageClient]:
    """A real copilot-ls process, initialized like the named editor would."""
    client = make_test_lsp_client()
    await client.start_io(*SERVER)
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities(capabilities),
                initialization_options=init_options,
                root_uri=root.as_uri() if root else None,
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]
                if root
                else None,
            )
        )
        yield client
        await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        await stop_server(client)


async def stop_server(client: LanguageClient) -> None:
    """Wait a little for the server process to exit, kill it if it does not, close the client."""
    server = client._server
    if server is not None and server.returncode is None:
        try:
            await asyncio.wait_for(server.wait(), 5)
        except asyncio.TimeoutError:
            server.kill()  # a failed test left it running: do not hang the suite
    await client.stop()


def open_document(client: LanguageClient, path: Path, text: str, language: str = "python") -> str:
    """Write `text` to `path` on disk and open it in the server; returns its URI."""
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    return uri


def insert(client: LanguageClient, uri: str, version: int, line: int, character: int, text: str):
    """Type `text` at a position, as an incremental didChange."""
    at = types.Position(line=line, character=character)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text=text
                )
            ],
        )
    )


async def inline(client: LanguageClient, uri: str, line: int, character: int):
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )


async def complete(client: LanguageClient, uri: str, line: int, character: int):
    return await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )


async def last_completion(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="copilot-ls.lastCompletion")
    )


FIB = '''def fibonacci(n):
    """Return the n-th Fibonacci number."""
    if n < 2:
        return n
    return '''


async def wait_for_index(client: LanguageClient) -> None:
    """Until the server's first workspace index reports its end."""
    for _ in range(600):
        reports = [r for rs in client.progress_reports.values() for r in rs]
        if any(isinstance(r, types.WorkDoneProgressEnd) for r in reports):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the workspace index never finished")
