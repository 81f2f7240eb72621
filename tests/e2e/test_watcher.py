"""The server keeps its workspace index fresh: files written or deleted outside the editor,
and `workspace/didChangeWatchedFiles` notifications, show in `workspace/symbol`, and the
snapshot saved at shutdown holds them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from copilot_ls.index.persistence import load_snapshot
from tests.e2e.conftest import lsp_session, wait_for_index

TIMEOUT_S = 60.0
"""The server loads its model meanwhile, on a small shared machine."""


async def symbol_names(client: LanguageClient, query: str) -> set[str]:
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
    return {s.name for s in found or []}


async def wait_for_symbol(client: LanguageClient, name: str, *, present: bool = True) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while (name in await symbol_names(client, name)) != present:
        if time.monotonic() > deadline:
            state = "appear" if present else "disappear"
            raise AssertionError(f"{name} did not {state} in workspace/symbol")
        await asyncio.sleep(0.1)


def workspace(tmp_path: Path, monkeypatch: Any) -> Path:
    monkeypatch.setenv("COPILOT_LS_CACHE_DIR", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    (work / "old.py").write_text("def existing_function():\n    return 1\n")
    return work


async def test_files_written_and_deleted_on_disk_show_in_workspace_symbol(tmp_path, monkeypatch):
    work = workspace(tmp_path, monkeypatch)
    async with lsp_session(root=work) as client:
        await wait_for_index(client)
        await wait_for_symbol(client, "existing_function")
        (work / "pkg").mkdir()
        (work / "pkg" / "fresh.py").write_text("def freshly_written_function():\n    pass\n")
        await wait_for_symbol(client, "freshly_written_function")
        (work / "old.py").unlink()
        await wait_for_symbol(client, "existing_function", present=False)
    snapshot = load_snapshot([str(work)], cache=tmp_path / "cache")
    assert snapshot is not None  # saved at shutdown, with both changes
    assert snapshot.paths() == [str(work / "pkg" / "fresh.py")]


async def test_did_change_watched_files_is_registered_for_and_honoured(tmp_path, monkeypatch):
    work = workspace(tmp_path, monkeypatch)
    registrations: list[types.Registration] = []
    # The server's own watching is off, so only the notifications can tell it.
    options = {"index": {"watch": False}}
    async with lsp_session(options, root=work, capabilities="visual-studio-code") as client:

        @client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(params: types.RegistrationParams) -> None:
            registrations.extend(params.registrations)

        await wait_for_index(client)
        path = work / "notified.py"
        path.write_text("def announced_function():\n    pass\n")
        await asyncio.sleep(1.0)  # the server must not have seen it by itself
        assert "announced_function" not in await symbol_names(client, "announced_function")
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Created)]
            )
        )
        await wait_for_symbol(client, "announced_function")
        path.unlink()
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Deleted)]
            )
        )
        await wait_for_symbol(client, "announced_function", present=False)
    [registration] = registrations
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert isinstance(registration.register_options, dict)  # as it travelled on the wire
    assert registration.register_options["watchers"] == [{"globPattern": "**/*"}]
