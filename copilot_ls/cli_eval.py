"""`copilot-ls eval DIR`: does cross-file context help on this code base? Measured, not guessed.

Lines of DIR are masked (see `copilot_ls.evaluation.sites`) and completed twice through the
pipeline editors use, with the user's settings and with `completion.contextTokens = 0`, on one
loaded model. Exact match, edit similarity, identifier F1, latency and prompt size of both arms
and their difference go to stdout (a table, or JSON with every site); a progress line goes to
stderr when it is a terminal.

A cold prompt costs about 8 ms a token on two CPU cores, so the eval's default prompt budget
is EVAL_PROMPT_TOKENS (both arms alike) unless `--max-prompt-tokens` or the settings say
otherwise: `--n 20` then takes a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot_ls.settings import Settings, parse_settings

if TYPE_CHECKING:
    from copilot_ls.evaluation.harness import EvalRun
    from copilot_ls.evaluation.sites import MaskSite, SiteSelection
    from copilot_ls.index.build import IndexBuild

EVAL_PROMPT_TOKENS = 512
"""`completion.maxPromptTokens` of both arms unless set explicitly (the editor default is 1024)."""
DEFAULT_SITES = 20


def add_eval_parser(commands: Any) -> None:
    """Register `eval` on the subcommand parsers of `copilot-ls`."""
    parser = commands.add_parser(
        "eval",
        help="mask lines of a repository, complete them with and without cross-file context, "
        "and compare exact match and edit similarity",
    )
    parser.add_argument("folder", type=Path, help="the repository (a folder)")
    parser.add_argument(
        "--n", type=int, default=DEFAULT_SITES, help=f"lines to mask (default {DEFAULT_SITES})"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the line choice (default 0)")
    parser.add_argument(
        "--sites",
        choices=["cross-file", "any"],
        default="cross-file",
        help="cross-file (default): lines that use a name defined in another file; any: any "
        "line of code",
    )
    parser.add_argument("--model", help="GGUF model file (default: the embedded model)")
    parser.add_argument(
        "--settings", help="settings as JSON, the same tree editors send (camelCase keys)"
    )
    parser.add_argument(
        "--max-prompt-tokens",
        type=int,
        help=f"prompt budget of both arms (default {EVAL_PROMPT_TOKENS}, or "
        "completion.maxPromptTokens when --settings sets it)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="complete every site from a fresh model state, without speculative decoding: "
        "repeatable from run to run (what the KV cache kept from the site before changes "
        "nothing), but every prompt is evaluated whole, so slower",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON object with every site")
    parser.add_argument(
        "--prompts", action="store_true", help="with --json: include each arm's prompt per site"
    )


def _error(message: str) -> int:
    print(f"copilot-ls eval: {message}", file=sys.stderr)
    return 2


def _settings(args: argparse.Namespace) -> Settings:
    """The settings of the arm with context; raises ValueError for unusable input."""
    try:
        raw: Any = json.loads(args.settings) if args.settings else {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"--settings is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError("--settings must be a JSON object")
    raw = raw.get("copilotLs", raw) or {}
    for section in ("completion", "model"):
        if not isinstance(raw.setdefault(section, {}), dict):
            raise ValueError(f"--settings: {section} must be an object")
    if args.max_prompt_tokens is not None:
        raw["completion"]["maxPromptTokens"] = args.max_prompt_tokens
    else:
        raw["completion"].setdefault("maxPromptTokens", EVAL_PROMPT_TOKENS)
    if args.model:
        raw["model"]["path"] = args.model
    if args.fresh:
        raw["completion"]["speculative"] = "off"
    settings, problems = parse_settings(raw)
    for problem in problems:
        print(f"copilot-ls eval: settings: {problem} (default used)", file=sys.stderr)
    return settings


def _progress(done: int, total: int, site: MaskSite) -> None:
    where = f"{Path(site.path).name}:{site.line + 1}"
    sys.stderr.write(f"\reval {done}/{total} {where:<40}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _index_progress(done: int, total: int) -> None:
    if total and (done == total or done % 50 == 0):
        sys.stderr.write(f"\rindexing {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run_eval(args: argparse.Namespace) -> int:
    """The `eval` subcommand; exit code 2 for unusable input or a model that cannot load
    (both found before any site runs)."""
    from copilot_ls.backends.model_files import ModelFileError
    from copilot_ls.evaluation.report import report_json, report_text
    from copilot_ls.evaluation.sites import select_sites
    from copilot_ls.index.build import build_index

    if not args.folder.is_dir():
        return _error(f"not a folder: {args.folder}")
    if args.n < 1:
        return _error("--n must be at least 1")
    try:
        settings = _settings(args)
    except ValueError as exc:
        return _error(str(exc))
    if settings.completion.context_tokens <= 0:
        print("copilot-ls eval: contextTokens is 0: both arms are the same", file=sys.stderr)
    started = time.perf_counter()
    root = str(args.folder.resolve())
    build = build_index([root], progress=_index_progress if sys.stderr.isatty() else None)
    index_seconds = time.perf_counter() - started
    selection = select_sites(build.index, args.n, seed=args.seed, mode=args.sites)
    if not selection.sites:
        hint = " (try --sites any)" if args.sites == "cross-file" else ""
        return _error(f"no line of {root} qualifies for masking{hint}")
    try:
        run = _evaluate(args, settings, root, build, selection)
    except ModelFileError as exc:  # only loading the model raises it
        return _error(str(exc))
    run.index_seconds = index_seconds
    run.seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps(report_json(run, prompts=args.prompts), indent=2, ensure_ascii=False))
    else:
        print(report_text(run))
    return 0


def _evaluate(
    args: argparse.Namespace,
    settings: Settings,
    root: str,
    build: IndexBuild,
    selection: SiteSelection,
) -> EvalRun:
    """Load the model once, then run every site through both arms."""
    from copilot_ls.backends.llama_cpp import LlamaCppBackend
    from copilot_ls.backends.runner import ModelRunner
    from copilot_ls.evaluation.harness import ContextEvaluation, EvalRun

    runner = ModelRunner(lambda: LlamaCppBackend(settings.model))
    evaluation = ContextEvaluation(runner, settings, build.index, root, fresh=args.fresh)
    progress = _progress if sys.stderr.isatty() else None

    async def evaluate() -> EvalRun:
        backend = await runner.backend()
        outcomes = await evaluation.run(selection.sites, selection.texts, progress)
        return EvalRun(
            root=root,
            mode=args.sites,
            seed=args.seed,
            requested=args.n,
            eligible=selection.eligible,
            files_indexed=build.index.stats().files,
            files_scanned=selection.files_scanned,
            model=backend.name,
            settings=settings,
            outcomes=outcomes,
            fresh=args.fresh,
        )

    try:
        return asyncio.run(evaluate())
    finally:
        runner.shutdown()
