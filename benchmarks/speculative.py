"""Speculative vs plain decoding, side by side, on real code; with the hardware's ceiling.

Two workloads over functions of real standard-library files:
- edit-replay: the prompt holds the file up to and including a function, then the same function
  re-typed up to a third of its body; the model goes on re-typing it (moving, copying or
  rewriting existing code), so the text it needs is in the prompt;
- fresh: the prompt ends where a function's body starts and that body appears nowhere before.

Each prompt is generated plain (`speculative="off"`) and speculative (`"auto"`), 64 tokens,
greedy, token-healed at the cursor as completions are (`--no-healing`: not), no stop rule,
in alternating order, each after a 1-token warm-up run of the same prompt
so that both find it in the KV cache; `--repeats` times each, keeping the fastest run of each
mode (the CPU is shared: another process only ever adds time, and one stall of a 2-thread
decode can cost seconds). Printed: generated tokens/s of both, their ratio,
the acceptance rate, whether the texts are identical, and the hardware ceiling measured in the
same run: one `llama_decode` of a batch of k tokens against k single-token decodes, i.e. the
best speedup verifying k drafted tokens could give.

    python benchmarks/speculative.py [--prompts N] [--repeats R] [--model GGUF] [--draft GGUF]
                                     [--no-healing] [--json OUT]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import difflib
import json
import os
import platform
import shlex
import statistics
import string
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import llama_cpp

from copilot_ls.backends.base import Generation, GenerationRequest
from copilot_ls.backends.drafting import DraftPolicy
from copilot_ls.backends.llama_cpp import LOOKUP_PRIORS, LlamaCppBackend
from copilot_ls.settings import ModelSettings

MODULES = (textwrap, difflib, shlex, string, argparse, json.decoder, ast)
MAX_TOKENS = 64
CONTEXT_LINES = 40
"""Lines of the file before the function that the prompts also hold."""
CEILING_K = (4, 8, 16)
EDIT_TARGET, FRESH_TARGET = 1.5, 0.97


class ForcedModelDrafts(DraftPolicy):
    """The backend's policy, except that drafts of the draft model are always `k` long."""

    def __init__(self, k: int) -> None:
        super().__init__(LOOKUP_PRIORS)
        self.k = k

    def length(self, kind: str, available: int, draft_cost: float = 0.0) -> int:
        if kind == "model":
            return min(available, self.k)
        return super().length(kind, available, draft_cost)


def functions(min_body: int = 6) -> list[tuple[list[str], int, int, int]]:
    """(file lines, def line, first body line, last line) of functions in MODULES, 1-based."""
    found = []
    for module in MODULES:
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        lines = source.split("\n")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef) or node.end_lineno is None:
                continue
            body = node.body[1:] if ast.get_docstring(node) and len(node.body) > 1 else node.body
            first = body[0].lineno
            if node.end_lineno - first + 1 >= min_body and not node.decorator_list:
                found.append((lines, node.lineno, first, node.end_lineno))
    found.sort(key=lambda f: (len(f[0]), f[1]))  # deterministic, mixes files
    return found


HEALING = True
"""Whether prompts are token-healed at the cursor (their end), as the completion pipeline does;
`--no-healing` measures without, as this benchmark did before 2026-11-29's fourth session."""


def edit_prompt(lines: list[str], start: int, first: int, end: int) -> str:
    """The file around the function, the function, then its re-typing cut a third in."""
    original = "\n".join(lines[max(0, start - 1 - CONTEXT_LINES) : end])
    cut = first + (end - first + 1) // 3
    return original + "\n\n\n" + "\n".join(lines[start - 1 : cut - 1]) + "\n"


def fresh_prompt(lines: list[str], start: int, first: int, end: int) -> str:
    return "\n".join(lines[max(0, start - 1 - CONTEXT_LINES) : first - 1]) + "\n"


