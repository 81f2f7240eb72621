"""The eval report: a JSON object with both arms, their delta and every site, or a table."""

from __future__ import annotations

import json

from copilot_ls.evaluation.harness import EvalRun, SiteOutcome
from copilot_ls.evaluation.metrics import NameRecall, score
from copilot_ls.evaluation.report import report_json, report_text
from copilot_ls.evaluation.sites import MaskSite
from copilot_ls.settings import Settings

ROOT = "/repo"
NOWHERE = NameRecall(missing=("compute_cost",))


def outcome(
    target: str,
    with_answer: str | None,
    without_answer: str | None,
    names: NameRecall = NOWHERE,
) -> SiteOutcome:
    site = MaskSite(f"{ROOT}/pkg/orders.py", 41, 8, target, ("compute_cost",))
    return SiteOutcome(
        site,
        score(with_answer, target, {"prompt_tokens": 500}, 2.0, "# context\ncode"),
        score(without_answer, target, {"prompt_tokens": 480}, 1.0, "code"),
        context_used=True,
        names=names,
    )


def a_run() -> EvalRun:
    return EvalRun(
        root=ROOT,
        mode="cross-file",
        seed=3,
        requested=5,
        eligible=120,
        files_indexed=9,
        files_scanned=8,
        model="tiny",
        settings=Settings(),
        outcomes=[
            outcome(
                "cost = compute_cost(order)",
                "cost = compute_cost(order)",
                "cost = 0",
                NameRecall(from_context=("compute_cost",)),
            ),
            outcome("return cost * rate", "return cost", "return cost * rate"),
            outcome("total += cost", None, "total += cost"),
            outcome(
                "log.info(total)",
                "log.info(total)",
                "log.info(total)",
                NameRecall(in_window=("compute_cost",)),
            ),
        ],
        index_seconds=0.25,
        seconds=12.5,
    )


def test_the_json_report_has_both_arms_the_delta_and_a_row_per_site():
    report = json.loads(json.dumps(report_json(a_run())))  # plain JSON all the way down
    with_, without = report["with_context"], report["without_context"]
    assert report["sites"] == 4 and report["requested"] == 5 and report["eligible_lines"] == 120
    assert with_["exact_match"] == 0.5 and without["exact_match"] == 0.75
    assert report["delta"]["exact_match"] == -0.25
    assert report["delta"]["edit_similarity"] == round(
        with_["edit_similarity"] - without["edit_similarity"], 4
    )
    assert with_["empty"] == 1 and without["empty"] == 0
    assert with_["mean_prompt_tokens"] == 500 and report["delta"]["mean_seconds"] == 1.0
    assert report["comparison"] == {"with_better": 1, "without_better": 2, "same": 1}
    assert report["settings"]["contextTokens"] == Settings().completion.context_tokens
    low, high = report["edit_similarity_delta_ci95"]
    assert low <= report["delta"]["edit_similarity"] <= high


def test_json_rows_give_the_path_relative_to_the_folder_and_lsp_positions():
    row = report_json(a_run())["rows"][0]
    assert row["path"] == "pkg/orders.py" and row["line"] == 41 and row["character"] == 8
    assert row["target"] == "cost = compute_cost(order)"
    assert row["cross_file_names"] == ["compute_cost"]
    assert row["with_context"]["exact"] and not row["without_context"]["exact"]
    assert row["without_context"]["first_line"] == "cost = 0"


def test_the_table_shows_both_arms_the_signed_delta_and_the_sites_one_based():
    text = report_text(a_run())
    assert "with context" in text and "without context" in text
    assert "delta (with - without)" in text and "-25.0 pp" in text
    assert "pkg/orders.py:42" in text  # people count lines from 1
    assert "better with context at 1, without at 2, same at 1" in text
    assert "without: cost = 0" in text
    assert "95 % bootstrap interval over sites: [" in text


def test_the_table_can_leave_the_sites_out():
    assert "pkg/orders.py" not in report_text(a_run(), sites=False)


def test_the_table_says_when_an_arm_offered_no_completion():
    assert "with:    (no completion)" in report_text(a_run())


def test_prompts_are_in_the_json_rows_only_when_asked_for():
    run = a_run()
    assert "prompt" not in report_json(run)["rows"][0]["with_context"]
    with_prompts = report_json(run, prompts=True)["rows"][0]
    assert with_prompts["with_context"]["prompt"] == run.outcomes[0].with_context.prompt


def test_context_recall_counts_the_names_the_window_lacked_and_the_context_showed():
    report = report_json(a_run())
    assert report["context_recall"] == {
        "names": 4,
        "names_in_window": 1,
        "names_outside_window": 3,
        "names_from_context": 1,
        "sites_lacking_names": 3,
        "sites_supplied": 1,
        "sites_partly_supplied": 0,
    }
    row = report["rows"][0]
    assert row["names_from_context"] == ["compute_cost"] and row["names_missing"] == []
    assert "the context showed 1; all of them at 1 of 3 sites" in report_text(a_run())
