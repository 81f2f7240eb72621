"""Features stage: settings from `initializationOptions` and `didChangeConfiguration`, and the
model warm-up once the client is connected (so a missing model is reported before the first
keystroke, not on it)."""

from __future__ import annotations

import logging

from lsprotocol import types

from copilot_ls.features.workspace_index import index_workspace
from copilot_ls.server import CopilotServer

log = logging.getLogger(__name__)


def register(server: CopilotServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: CopilotServer, params: types.InitializeParams) -> None:
        ls.apply_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: CopilotServer, params: types.InitializedParams) -> None:
        ls.background(_warm_up(ls))
        ls.background(index_workspace(ls))

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: CopilotServer, params: types.DidChangeConfigurationParams
    ) -> None:
        # An empty object is "nothing configured here" (eglot sends `{}` right after it
        # connects): taking it as "all defaults" would undo the initializationOptions.
        if params.settings not in (None, {}, {"copilotLs": {}}):
            ls.apply_settings(params.settings)
            ls.background(_warm_up(ls))


async def _warm_up(ls: CopilotServer) -> None:
    """Load the model in the background; report a load failure once."""
    try:
        await ls.runner.backend()
    except Exception as exc:  # the message says what to do; the server keeps serving
        ls.show_once(f"copilot-ls: {exc}")
        return
    speculative = ls.settings.completion.speculative != "off"
    try:
        await ls.runner.call(lambda backend: backend.prepare(speculative))
    except Exception:  # only an optimisation: the first request does it instead
        log.exception("model warm-up failed")