def generate(backend: LlamaCppBackend, prompt: str, mode: str, max_tokens: int) -> Generation:
    """Greedy generation of `max_tokens` tokens, no stop rule. Token-healed at the cursor as
    completions are: a prompt that ends in "\n" ends on a token boundary the model rarely saw
    (SmolLM2 merges a newline with the next line's indentation), and without healing it often
    starts a comment or a new definition there instead of going on re-typing (5 of 12 prompts)."""
    request = GenerationRequest(
        parts=(prompt,),
        max_tokens=max_tokens,
        token_healing=HEALING,
        cursor_part=0 if HEALING else None,
        speculative=mode,  # type: ignore[arg-type]
    )
    return backend.generate(request, threading.Event())


def pair(
    backend: LlamaCppBackend, prompt: str, spec_first: bool, repeats: int, spec_mode: str = "auto"
) -> dict[str, Any]:
    """Plain and speculative (`spec_mode`) generation of one prompt, the fastest of `repeats`
    runs each."""
    runs: dict[str, Generation] = {}
    for _ in range(repeats):
        for mode in (spec_mode, "off") if spec_first else ("off", spec_mode):
            generate(backend, prompt, "off", 1)
            generation = generate(backend, prompt, mode, MAX_TOKENS)
            if mode not in runs or generation.decode_s < runs[mode].decode_s:
                runs[mode] = generation
    plain, spec = runs["off"], runs[spec_mode]
    a, b = backend.tokenize(plain.text), backend.tokenize(spec.text)
    same_prefix = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
    return {
        "plain_tokens": plain.generated_tokens,
        "plain_s": plain.decode_s,
        "spec_tokens": spec.generated_tokens,
        "spec_s": spec.decode_s,
        "drafted": spec.drafted_tokens,
        "accepted": spec.accepted_tokens,
        "batches": spec.draft_batches,
        "identical": plain.text == spec.text,
        "first_difference": same_prefix if plain.text != spec.text else None,
    }


