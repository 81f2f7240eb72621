"""Features stage: `textDocument/didOpen`, `didChange`, `didSave` and `didClose`.

pygls has already applied each notification to `ls.workspace` when these handlers run; they
record the document in `ls.recent` (what the user works on, for the context stage) and hand its
text to `ls.buffers`, which re-indexes it off the event loop, debounced (index stage). Only
file-backed documents are indexed; others (`untitled:`) are recorded in `ls.recent` by URI.
Handlers never raise: a failure is logged and the server goes on.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from lsprotocol import types

from copilot_ls.features.workspace_index import workspace_roots
from copilot_ls.index.incremental import diff_edit
from copilot_ls.server import CopilotServer

log = logging.getLogger(__name__)

P = TypeVar("P")


def document_key(uri: str) -> str:
    """The absolute path of a `file:` URI; any other URI stands for itself."""
    return unquote(urlparse(uri).path) if uri.startswith("file:") else uri


def last_edit_line(
    changes: Sequence[types.TextDocumentContentChangeEvent], old_text: str | None, new_text: str
) -> int | None:
    """The 0-based line, in the new text, where the last change ended; None when unknown."""
    if not changes:
        return None
    change = changes[-1]
    if isinstance(change, types.TextDocumentContentChangePartial):
        return change.range.start.line + change.text.count("\n")
    if old_text is None:
        return None
    edit = diff_edit(old_text.encode("utf-8", "replace"), new_text.encode("utf-8", "replace"))
    return edit.last_line if edit is not None else None


def _logged(
    handler: Callable[[CopilotServer, P], None],
) -> Callable[[CopilotServer, P], None]:
    """`handler`, with any exception logged instead of raised."""

    @functools.wraps(handler)
    def run(ls: CopilotServer, params: P) -> None:
        try:
            handler(ls, params)
        except Exception:
            log.exception("%s failed", handler.__name__)

    return run


def _reread_from_disk(ls: CopilotServer) -> Callable[[str], None]:
    """Have the watcher bring a closed document's index entry back to the file on disk."""

    def reread(path: str) -> None:
        watcher = ls.watcher
        if watcher is not None:
            watcher.notify([path])

    return reread


def did_open(ls: CopilotServer, params: types.DidOpenTextDocumentParams) -> None:
    uri = params.text_document.uri
    text = ls.workspace.get_text_document(uri).source
    key = document_key(uri)
    ls.recent.opened(key, text)
    if uri.startswith("file:"):
        ls.buffers.open(key, text, workspace_roots(ls))


def did_change(ls: CopilotServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    document = ls.workspace.text_documents.get(uri)
    if document is None:
        return
    key, text = document_key(uri), document.source
    line = last_edit_line(params.content_changes, ls.recent.text(key), text)
    ls.recent.edited(key, text, line)
    if uri.startswith("file:"):
        ls.buffers.change(key, text)


def did_save(ls: CopilotServer, params: types.DidSaveTextDocumentParams) -> None:
    if params.text_document.uri.startswith("file:"):
        ls.buffers.flush(document_key(params.text_document.uri))


def did_close(ls: CopilotServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    key = document_key(uri)
    ls.recent.closed(key)
    if uri.startswith("file:"):
        ls.buffers.close(key, then=_reread_from_disk(ls))


def register(server: CopilotServer) -> None:
    handlers: list[tuple[str, Callable[[CopilotServer, Any], None]]] = [
        (types.TEXT_DOCUMENT_DID_OPEN, did_open),
        (types.TEXT_DOCUMENT_DID_CHANGE, did_change),
        (types.TEXT_DOCUMENT_DID_SAVE, did_save),
        (types.TEXT_DOCUMENT_DID_CLOSE, did_close),
    ]
    for method, handler in handlers:
        server.feature(method)(_logged(handler))
