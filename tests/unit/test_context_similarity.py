"""BM25 over identifier terms finds the chunks that look like the code above the cursor."""

from copilot_ls.context.similarity import (
    MAX_SNIPPET_LINES,
    ChunkCache,
    SearchFile,
    query_terms,
    similar_snippets,
    tokenise_chunk,
)

INVOICE = [
    "def print_invoice(invoice):",
    "    customer = invoice.customer_name",
    "    for line in invoice.line_items:",
    "        print(line.quantity, line.unit_price)",
]
WEATHER = [
    "def forecast(city):",
    "    sky = fetch_sky(city)",
    "    return sky.temperature",
]
QUERY = query_terms(
    ["def show(invoice):", "    name = invoice.customer_name", "    items = invoice.line_items"]
)


def search_file(path: str, lines: list[str], exclude=None) -> SearchFile:
    return SearchFile(path, (tokenise_chunk(lines, 0, len(lines)),), lines, exclude)


def test_the_chunk_sharing_identifiers_with_the_query_is_found_and_the_other_is_not():
    found = similar_snippets(
        QUERY, [search_file("/w/weather.py", WEATHER), search_file("/w/bill.py", INVOICE)], 5
    )
    assert [s.path for s in found] == ["/w/bill.py"]
    assert found[0].kind == "similar" and found[0].lines == (0, 1, 2, 3)
    assert "invoice" in found[0].name


def test_chunks_are_ranked_by_score_best_first():
    partial = ["def bill(invoice):", "    who = invoice.customer_name"]
    found = similar_snippets(
        QUERY, [search_file("/w/a.py", partial), search_file("/w/b.py", INVOICE)], 5
    )
    assert [s.path for s in found] == ["/w/b.py", "/w/a.py"]
    assert found[0].score > found[1].score


def test_a_chunk_sharing_a_single_common_word_is_not_similar():
    lines = ["def unrelated(invoice):", "    return 42", "    pass"]
    assert similar_snippets(QUERY, [search_file("/w/a.py", lines)], 5) == []


def test_the_same_code_in_two_files_is_proposed_once():
    found = similar_snippets(
        QUERY, [search_file("/w/a.py", INVOICE), search_file("/w/copy/a.py", INVOICE)], 5
    )
    assert len(found) == 1


def test_chunks_overlapping_the_excluded_lines_are_skipped():
    assert similar_snippets(QUERY, [search_file("/w/a.py", INVOICE, (2, 10))], 5) == []


def test_a_long_chunk_is_narrowed_to_its_lines_with_the_most_query_terms():
    lines = ["x_value = compute_noise(1)"] * 40 + INVOICE + ["y_value = compute_noise(2)"] * 10
    found = similar_snippets(QUERY, [search_file("/w/long.py", lines)], 5)
    assert len(found[0].lines) == MAX_SNIPPET_LINES
    assert set(range(40, 44)) <= set(found[0].lines)


def test_blank_lines_at_the_ends_of_a_chunk_are_left_out():
    found = similar_snippets(QUERY, [search_file("/w/a.py", ["", *INVOICE, "", ""])], 5)
    assert found[0].lines == (1, 2, 3, 4)


def test_an_empty_query_finds_nothing():
    assert similar_snippets(frozenset(), [search_file("/w/a.py", INVOICE)], 5) == []


def test_tokenised_chunks_are_cached_by_key():
    cache = ChunkCache()
    first = cache.get(("a", 1), INVOICE, [(0, 2), (2, 4)])
    assert [(c.start, c.end) for c in first] == [(0, 2), (2, 4)]
    assert cache.get(("a", 1), [], None) is first  # the key says the text is the same


def test_without_ranges_text_is_cut_in_fixed_windows():
    chunks = ChunkCache().get(("b",), ["line_of_code"] * 45, None)
    assert [(c.start, c.end) for c in chunks] == [(0, 20), (20, 40), (40, 45)]