def ceiling(backend: LlamaCppBackend, k: int, repeats: int = 3) -> dict[str, float]:
    """Seconds of one batch of k tokens and of k one-token decodes, measured alternately."""
    llm = backend._llm
    base = int(llm.n_tokens)
    tokens = [int(t) for t in llm.input_ids[max(0, base - k) : base]] or [0] * k
    tokens = (tokens * k)[:k]
    batch_s, single_s = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        llm._ctx.kv_cache_seq_rm(0, base, -1)
        llm._batch.set_batch(batch=tokens, n_past=base, logits_all=True)
        llm._ctx.decode(llm._batch)
        batch_s.append(time.perf_counter() - started)
        llm._ctx.kv_cache_seq_rm(0, base, -1)
        started = time.perf_counter()
        for i, token in enumerate(tokens):
            llm._batch.set_batch(batch=[token], n_past=base + i, logits_all=True)
            llm._ctx.decode(llm._batch)
        single_s.append(time.perf_counter() - started)
        llm._ctx.kv_cache_seq_rm(0, base, -1)
    llm.n_tokens = base
    return {"batch_s": statistics.median(batch_s), "singles_s": statistics.median(single_s)}


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    plain = sum(r["plain_tokens"] for r in records) / sum(r["plain_s"] for r in records)
    spec = sum(r["spec_tokens"] for r in records) / sum(r["spec_s"] for r in records)
    drafted = sum(r["drafted"] for r in records)
    ratios = [
        (r["spec_tokens"] / r["spec_s"]) / (r["plain_tokens"] / r["plain_s"])
        for r in records
        if r["spec_s"] > 0 and r["plain_s"] > 0 and r["plain_tokens"]
    ]
    return {
        "prompts": len(records),
        "plain_tokens_per_s": plain,
        "spec_tokens_per_s": spec,
        "ratio": spec / plain,
        "median_pair_ratio": statistics.median(ratios) if ratios else float("nan"),
        "acceptance": sum(r["accepted"] for r in records) / drafted if drafted else 0.0,
        "drafted": drafted,
        "batches": sum(r["batches"] for r in records),
        "identical": sum(r["identical"] for r in records),
        "generated_tokens": sum(r["plain_tokens"] for r in records),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = ModelSettings(path=args.model, n_ctx=4096, draft_path=args.draft or "")
    backend = LlamaCppBackend(settings)
    if args.force_k:
        backend.policy = ForcedModelDrafts(args.force_k)
    chosen = functions()[:: max(1, len(functions()) // args.prompts)][: args.prompts]
    result: dict[str, Any] = {"settings": environment(backend, args)}
    costs: dict[int, list[dict[str, float]]] = {k: [] for k in CEILING_K}
    for name, build in (("edit-replay", edit_prompt), ("fresh", fresh_prompt)):
        records = []
        for i, function in enumerate(chosen):
            records.append(pair(backend, build(*function), i % 2 == 0, args.repeats, args.mode))
            r = records[-1]
            for k in CEILING_K:
                costs[k].append(ceiling(backend, k, repeats=1))
            print(
                f"  {name} #{i + 1}: plain {r['plain_tokens']}/{r['plain_s']:.2f}s "
                f"spec {r['spec_tokens']}/{r['spec_s']:.2f}s accepted "
                f"{r['accepted']}/{r['drafted']} {'same' if r['identical'] else 'DIFFERENT'}",
                flush=True,
            )
        result[name] = {"summary": summarize(records), "records": records}
    result["ceiling"] = {  # fastest against fastest: contention only adds time
        k: min(c["singles_s"] for c in v) / min(c["batch_s"] for c in v) for k, v in costs.items()
    }
    backend.close()
    return result


def environment(backend: LlamaCppBackend, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "model": backend.path.name,
        "draft_model": args.draft or "",
        "mode": args.mode,
        "force_k": args.force_k,
        "token_healing": HEALING,
        "prompts": args.prompts,
        "max_tokens": MAX_TOKENS,
        "repeats": args.repeats,
        "n_threads": os.cpu_count(),
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg()[0],
    }


def report(result: dict[str, Any]) -> None:
    best = max(result["ceiling"].values())
    print("\nhardware ceiling (k one-token decodes / one batch of k tokens):")
    print("  " + ", ".join(f"k={k}: {v:.2f}x" for k, v in result["ceiling"].items()))
    for name, target in (("edit-replay", EDIT_TARGET), ("fresh", FRESH_TARGET)):
        s = result[name]["summary"]
        verdict = "met" if s["ratio"] >= target else "MISSED"
        print(
            f"{name:12} plain {s['plain_tokens_per_s']:6.1f} tok/s  speculative "
            f"{s['spec_tokens_per_s']:6.1f} tok/s  ratio {s['ratio']:.2f}x (target "
            f">= {target}: {verdict}; median pair {s['median_pair_ratio']:.2f}x; "
            f"{s['ratio'] / best:.0%} of the best ceiling)  acceptance {s['acceptance']:.0%} "
            f"of {s['drafted']} drafted in {s['batches']} batches  identical "
            f"{s['identical']}/{s['prompts']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--prompts", type=int, default=12, help="functions per workload")
    parser.add_argument("--repeats", type=int, default=2, help="runs per mode, fastest kept")
    parser.add_argument("--model", help="GGUF file (default: the embedded model)")
    parser.add_argument("--draft", help="GGUF draft model sharing the model's vocabulary")
    parser.add_argument(
        "--mode",
        choices=("auto", "lookup", "draft"),
        default="auto",
        help="speculative mode compared with plain (draft: the --draft model alone)",
    )
    parser.add_argument(
        "--force-k",
        type=int,
        default=0,
        help="verify K tokens of the draft model at every step, whatever the policy would "
        "choose (measures its acceptance where the policy finds that drafting does not pay)",
    )
    parser.add_argument(
        "--no-healing",
        action="store_true",
        help="do not token-heal the prompts (completions are healed; this benchmark did not "
        "before 2026-11-29's fourth session)",
    )
    parser.add_argument("--json", type=Path, help="write the result as JSON to this path")
    args = parser.parse_args()
    global HEALING
    HEALING = not args.no_healing
    started = time.perf_counter()
    result = run(args)
    result["settings"]["measured_s"] = round(time.perf_counter() - started, 1)
    result["settings"]["load_average_at_end"] = os.getloadavg()[0]
    report(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
