"""A completion in file B sees the definition, from file A, of the function B calls."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    inline,
    last_completion,
    lsp_session,
    open_document,
    wait_for_index,
)

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
    assert "# From pricing.py:" in prompt
    assert "# def compute_shipping_cost(weight_kg, distance_km, express=False):" in prompt
    assert "Price in euros" in prompt
    assert prompt.endswith("shipping = compute_shipping_cost(")  # the window follows


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
