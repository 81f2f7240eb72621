"""Open buffers are indexed as they are edited, before they are saved: `workspace/symbol`
finds a definition typed into a buffer and forgets it when it is deleted again."""

from __future__ import annotations

import asyncio

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import insert, lsp_session, open_document, wait_for_index

MODULE = '''"""Helpers."""


def existing_helper():
    return 1
'''
NEW_FUNCTION = "\n\ndef brand_new_function(): ...\n"


async def _symbol_names(client: LanguageClient, query: str) -> set[str]:
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
    return {s.name for s in symbols or []}


async def _poll(client: LanguageClient, query: str, present: bool, seconds: float = 10) -> bool:
    """Whether `query`'s exact name is (or is not, when not `present`) among the workspace
    symbols within `seconds`."""
    for _ in range(int(seconds / 0.1)):
        if (query in await _symbol_names(client, query)) == present:
            return True
        await asyncio.sleep(0.1)
    return False


def _delete(client: LanguageClient, uri: str, version: int, start: int, end: int) -> None:
    """Delete whole lines [start, end) as an incremental didChange."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=start, character=0),
                        end=types.Position(line=end, character=0),
                    ),
                    text="",
                )
            ],
        )
    )


async def test_a_definition_typed_into_an_open_buffer_is_found_then_forgotten(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("COPILOT_LS_CACHE_DIR", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    path = work / "helpers.py"
    async with lsp_session(root=work) as client:
        uri = open_document(client, path, MODULE)
        await wait_for_index(client)
        assert "existing_helper" in await _symbol_names(client, "existing_helper")
        end = MODULE.count("\n")
        insert(client, uri, 2, end, 0, NEW_FUNCTION)
        assert await _poll(client, "brand_new_function", present=True)
        assert path.read_text() == MODULE  # found from the buffer, not from the disk
        _delete(client, uri, 3, end, end + NEW_FUNCTION.count("\n"))
        assert await _poll(client, "brand_new_function", present=False)
        assert "existing_helper" in await _symbol_names(client, "existing_helper")


async def test_buffer_edits_made_while_indexing_survive_the_initial_index(tmp_path, monkeypatch):
    """The initial index replaces the index whole when it finishes: edits made before then
    are put back into it."""
    monkeypatch.setenv("COPILOT_LS_CACHE_DIR", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    for i in range(300):  # enough files that the edit lands before the index is ready
        (work / f"module_{i}.py").write_text(f"def function_{i}():\n    return {i}\n")
    path = work / "helpers.py"
    async with lsp_session(root=work) as client:
        uri = open_document(client, path, MODULE)
        insert(client, uri, 2, MODULE.count("\n"), 0, NEW_FUNCTION)
        await wait_for_index(client)
        assert await _poll(client, "brand_new_function", present=True)
        assert "function_299" in await _symbol_names(client, "function_299")


async def test_untitled_buffers_are_not_indexed(tmp_path, monkeypatch):
    monkeypatch.setenv("COPILOT_LS_CACHE_DIR", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    async with lsp_session(root=work) as client:
        await wait_for_index(client)
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri="untitled:Untitled-1",
                    language_id="python",
                    version=1,
                    text="def untitled_function():\n    pass\n",
                )
            )
        )
        insert(client, "untitled:Untitled-1", 2, 2, 0, "def untitled_other(): ...\n")
        # A file-backed buffer edited afterwards is indexed, so by the time its definition is
        # found the untitled one would have been too.
        uri = open_document(client, work / "later.py", MODULE)
        insert(client, uri, 2, MODULE.count("\n"), 0, NEW_FUNCTION)
        assert await _poll(client, "brand_new_function", present=True)
        assert await _symbol_names(client, "untitled") == set()
