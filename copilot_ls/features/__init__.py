"""Features stage: thin LSP handlers, one module per LSP surface.

Only this package (and the server module) imports `lsprotocol`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from copilot_ls.server import CopilotServer


def register_all(server: CopilotServer) -> None:
    from copilot_ls.features import (
        chat,
        code_actions,
        completion,
        configuration,
        documents,
        inspect,
        workspace_index,
    )

    configuration.register(server)
    completion.register(server)
    inspect.register(server)
    workspace_index.register(server)
    documents.register(server)
    code_actions.register(server)
    chat.register(server)
