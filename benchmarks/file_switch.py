"""Backends benchmark: switching between two files, with the KV state cache on and off.

Two models are loaded side by side from the same GGUF file (the embedded SmolLM2 unless
`--model`), one with `model.stateCacheMib` at its default and one with 0 (off). Each round, on
each of them in turn (order alternating between rounds), completions are made as an editor
would after opening two real standard-library files:

1. file A, from an empty context: the cold prompt;
2. file A again with a character typed: a keystroke (the live context is reused either way);
3. file B: a switch (with the cache on, A's state is saved here);
4. file A with another character typed: the request after switching back;
5. file B with a character typed: the request after switching back again.

Every prompt is the ~`--prompt-tokens` tokens before a cursor in the middle of the file (the
window a prefix-only model gets). The cost of a request is its prefill time (prompt evaluation,
with the state cache's saving and restoring included); generation is the same everywhere and
is kept short. Printed: median cold cost, after-switch cost with the cache on and off, their
ratios to cold (target: on ≤ 1/3), save and restore costs, and the size of a saved state, next
to what `Llama.save_state` (the whole context, logits included) costs for the same prompt.

    flock /tmp/copilot-ls-cpu.lock python benchmarks/file_switch.py [--rounds N] [--model PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sysconfig
import threading
import time
from pathlib import Path

from copilot_ls.backends.base import GenerationRequest
from copilot_ls.backends.llama_cpp import LlamaCppBackend
from copilot_ls.settings import ModelSettings

FILES = ("argparse.py", "json/decoder.py")
TARGET = 1 / 3


def prompt_before_middle(backend: LlamaCppBackend, path: Path, budget: int) -> str:
    """The last `budget` tokens (whole lines) before the middle line of `path`."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    middle = len(lines) // 2
    taken: list[str] = []
    used = 0
    for line in reversed(lines[:middle]):
        cost = backend.count_tokens(line)
        if used + cost > budget:
            break
        taken.insert(0, line)
        used += cost
    return "".join(taken) + "        "


def cost(backend: LlamaCppBackend, prompt: str) -> tuple[float, int, int]:
    """Prefill seconds of one completion, its prompt tokens and the tokens reused."""
    request = GenerationRequest(
        parts=(prompt,), max_tokens=4, token_healing=False, speculative="off"
    )
    generation = backend.generate(request, threading.Event())
    return generation.prefill_s, generation.prompt_tokens, generation.reused_tokens


def reset(backend: LlamaCppBackend) -> None:
    """An empty context and an empty state cache, as after loading the model."""
    backend._llm.n_tokens = 0
    backend._llm._ctx.kv_cache_seq_rm(0, 0, -1)
    backend.states.cache.clear()


def one_round(backend: LlamaCppBackend, a: str, b: str, visit: int) -> dict[str, float]:
    reset(backend)
    cold, _, _ = cost(backend, a)
    keystroke, _, _ = cost(backend, a + "x")
    switch, _, _ = cost(backend, b)
    back_a, n_a, reused_a = cost(backend, a + f"v{visit}")
    back_b, _, _ = cost(backend, b + "y")
    return {
        "cold": cold,
        "keystroke": keystroke,
        "switch": switch,
        "after_switch": statistics.mean([back_a, back_b]),
        "reused_share": reused_a / n_a,
    }


def whole_state_cost(backend: LlamaCppBackend, prompt: str) -> tuple[float, int]:
    """Seconds and bytes of `Llama.save_state` (all of the context) for `prompt`."""
    reset(backend)
    cost(backend, prompt)
    started = time.perf_counter()
    state = backend._llm.save_state()
    return time.perf_counter() - started, int(state.llama_state_size) + state.scores.nbytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prompt-tokens", type=int, default=1000)
    parser.add_argument("--model", default=None, help="GGUF file (default: embedded SmolLM2)")
    args = parser.parse_args()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    backends = {
        "on": LlamaCppBackend(ModelSettings(path=args.model)),
        "off": LlamaCppBackend(ModelSettings(path=args.model, state_cache_mib=0)),
    }
    a, b = (
        prompt_before_middle(backends["on"], stdlib / name, args.prompt_tokens) for name in FILES
    )
    print(f"model: {backends['on'].name}; files: {', '.join(FILES)} (stdlib)")
    print(f"prompt tokens: A {backends['on'].count_tokens(a)}, B {backends['on'].count_tokens(b)}")
    results: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    for visit in range(args.rounds):
        order = ("on", "off") if visit % 2 == 0 else ("off", "on")
        for name in order:
            results[name].append(one_round(backends[name], a, b, visit))
    report(results, backends["on"], a)


def median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def report(results: dict[str, list[dict[str, float]]], on: LlamaCppBackend, a: str) -> None:
    cold = statistics.median(row["cold"] for rows in results.values() for row in rows)
    print(f"\ncold prompt (median of {sum(map(len, results.values()))}): {cold * 1000:.0f} ms")
    print(f"{'':28}{'cache on':>12}{'cache off':>12}")
    for key, label in (
        ("keystroke", "keystroke in the same file"),
        ("switch", "first visit of file B"),
        ("after_switch", "after a switch back"),
    ):
        row = [median(results[name], key) * 1000 for name in ("on", "off")]
        print(f"{label:28}{row[0]:>10.0f}ms{row[1]:>10.0f}ms")
    ratios = [median(results[name], "after_switch") / cold for name in ("on", "off")]
    print(f"{'after switch / cold':28}{ratios[0]:>12.3f}{ratios[1]:>12.3f}   (target on <= 0.333)")
    shares = [median(results[name], "reused_share") for name in ("on", "off")]
    print(f"{'prompt reused after switch':28}{shares[0]:>12.0%}{shares[1]:>12.0%}")
    stats = on.states.stats
    per_token = stats.last_size / max(1, on.count_tokens(a))
    print(
        f"\nstate cache: {stats.saves} saves, {stats.save_s / max(1, stats.saves) * 1000:.1f} ms "
        f"each; {stats.restores} restores, "
        f"{stats.restore_s / max(1, stats.restores) * 1000:.1f} ms each"
    )
    print(
        f"saved state: {stats.last_size / 2**20:.1f} MiB per prompt, "
        f"{per_token / 1024:.1f} KiB/token"
    )
    whole_s, whole_bytes = whole_state_cost(on, a)
    print(
        f"Llama.save_state for the same prompt: {whole_s * 1000:.1f} ms, "
        f"{whole_bytes / 2**20:.1f} MiB (sequence state: "
        f"{stats.save_s / max(1, stats.saves) * 1000:.1f} ms)"
    )
    verdict = "meets" if ratios[0] <= TARGET else "misses"
    print(f"\nafter-switch cost with the cache {verdict} the target (ratio {ratios[0]:.3f})")


if __name__ == "__main__":
    main()
