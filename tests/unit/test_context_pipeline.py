"""The pipeline puts the chosen context in front of the window, within its token budget."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from copilot_ls.backends.base import Backend, Generation, GenerationRequest, Special
from copilot_ls.backends.runner import ModelRunner
from copilot_ls.context.recent import RecentDocuments
from copilot_ls.index.extract import extract_file
from copilot_ls.index.store import SymbolIndex
from copilot_ls.pipeline import CompletionPipeline
from copilot_ls.results import CompletionRequest
from copilot_ls.settings import CompletionSettings, Settings

STARCODER2 = ("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>", "<repo_name>")
PRICING = "def compute_cost(weight_kg):\n    return weight_kg * 2\n"
ORDERS = "from pricing import compute_cost\n\nprice = compute_cost(3)\nvalue = "


class RecordingBackend(Backend):
    """Answers `pass`; remembers the prompts; one token per word."""

    name = "recording"

    def __init__(self, specials: tuple[str, ...] = ()) -> None:
        self.specials = specials
        self.requests: list[GenerationRequest] = []

    def has_special(self, text: str) -> bool:
        return text in self.specials

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, request: GenerationRequest, cancel: threading.Event) -> Generation:
        self.requests.append(request)
        return Generation(text="pass", stop_reason="eos")


def workspace(tmp_path: Path) -> tuple[SymbolIndex, RecentDocuments]:
    index, recent = SymbolIndex(), RecentDocuments()
    for name, text in (("pricing.py", PRICING), ("orders.py", ORDERS)):
        (tmp_path / name).write_text(text)
        index.replace(extract_file(str(tmp_path / name), text.encode()))
    recent.opened(str(tmp_path / "orders.py"), ORDERS)
    return index, recent


async def complete(tmp_path: Path, backend: RecordingBackend, context_tokens: int = 256):
    index, recent = workspace(tmp_path)
    settings = Settings(completion=replace(CompletionSettings(), context_tokens=context_tokens))
    pipeline = CompletionPipeline(
        ModelRunner(lambda: backend),
        lambda: settings,
        lambda: index,
        lambda: str(tmp_path),
        lambda: recent,
    )
    uri = (tmp_path / "orders.py").as_uri()
    return await pipeline.complete(CompletionRequest(uri, ORDERS, len(ORDERS)))


async def test_a_repo_level_model_gets_other_files_after_separator_tokens(tmp_path):
    backend = RecordingBackend(STARCODER2)
    result = await complete(tmp_path, backend)
    parts = backend.requests[0].parts
    assert parts[:5] == (
        Special("<repo_name>"),
        tmp_path.name,
        Special("<file_sep>"),
        "pricing.py\n" + PRICING,
        Special("<file_sep>"),
    )
    assert parts[backend.requests[0].cursor_part] == "orders.py\n" + ORDERS
    assert [(Path(i.path).name, i.kind, i.name) for i in result.context] == [
        ("pricing.py", "definition", "compute_cost")
    ]


async def test_other_models_get_the_context_as_files_under_path_comments(tmp_path):
    backend = RecordingBackend()
    await complete(tmp_path, backend)
    (prompt,) = backend.requests[0].parts
    assert prompt == "# pricing.py\n" + PRICING + "\n# orders.py\n" + ORDERS


async def test_no_context_budget_means_no_context(tmp_path):
    backend = RecordingBackend(STARCODER2)
    result = await complete(tmp_path, backend, context_tokens=0)
    assert backend.requests[0].parts[0] == Special("<fim_prefix>")
    assert result.context == ()


async def test_consecutive_keystrokes_on_a_line_keep_the_prompt_start(tmp_path):
    backend = RecordingBackend(STARCODER2)
    index, recent = workspace(tmp_path)
    pipeline = CompletionPipeline(
        ModelRunner(lambda: backend), Settings, lambda: index, lambda: str(tmp_path), lambda: recent
    )
    uri = (tmp_path / "orders.py").as_uri()
    for typed in ("", "c", "co", "com"):
        text = ORDERS + typed
        await pipeline.complete(CompletionRequest(uri, text, len(text)))
    heads = {request.parts[:-5] for request in backend.requests}
    assert len(heads) == 1  # everything before the cursor's own file part is identical
