"""Features stage: `copilot-ls.lastCompletion`, what the pipeline did for the last completion.

Lets tests, benchmarks and curious users see the exact prompt the model was given.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from copilot_ls.server import CopilotServer

LAST_COMPLETION = "copilot-ls.lastCompletion"


def register(server: CopilotServer) -> None:
    @server.command(LAST_COMPLETION)
    def last_completion(ls: CopilotServer, *args: Any) -> dict[str, Any] | None:
        result = ls.pipeline.last
        if result is None:
            return None
        return {
            "text": result.text,
            "raw": result.raw,
            "mode": result.mode,
            "template": result.template,
            "prompt": result.prompt,
            "healed": result.generation.healed if result.generation else "",
            "seconds": result.seconds,
            "timings": result.timings,
            "cached": result.cached,
            "stats": dict(ls.pipeline.stats),
            "context": [dataclasses.asdict(item) for item in result.context],
        }
