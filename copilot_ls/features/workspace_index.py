"""Features stage: index the workspace in the background, keep it fresh, answer
`workspace/symbol`.

The initial index runs on its own thread (never the model's), starting from the snapshot when
there is one, and reports LSP work-done progress with a percentage. Completion requests are
never blocked by it: until it finishes, the previous (or an empty) index answers; and while
a completion is queued or running on the model, indexing (the initial one and the watcher's)
waits before its next file, up to MAX_INDEX_PAUSE_S at a time, so that it takes neither the
CPU nor the GIL from the model (`benchmarks/index_contention.py` measures it).

An `IndexWatcher` then keeps the index fresh: it starts observing the workspace folders before
the initial walk (so nothing changed during it is lost) and applies changes once the index is
ready; `workspace/didChangeWatchedFiles` notifications (registered for dynamically when the
client can) go through the same debounced path. The snapshot is saved at most every 30 s after
changes (each save waiting, like indexing, for a completion in progress) and once at
shutdown, off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Callable
from urllib.parse import unquote, urlparse

from lsprotocol import types

from copilot_ls.index.build import IndexBuild, build_index
from copilot_ls.index.model import Definition
from copilot_ls.index.persistence import save_snapshot
from copilot_ls.index.watcher import IndexWatcher, SnapshotSaver
from copilot_ls.server import CopilotServer

log = logging.getLogger(__name__)

SYMBOL_LIMIT = 200
PROGRESS_STEP = 2
"""Percent between two progress reports."""
MAX_INDEX_PAUSE_S = 2.0
"""Longest wait of indexing for completions before it indexes one more file anyway: however
busy the model, the index progresses."""

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
    return [_path(uri) for uri in uris if uri.startswith("file:")]


def _path(uri: str) -> str:
    return unquote(urlparse(uri).path)


async def index_workspace(ls: CopilotServer) -> None:
    """Index the workspace folders, then keep the index fresh until shutdown."""
    roots = workspace_roots(ls)
    if not roots:
        return
    ls.background(_register_watched_files(ls))
    # An open buffer is newer than its file: after a batch from disk, its symbols win again.
    watcher = ls.watcher = IndexWatcher(
        roots,
        pause=_pause_for_completions(ls),
        observe=ls.settings.index.watch,
        on_applied=lambda _batch: ls.buffers.reapply(),
    )
    await asyncio.to_thread(watcher.start)
    build = await _build_with_progress(ls, roots)
    if build is None:
        return
    ls.index = build.index
    ls.buffers.reapply()  # edits made in open buffers while indexing
    pause = _pause_for_completions(ls)

    def save() -> object:
        pause()  # a large index's save holds the GIL for seconds: not while a completion runs
        return save_snapshot(build.index, roots)

    saver = SnapshotSaver(save)
    watcher.attach(build.index, saver)


def _pause_for_completions(ls: CopilotServer) -> Callable[[], bool]:
    """What indexing calls before each file (and a snapshot save before it starts): wait while
    the model serves a completion, at most MAX_INDEX_PAUSE_S."""
    return functools.partial(ls.runner.wait_for_completions, MAX_INDEX_PAUSE_S)


async def _build_with_progress(ls: CopilotServer, roots: list[str]) -> IndexBuild | None:
    """The initial index, reported as work-done progress; None when it failed or was
    cancelled."""
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
            build_index,
            roots,
            progress=on_progress,
            cancel=ls.index_cancel,
            pause=_pause_for_completions(ls),
        )
    except Exception as exc:  # the index is a help, never a reason to fail
        log.exception("indexing %s failed", roots)
        if report:
            progress.end(token, types.WorkDoneProgressEnd(message=f"indexing failed: {exc}"))
        return None
    if build.stats.cancelled:
        return None
    stats = build.index.stats()
    summary = f"{stats.files} files, {stats.definitions} symbols in {build.stats.seconds:.1f} s"
    log.info("index ready: %s (warm start: %s)", summary, build.warm)
    if report:
        progress.end(token, types.WorkDoneProgressEnd(message=summary))
    return build


async def _register_watched_files(ls: CopilotServer) -> None:
    """Ask the client for `workspace/didChangeWatchedFiles` on every file, when it can
    register for it dynamically."""
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if not (watched and watched.dynamic_registration):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
    )
    registration = types.Registration(
        id=f"copilot-ls/watched-files/{uuid.uuid4()}",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )
    except Exception as exc:  # the server's own watcher still sees changes
        log.info("the client refused workspace/didChangeWatchedFiles: %s", exc)


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
    async def shutdown(ls: CopilotServer, params: None) -> None:
        ls.index_cancel.set()  # a long first index must not hold the process open
        watcher, ls.watcher = ls.watcher, None
        if watcher is not None:
            await asyncio.to_thread(watcher.stop)  # saves the snapshot if changes are pending

    @server.feature(types.EXIT)
    def exit_(ls: CopilotServer, params: None) -> None:
        watcher, ls.watcher = ls.watcher, None
        if watcher is not None:  # exit without shutdown: stop at once, save nothing
            watcher.stop(timeout=0, flush=False)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: CopilotServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        if ls.watcher is not None:
            ls.watcher.notify(_path(c.uri) for c in params.changes if c.uri.startswith("file:"))

    @server.feature(types.WORKSPACE_SYMBOL)
    def workspace_symbol(
        ls: CopilotServer, params: types.WorkspaceSymbolParams
    ) -> list[types.WorkspaceSymbol]:
        hits = ls.index.search(params.query, limit=SYMBOL_LIMIT)
        return [_symbol(hit.path, hit.definition) for hit in hits]
