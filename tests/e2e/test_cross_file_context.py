"""A completion sees code from other files: the definition, from file A, of the function file B
calls; code that looks like the lines above the cursor; each in the model's repo-level format
when it has one."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    inline,
    last_completion,
    lsp_session,
    open_document,
    wait_for_index,
)
from tests.fixtures.tiny_gguf import write_tiny_model

pytestmark = pytest.mark.model

PRICING = '''"""Shipping prices."""


def compute_shipping_cost(weight_kg, distance_km, express=False):
    """Price in euros of sending a parcel of weight_kg over distance_km."""
    rate = 0.05 if express else 0.02
    return round(weight_kg * distance_km * rate, 2)
'''
ORDERS = """from pricing import compute_shipping_cost


def order_total(items, weight_kg, distance_km):
    subtotal = sum(item.price for item in items)
    shipping = compute_shipping_cost("""


async def test_prompt_for_b_contains_the_definition_from_a(tmp_path):
    (tmp_path / "pricing.py").write_text(PRICING)
    (tmp_path / "orders.py").write_text(ORDERS)
    options = {"completion": {"maxTokens": 16}}
    async with lsp_session(options, root=tmp_path) as client:
        await wait_for_index(client)
        uri = open_document(client, tmp_path / "orders.py", ORDERS)
        lines = ORDERS.split("\n")
        await inline(client, uri, len(lines) - 1, len(lines[-1]))
        prompt = (await last_completion(client))["prompt"]
    assert (
        "# pricing.py\ndef compute_shipping_cost(weight_kg, distance_km, express=False):" in prompt
    )
    assert "Price in euros" in prompt
    assert prompt.endswith("# orders.py\n" + ORDERS)  # the whole window follows its path


async def test_cross_file_context_can_be_switched_off(tmp_path):
    (tmp_path / "pricing.py").write_text(PRICING)
    options = {"completion": {"maxTokens": 8, "contextTokens": 0}}
    async with lsp_session(options, root=tmp_path) as client:
        await wait_for_index(client)
        uri = open_document(client, tmp_path / "orders.py", ORDERS)
        lines = ORDERS.split("\n")
        await inline(client, uri, len(lines) - 1, len(lines[-1]))
        prompt = (await last_completion(client))["prompt"]
    assert prompt == ORDERS


REPORT = """def print_invoice(invoice):
    customer = invoice.customer_name
    for line in invoice.line_items:
        print(line.description, line.quantity, line.unit_price)
    print("total", invoice.total_amount)
"""
BILLING = """def invoice_summary(invoice):
    name = invoice.customer_name
    for line in invoice.line_items:
        subtotal = line.quantity * line.unit_price
    return """


async def test_a_similar_chunk_from_another_file_is_in_the_prompt(tmp_path):
    """report.py defines nothing billing.py uses, but its code uses the same identifiers."""
    (tmp_path / "report.py").write_text(REPORT)
    options = {"completion": {"maxTokens": 8}}
    async with lsp_session(options, root=tmp_path) as client:
        await wait_for_index(client)
        uri = open_document(client, tmp_path / "billing.py", BILLING)
        lines = BILLING.split("\n")
        await inline(client, uri, len(lines) - 1, len(lines[-1]))
        details = await last_completion(client)
    prompt = details["prompt"]
    assert "# report.py\n" in prompt
    assert '\n    print("total", invoice.total_amount)' in prompt
    assert prompt.endswith(BILLING)
    similar = [item for item in details["context"] if item["kind"] == "similar"]
    assert [item["path"] for item in similar] == [str(tmp_path / "report.py")]


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        (
            "starcoder",
            "<repo_name>{repo}<file_sep>pricing.py\n{code}<file_sep><fim_prefix>orders.py\n",
        ),
        ("qwen", "<|repo_name|>{repo}\n<|file_sep|>pricing.py\n{code}<|file_sep|>orders.py\n"),
    ],
)
async def test_repo_level_models_see_other_files_after_file_separator_tokens(
    tmp_path, family, expected
):
    model = write_tiny_model(tmp_path / "models" / f"tiny-{family}.gguf", family)
    (tmp_path / "pricing.py").write_text(PRICING)
    options = {"model": {"path": str(model), "nCtx": 2048}, "completion": {"maxTokens": 4}}
    async with lsp_session(options, root=tmp_path) as client:
        await wait_for_index(client)
        uri = open_document(client, tmp_path / "orders.py", ORDERS)
        lines = ORDERS.split("\n")
        await inline(client, uri, len(lines) - 1, len(lines[-1]))
        details = await last_completion(client)
    code = PRICING[PRICING.index("def compute_shipping_cost") :]
    assert details["prompt"].startswith(expected.format(repo=tmp_path.name, code=code))
    assert "# pricing.py" not in details["prompt"]  # no path comments besides the separators
    assert [item["kind"] for item in details["context"]] == ["definition"]
