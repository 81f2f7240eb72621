"""The eval harness runs each masked line through the real pipeline twice (a scripted model)."""

from __future__ import annotations

import threading
from pathlib import Path

from copilot_ls.backends.base import Backend, Generation, GenerationRequest
from copilot_ls.backends.runner import ModelRunner
from copilot_ls.evaluation.harness import ContextEvaluation, without_context
from copilot_ls.evaluation.sites import MaskSite
from copilot_ls.index.extract import extract_text
from copilot_ls.index.store import SymbolIndex
from copilot_ls.settings import Settings
from tests.unit.test_eval_sites import ORDERS, PRICING

TARGET = "shipping = compute_shipping_cost(weight_kg, distance_km)"
DEFINITION = "def compute_shipping_cost"


class ContextReader(Backend):
    """Answers the masked line when the prompt shows the definition from pricing.py, else a
    wrong line; records every prompt and what the index held for orders.py meanwhile."""

    name = "context-reader"

    def __init__(self, index: SymbolIndex, orders: str) -> None:
        self.index = index
        self.orders = orders
        self.prompts: list[str] = []
        self.hashes_seen: list[str] = []

    def has_special(self, text: str) -> bool:
        return False

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 1

    def generate(self, request: GenerationRequest, cancel: threading.Event) -> Generation:
        prompt = "".join(part for part in request.parts if isinstance(part, str))
        self.prompts.append(prompt)
        symbols = self.index.get(self.orders)
        self.hashes_seen.append(symbols.content_hash if symbols else "")
        answer = TARGET if DEFINITION in prompt else "shipping = 0"
        return Generation(
            text=answer + "\n    more_code()",
            stop_reason="eos",
            prompt_tokens=self.count_tokens(prompt),
            prompt_text=prompt,
        )


def setup(tmp_path: Path) -> tuple[ContextEvaluation, ContextReader, SymbolIndex, str]:
    files = {str(tmp_path / "pricing.py"): PRICING, str(tmp_path / "orders.py"): ORDERS}
    for path, text in files.items():
        Path(path).write_text(text)  # context sources read other files from disk
    index = SymbolIndex(extract_text(path, text) for path, text in files.items())
    orders = str(tmp_path / "orders.py")
    backend = ContextReader(index, orders)
    evaluation = ContextEvaluation(ModelRunner(lambda: backend), Settings(), index, str(tmp_path))
    return evaluation, backend, index, orders


def site_of(orders: str, target: str) -> MaskSite:
    line = ORDERS.split("\n").index("    " + target)
    return MaskSite(orders, line, 4, target)


async def test_the_arm_with_context_sees_the_definition_and_the_other_does_not(tmp_path):
    evaluation, _backend, _index, orders = setup(tmp_path)
    [outcome] = await evaluation.run([site_of(orders, TARGET)], {orders: ORDERS})
    assert outcome.with_context.exact and outcome.with_context.similarity == 1.0
    assert not outcome.without_context.exact
    assert outcome.context_used
    assert outcome.with_context.completion == TARGET + "\n    more_code()"


async def test_no_prompt_contains_the_masked_line(tmp_path):
    evaluation, backend, _index, orders = setup(tmp_path)
    await evaluation.run([site_of(orders, TARGET)], {orders: ORDERS})
    assert backend.prompts and not any(TARGET in prompt for prompt in backend.prompts)


async def test_the_index_holds_the_masked_document_during_a_site_and_the_file_after(tmp_path):
    evaluation, backend, index, orders = setup(tmp_path)
    before = index.get(orders)
    await evaluation.run([site_of(orders, TARGET)], {orders: ORDERS})
    during = backend.hashes_seen[2:]  # after the two warm-up requests
    assert before is not None and backend.hashes_seen[:2] == [before.content_hash] * 2
    assert during and all(digest not in ("", before.content_hash) for digest in during)
    assert index.get(orders) is before


async def test_one_warm_up_per_arm_then_two_requests_per_site_arms_taking_turns(tmp_path):
    evaluation, backend, _index, orders = setup(tmp_path)
    second = "subtotal = sum(item.price for item in items)"
    sites = [site_of(orders, TARGET), site_of(orders, second)]
    outcomes = await evaluation.run(sites, {orders: ORDERS})
    assert len(outcomes) == 2 and len(backend.prompts) == 2 + 2 * 2
    assert all("def warm_up" in prompt for prompt in backend.prompts[:2])
    has_context = [DEFINITION in prompt for prompt in backend.prompts[2:]]
    assert has_context == [False, True, True, False]


async def test_progress_is_reported_before_each_site_and_at_the_end(tmp_path):
    evaluation, _backend, _index, orders = setup(tmp_path)
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, _site: MaskSite) -> None:
        seen.append((done, total))

    await evaluation.run([site_of(orders, TARGET)], {orders: ORDERS}, progress)
    assert seen == [(0, 1), (1, 1)]


def test_the_arm_without_context_differs_only_by_context_tokens():
    settings = Settings()
    plain = without_context(settings)
    assert plain.completion.context_tokens == 0 and settings.completion.context_tokens > 0
    assert plain.model == settings.model
    assert plain.completion.max_prompt_tokens == settings.completion.max_prompt_tokens


class Remembering(ContextReader):
    """A model whose answer depends on what ran before it unless it was told to forget: the
    KV-cache and speculation effects `fresh` removes."""

    def __init__(self, index: SymbolIndex, orders: str) -> None:
        super().__init__(index, orders)
        self.since_forget = 0
        self.forgets = 0

    def forget(self) -> None:
        self.since_forget = 0
        self.forgets += 1

    def generate(self, request: GenerationRequest, cancel: threading.Event) -> Generation:
        generation = super().generate(request, cancel)
        self.since_forget += 1
        if self.since_forget > 1:  # a warm state: a slightly different answer
            generation = Generation(
                text=generation.text.replace("shipping", "shipping_warm"),
                stop_reason=generation.stop_reason,
                prompt_tokens=generation.prompt_tokens,
                prompt_text=generation.prompt_text,
            )
        return generation


async def test_fresh_runs_forget_before_every_completion_and_repeat_exactly(tmp_path):
    _evaluation, _backend, index, orders = setup(tmp_path)
    sites = [site_of(orders, TARGET)] * 3

    async def run(fresh: bool) -> tuple[list[str], int]:
        backend = Remembering(index, orders)
        evaluation = ContextEvaluation(
            ModelRunner(lambda: backend), Settings(), index, str(tmp_path), fresh=fresh
        )
        outcomes = await evaluation.run(sites, {orders: ORDERS})
        texts = [o.without_context.completion for o in outcomes]
        texts += [o.with_context.completion for o in outcomes]
        return texts, backend.forgets

    fresh_texts, forgets = await run(fresh=True)
    assert forgets == 2 * len(sites)  # before each arm's completion (not the warm-up)
    assert all("shipping_warm" not in text for text in fresh_texts)
    warm_texts, no_forgets = await run(fresh=False)
    assert no_forgets == 0 and any("shipping_warm" in text for text in warm_texts)
