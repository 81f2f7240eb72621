"""Features stage: index the workspace in the background and answer `workspace/symbol`.

The initial index runs on its own thread (never the model's), starting from the snapshot when
there is one, and reports LSP work-done progress with a percentage. Completion requests are
never blocked by it: until it finishes, the previous (or an empty) index answers.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from urllib.parse import unquote, urlparse

from lsprotocol import types

from copilot_ls.index.build import build_index
from copilot_ls.index.model import Definition
from copilot_ls.server import CopilotServer

log = logging.getLogger(__name__)

SYMBOL_LIMIT = 200
PROGRESS_STEP = 2
"""Percent between two progress reports."""

SYMBOL_KINDS = {
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class,
    "struct": types.SymbolKind.Struct,
    "interface": types.SymbolKind.Interface,
    "enum": types.SymbolKind.Enum,
    "trait": types.SymbolKind.Interface,
    "type": types.SymbolKind.TypeParameter,
    "constant": types.SymbolKind.Constant,
    "variable": types.SymbolKind.Variable,
    "module": types.SymbolKind.Module,
    "macro": types.SymbolKind.Function,
    "field": types.SymbolKind.Field,
}


def workspace_roots(ls: CopilotServer) -> list[str]:
    """Local folders of the workspace (file URIs only)."""
    uris = [folder.uri for folder in ls.workspace.folders.values()]
    if not uris and ls.workspace.root_uri:
        uris = [ls.workspace.root_uri]
    return [unquote(urlparse(uri).path) for uri in uris if uri.startswith("file:")]


async def index_workspace(ls: CopilotServer) -> None:
    roots = workspace_roots(ls)
    if not roots:
        return
    token = f"copilot-ls/index/{uuid.uuid4()}"
    loop = asyncio.get_running_loop()
    progress = ls.work_done_progress
    window = ls.client_capabilities.window
    report = bool(window and window.work_done_progress)
    if report:
        try:
            await progress.create_async(token)
        except Exception:  # a client may refuse; indexing goes on without progress
            report = False
    if report:
        progress.begin(
            token, types.WorkDoneProgressBegin(title="copilot-ls: indexing", percentage=0)
        )
    last = [-PROGRESS_STEP]

    def on_progress(done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if report and percent - last[0] >= PROGRESS_STEP:
            last[0] = percent
            message = f"{done}/{total} files"
            loop.call_soon_threadsafe(
                progress.report,
                token,
                types.WorkDoneProgressReport(message=message, percentage=percent),
            )

    try:
        build = await asyncio.to_thread(
            build_index, roots, progress=on_progress, cancel=ls.index_cancel
        )
    except Exception as exc:  # the index is a help, never a reason to fail
        log.exception("indexing %s failed", roots)
        if report:
            progress.end(token, types.WorkDoneProgressEnd(message=f"indexing failed: {exc}"))
        return
    if build.stats.cancelled:
        return
    ls.index = build.index
    stats = build.index.stats()
    summary = f"{stats.files} files, {stats.definitions} symbols in {build.stats.seconds:.1f} s"
    log.info("index ready: %s (warm start: %s)", summary, build.warm)
    if report:
        progress.end(token, types.WorkDoneProgressEnd(message=summary))


def _symbol(path: str, definition: Definition) -> types.WorkspaceSymbol:
    span = definition.span
    return types.WorkspaceSymbol(
        name=definition.name,
        kind=SYMBOL_KINDS.get(definition.kind, types.SymbolKind.Variable),
        container_name=definition.container or None,
        location=types.Location(
            uri=f"file://{path}",
            range=types.Range(
                start=types.Position(line=span.start_line, character=span.start_col),
                end=types.Position(line=span.end_line, character=span.end_col),
            ),
        ),
    )


def register(server: CopilotServer) -> None:
    @server.feature(types.SHUTDOWN)
    def shutdown(ls: CopilotServer, params: None) -> None:
        ls.index_cancel.set()  # a long first index must not hold the process open

    @server.feature(types.WORKSPACE_SYMBOL)
    def workspace_symbol(
        ls: CopilotServer, params: types.WorkspaceSymbolParams
    ) -> list[types.WorkspaceSymbol]:
        hits = ls.index.search(params.query, limit=SYMBOL_LIMIT)
        return [_symbol(hit.path, hit.definition) for hit in hits]
