"""Scores of `copilot-ls eval`: exact match, edit similarity, identifier F1 and their means."""

from __future__ import annotations

import pytest

from copilot_ls.evaluation.metrics import (
    NameRecall,
    context_part,
    edit_similarity,
    exact_match,
    first_line,
    identifier_f1,
    levenshtein,
    name_recall,
    paired_interval,
    score,
    summarize,
)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("abc", "", 3),
        ("flaw", "lawn", 2),
        ("same", "same", 0),
        ("ab", "ba", 2),
    ],
)
def test_levenshtein_counts_insertions_deletions_and_substitutions(a, b, distance):
    assert levenshtein(a, b) == distance == levenshtein(b, a)


def test_edit_similarity_is_one_minus_distance_over_the_longer_length():
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert edit_similarity("return x", "return x") == 1.0
    assert edit_similarity("abc", "xyz") == 0.0
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("", "return x") == 0.0


def test_exact_match_ignores_trailing_whitespace_only():
    assert exact_match("return x  ", "return x")
    assert not exact_match(" return x", "return x")
    assert not exact_match("return y", "return x")


def test_the_first_line_of_no_completion_is_empty():
    assert first_line(None) == ""
    assert first_line("total = a + b   \n    return total") == "total = a + b"


def test_identifier_f1_compares_the_names_of_both_lines_as_multisets():
    assert identifier_f1("foo(bar)", "foo(bar)") == 1.0
    assert identifier_f1("foo(baz)", "foo(bar)") == pytest.approx(0.5)
    assert identifier_f1("x = f(a, a)", "x = f(a)") == pytest.approx(2 * 0.75 * 1 / 1.75)
    assert identifier_f1("1 + 2", "3") == 1.0  # neither has a name
    assert identifier_f1("", "foo") == 0.0


def test_score_reads_the_first_line_and_the_pipeline_timings():
    attempt = score(
        "shipping = cost(w)\n    more()",
        "shipping = cost(w)",
        {"prompt_tokens": 300, "reused_tokens": 12, "generated_tokens": 9, "prefill_s": 1.25},
        1.5,
        "def f():\n    ",
    )
    assert attempt.exact and attempt.similarity == 1.0
    assert attempt.first_line == "shipping = cost(w)"
    assert (attempt.prompt_tokens, attempt.reused_tokens, attempt.generated_tokens) == (300, 12, 9)
    assert attempt.seconds == 1.5 and attempt.prefill_seconds == 1.25
    assert attempt.prompt == "def f():\n    "


def test_summaries_average_each_metric_and_count_empty_answers():
    attempts = [
        score("a = 1", "a = 1", {"prompt_tokens": 100}, 1.0),
        score(None, "b = 2", {"prompt_tokens": 300}, 3.0),
    ]
    summary = summarize(attempts)
    assert summary.sites == 2 and summary.empty == 1
    assert summary.exact_match == 0.5 and summary.edit_similarity == 0.5
    assert summary.mean_seconds == 2.0 and summary.mean_prompt_tokens == 200.0


def test_the_delta_is_this_arm_minus_the_other():
    better = summarize([score("a = 1", "a = 1", {}, 2.0)])
    worse = summarize([score("zzz", "a = 1", {}, 1.0)])
    delta = better.delta(worse)
    assert delta["exact_match"] == 1.0 and delta["mean_seconds"] == 1.0
    assert delta["edit_similarity"] == pytest.approx(1.0 - worse.edit_similarity)


def test_an_arm_without_sites_summarizes_to_zeros():
    summary = summarize([])
    assert summary.sites == 0 and summary.exact_match == 0.0 and summary.mean_seconds == 0.0


def test_the_bootstrap_interval_brackets_the_mean_difference_and_is_reproducible():
    differences = [0.1, 0.3, -0.2, 0.0, 0.4, 0.2, -0.1, 0.3]
    low, high = paired_interval(differences, seed=1)
    mean = sum(differences) / len(differences)
    assert low < mean < high and (low, high) == paired_interval(differences, seed=1)
    assert min(differences) <= low and high <= max(differences)


def test_the_interval_of_identical_differences_is_that_value_and_of_none_is_zero():
    assert paired_interval([0.25] * 5) == (0.25, 0.25)
    assert paired_interval([]) == (0.0, 0.0)


def test_the_context_part_is_what_the_prompt_with_context_adds():
    assert context_part("<pre># a.py\nx = 1\ncode<suf>", "<pre>code<suf>") == "# a.py\nx = 1\n"
    assert context_part("same", "same") == ""


def test_name_recall_tells_the_window_the_context_and_nowhere_apart():
    with_prompt = "# pricing.py\ndef compute_cost(w):\n# orders.py\nrate = RATE\n"
    without_prompt = "rate = RATE\n"
    recall = name_recall(["RATE", "compute_cost", "shipping"], with_prompt, without_prompt)
    assert recall == NameRecall(("RATE",), ("compute_cost",), ("shipping",))


def test_a_name_counts_only_as_a_whole_identifier():
    recall = name_recall(["cost"], "# compute_cost\ncode", "code")
    assert recall.missing == ("cost",)
