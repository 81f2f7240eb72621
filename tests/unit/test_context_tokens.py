"""Identifiers are split into the terms retrieval compares code by."""

from copilot_ls.context.tokens import (
    identifier_terms,
    names_nearest_first,
    references_nearest_first,
    split_identifier,
    terms,
)


def test_camel_snake_and_acronyms_split_into_lower_case_words():
    assert split_identifier("parseHTTPResponse2") == ["parse", "http", "response", "2"]
    assert split_identifier("compute_shipping_cost") == ["compute", "shipping", "cost"]
    assert split_identifier("MAX_RETRIES") == ["max", "retries"]


def test_a_compound_identifier_also_counts_as_a_whole():
    assert identifier_terms("customerName") == ["customer", "name", "customername"]
    assert identifier_terms("invoice") == ["invoice"]


def test_keywords_and_one_letter_words_are_not_terms():
    assert terms("def f(self, x): return self.total_amount") == [
        "total",
        "amount",
        "total_amount",
    ]


def test_names_are_listed_nearest_to_the_cursor_first_each_once():
    lines = ["from pricing import compute_cost", "total = compute_cost(order) + tax"]
    assert names_nearest_first(lines) == ["tax", "order", "compute_cost", "total", "pricing"]


def test_names_stop_at_the_limit():
    assert names_nearest_first(["alpha beta gamma delta"], limit=2) == ["delta", "gamma"]


def test_only_names_used_as_references_are_looked_up():
    lines = ["def run(loop, transport):", "    data = transport.read(size)", "    Future()"]
    assert references_nearest_first(lines) == ["Future", "read", "run"]


def test_a_capitalised_constant_or_private_class_counts_as_a_reference():
    found = references_nearest_first(["x = TIMEOUT + _Private.size"])
    assert found == ["size", "_Private", "TIMEOUT"]


def test_every_name_of_an_import_line_is_a_reference():
    lines = ["from pricing import compute_cost", "total = subtotal"]
    assert references_nearest_first(lines) == ["compute_cost", "pricing"]
