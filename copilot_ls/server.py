"""The language server: owns the settings, the model runner and the completion pipeline.

Handlers live in `features/`, one module per LSP surface; this module only holds the state
they share and the few behaviours that belong to the server as a whole (settings, messages).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from copilot_ls import __version__
from copilot_ls.backends.base import Backend
from copilot_ls.backends.llama_cpp import LlamaCppBackend
from copilot_ls.backends.runner import ModelRunner
from copilot_ls.context.recent import RecentDocuments
from copilot_ls.index.buffers import BufferIndexer
from copilot_ls.index.store import SymbolIndex
from copilot_ls.index.watcher import IndexWatcher
from copilot_ls.pipeline import CompletionPipeline
from copilot_ls.settings import Settings, parse_settings

log = logging.getLogger(__name__)


class CopilotServer(LanguageServer):
    """State shared by the feature handlers."""

    def __init__(self) -> None:
        super().__init__(
            "copilot-ls",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.settings = Settings()
        self.runner = ModelRunner(self._load_backend)
        self.index = SymbolIndex()
        """The workspace index; replaced whole when the background indexing finishes."""
        self.index_cancel = threading.Event()
        self.watcher: IndexWatcher | None = None
        """Keeps `index` fresh from disk and `workspace/didChangeWatchedFiles`, once indexing
        starts (`features/workspace_index.py`)."""
        self.recent = RecentDocuments()
        """Open and recently edited documents, kept by `features/documents.py`."""
        self.buffers = BufferIndexer(lambda: self.index)
        """Indexes open buffers as they are edited (`features/documents.py`)."""
        self.pipeline = CompletionPipeline(
            self.runner,
            lambda: self.settings,
            lambda: self.index,
            self._first_root,
            lambda: self.recent,
            prefetch=True,
        )
        self._shown: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` on the event loop without awaiting it, keeping it referenced until done."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _first_root(self) -> str | None:
        folders = list(self.workspace.folders.values())
        uri = folders[0].uri if folders else self.workspace.root_uri
        return unquote(urlparse(uri).path) if uri and uri.startswith("file:") else None

    def _load_backend(self) -> Backend:
        return LlamaCppBackend(self.settings.model)

    def show_once(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        """`window/showMessage`, but never the same message twice in a session."""
        if message in self._shown:
            return
        self._shown.add(message)
        log.warning("%s", message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def apply_settings(self, raw: object) -> None:
        """Take new settings from the editor; problems are shown once, defaults used instead."""
        settings, problems = parse_settings(raw)
        if problems:
            self.show_once(
                "copilot-ls settings: " + "; ".join(problems) + " (using defaults for these)",
                types.MessageType.Warning,
            )
        model_changed = settings.model != self.settings.model
        self.settings = settings
        if model_changed:
            self.runner.replace(self._load_backend)


def build_server() -> CopilotServer:
    """A server with every feature registered."""
    from copilot_ls.features import register_all

    server = CopilotServer()
    register_all(server)
    return server
