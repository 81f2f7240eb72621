"""Evaluation stage: the report, as a JSON object (with every site) or as a readable table."""

from __future__ import annotations

import os
from typing import Any

from copilot_ls.evaluation.harness import EvalRun, SiteOutcome
from copilot_ls.evaluation.metrics import ArmSummary, Attempt

ARMS = ("with_context", "without_context")
TARGET_WIDTH = 48
"""Characters of masked text and completion shown per site in the table."""


def _round(value: float, digits: int = 4) -> float:
    return round(value, digits)


def _summary_json(summary: ArmSummary) -> dict[str, Any]:
    return {
        "exact_match": _round(summary.exact_match),
        "edit_similarity": _round(summary.edit_similarity),
        "identifier_f1": _round(summary.identifier_f1),
        "empty": summary.empty,
        "mean_seconds": _round(summary.mean_seconds, 3),
        "mean_prompt_tokens": _round(summary.mean_prompt_tokens, 1),
        "mean_reused_tokens": _round(summary.mean_reused_tokens, 1),
    }


def _attempt_json(attempt: Attempt, prompts: bool) -> dict[str, Any]:
    shown = {
        "completion": attempt.completion,
        "first_line": attempt.first_line,
        "exact": attempt.exact,
        "edit_similarity": _round(attempt.similarity),
        "identifier_f1": _round(attempt.identifier_f1),
        "seconds": _round(attempt.seconds, 3),
        "prompt_tokens": attempt.prompt_tokens,
        "reused_tokens": attempt.reused_tokens,
        "generated_tokens": attempt.generated_tokens,
        "prefill_seconds": _round(attempt.prefill_seconds, 3),
        "decode_seconds": _round(attempt.decode_seconds, 3),
    }
    if prompts:
        shown["prompt"] = attempt.prompt
    return shown


def _relative(path: str, root: str) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:  # another drive (Windows)
        return path


def _site_json(outcome: SiteOutcome, root: str, prompts: bool) -> dict[str, Any]:
    site = outcome.site
    return {
        "path": _relative(site.path, root),
        "line": site.line,
        "character": site.column,
        "target": site.target,
        "cross_file_names": list(site.cross_file_names),
        "context_used": outcome.context_used,
        "names_in_window": list(outcome.names.in_window),
        "names_from_context": list(outcome.names.from_context),
        "names_missing": list(outcome.names.missing),
        "with_context": _attempt_json(outcome.with_context, prompts),
        "without_context": _attempt_json(outcome.without_context, prompts),
    }


def report_json(run: EvalRun, *, prompts: bool = False) -> dict[str, Any]:
    """The whole evaluation as JSON: settings, both arms, their difference and every site
    (with each arm's prompt when `prompts`).

    Sites' `line` and `character` are 0-based, as `copilot-ls complete` takes them."""
    with_, without = run.summary("with_context"), run.summary("without_context")
    completion = run.settings.completion
    return {
        "folder": run.root,
        "model": run.model,
        "sites_mode": run.mode,
        "seed": run.seed,
        "fresh": run.fresh,
        "requested": run.requested,
        "sites": len(run.outcomes),
        "eligible_lines": run.eligible,
        "files_indexed": run.files_indexed,
        "files_scanned": run.files_scanned,
        "settings": {
            "maxPromptTokens": completion.max_prompt_tokens,
            "contextTokens": completion.context_tokens,
            "maxTokens": completion.max_tokens,
            "maxTokensSingleLine": completion.max_tokens_single_line,
            "multiline": completion.multiline,
            "fim": completion.fim,
        },
        "context_used": run.context_used(),
        "context_recall": run.recall(),
        "with_context": _summary_json(with_),
        "without_context": _summary_json(without),
        "delta": {k: _round(v) for k, v in with_.delta(without).items()},
        "comparison": run.comparison(),
        "edit_similarity_delta_ci95": [_round(x) for x in run.similarity_interval()],
        "index_seconds": _round(run.index_seconds, 3),
        "seconds": _round(run.seconds, 3),
        "rows": [_site_json(o, run.root, prompts) for o in run.outcomes],
    }


def _clip(text: str, width: int = TARGET_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _arm_row(label: str, s: ArmSummary) -> str:
    return (
        f"{label:<22}{100 * s.exact_match:>8.1f} %{s.edit_similarity:>11.3f}"
        f"{s.identifier_f1:>11.3f}{s.mean_seconds:>10.2f} s{s.mean_prompt_tokens:>9.0f}"
        f"{s.empty:>7}"
    )


def _delta_row(d: dict[str, float]) -> str:
    return (
        f"{'delta (with - without)':<22}{100 * d['exact_match']:>+8.1f} pp"
        f"{d['edit_similarity']:>+10.3f}{d['identifier_f1']:>+11.3f}"
        f"{d['mean_seconds']:>+10.2f} s{d['mean_prompt_tokens']:>+9.0f}"
    )


def _site_line(outcome: SiteOutcome, root: str) -> list[str]:
    site = outcome.site
    where = f"{_relative(site.path, root)}:{site.line + 1}"
    with_, without = outcome.with_context, outcome.without_context
    marks = f"{'=' if with_.exact else ' '}{with_.similarity:.2f} {'=' if without.exact else ' '}"
    return [
        f"  {where:<34} {marks}{without.similarity:.2f}  {_clip(site.target)}",
        f"  {'':<34} {'':<11}  with:    {_shown(with_)}",
        f"  {'':<34} {'':<11}  without: {_shown(without)}",
    ]


def _shown(attempt: Attempt) -> str:
    return "(no completion)" if attempt.completion is None else _clip(attempt.first_line)


def _recall_line(recall: dict[str, int]) -> str:
    return (
        f"context recall: of {recall['names_outside_window']} cross-file names of masked lines "
        f"that the window lacked, the context showed {recall['names_from_context']}; "
        f"all of them at {recall['sites_supplied']} of {recall['sites_lacking_names']} sites"
    )


def report_text(run: EvalRun, *, sites: bool = True) -> str:
    """A table for people: one line per arm, their difference, then the sites."""
    with_, without = run.summary("with_context"), run.summary("without_context")
    completion = run.settings.completion
    compared = run.comparison()
    low, high = run.similarity_interval()
    lines = [
        f"{run.root}: {len(run.outcomes)} sites ({run.mode}, seed {run.seed}) among "
        f"{run.eligible} eligible lines of {run.files_scanned} files",
        f"model {run.model}; prompt budget {completion.max_prompt_tokens} tokens, of which up "
        f"to {completion.context_tokens} for cross-file context"
        + ("; every completion from a fresh model state" if run.fresh else ""),
        "",
        f"{'':<22}{'exact':>10}{'edit sim':>11}{'ident F1':>11}{'latency':>12}"
        f"{'prompt':>9}{'empty':>7}",
        _arm_row("with context", with_),
        _arm_row("without context", without),
        _delta_row(with_.delta(without)),
        "",
        f"context found at {run.context_used()} of {len(run.outcomes)} sites; edit similarity "
        f"better with context at {compared['with_better']}, without at "
        f"{compared['without_better']}, same at {compared['same']}",
        f"edit similarity delta, 95 % bootstrap interval over sites: [{low:+.3f}, {high:+.3f}]",
        _recall_line(run.recall()),
        f"wall time {run.seconds:.1f} s (index {run.index_seconds:.1f} s)",
    ]
    if sites and run.outcomes:
        lines += ["", "sites (= exact; edit similarity with, without; masked text):"]
        for outcome in run.outcomes:
            lines += _site_line(outcome, run.root)
    return "\n".join(lines)
