"""Index freshness benchmark: how long after a file is written is its new symbol queryable?

A temporary copy of a real code base (the first `--files` Python modules of the standard
library, by path) is indexed, then an `IndexWatcher` (watchdog/inotify, the server's own)
watches it. `--writes` times, one at a time, the benchmark writes a file, alternately appending
a uniquely named function to an existing module (a realistic edit: the whole module is
re-extracted) and creating a new module, and polls `SymbolIndex.definitions(name)` until the
function is there. Writes are `--gap` seconds apart, so that each is its own event batch.
Latency = write start to first successful lookup; it includes the watcher's 50 ms debounce.

Then a burst: `--burst` existing modules are rewritten at once (as a `git checkout` does) and
the time until the last one's new symbol is queryable is measured.

Target: p95 single-write latency <= 200 ms.

    python benchmarks/index_freshness.py [--files N] [--writes N] [--gap S] [--burst N]
                                         [--json OUT]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from copilot_ls.index.refresh import refresh_index
from copilot_ls.index.store import SymbolIndex
from copilot_ls.index.watcher import DEBOUNCE_S, MAX_DELAY_S, AppliedBatch, IndexWatcher

TARGET_P95_MS = 200.0
TIMEOUT_S = 10.0
"""A write whose symbol is not queryable after this long counts as a miss."""
POLL_S = 0.0005


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def copy_stdlib(dest: Path, count: int) -> list[Path]:
    """Copy the first `count` stdlib modules (sorted by path, tests and site-packages left
    out) under `dest`, keeping their folders; returns the copies."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "test", "tests", "idlelib", "__pycache__", "lib2to3"}
    sources = sorted(
        p
        for p in stdlib.rglob("*.py")
        if not skip.intersection(p.relative_to(stdlib).parts) and p.stat().st_size < 200_000
    )[:count]
    copies = []
    for source in sources:
        target = dest / source.relative_to(stdlib)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copies.append(target)
    return copies


def wait_for(index: SymbolIndex, name: str, started: float) -> float | None:
    """Seconds from `started` until `name` is defined in `index`, or None after the timeout."""
    while not index.definitions(name):
        if time.perf_counter() - started > TIMEOUT_S:
            return None
        time.sleep(POLL_S)
    return time.perf_counter() - started


def single_writes(
    index: SymbolIndex, modules: list[Path], root: Path, writes: int, gap: float
) -> tuple[list[float], dict[str, list[float]], int]:
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {"modify": [], "create": []}
    misses = 0
    for i in range(writes):
        name = f"freshness_marker_{i}"
        kind = "modify" if i % 2 == 0 else "create"
        started = time.perf_counter()
        if kind == "modify":
            with open(modules[(i // 2) % len(modules)], "a", encoding="utf-8") as f:
                f.write(f"\n\ndef {name}():\n    return {i}\n")
        else:
            (root / f"new_module_{i}.py").write_text(f"def {name}():\n    return {i}\n")
        seconds = wait_for(index, name, started)
        if seconds is None:
            misses += 1
        else:
            latencies.append(seconds * 1000)
            by_kind[kind].append(seconds * 1000)
        time.sleep(gap)
    return latencies, by_kind, misses


def burst(index: SymbolIndex, modules: list[Path], count: int) -> tuple[float | None, int]:
    """Rewrite `count` modules at once; ms until the last one's new symbol is queryable."""
    chosen = modules[:count]
    started = time.perf_counter()
    for i, path in enumerate(chosen):
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"\n\ndef burst_marker_{i}():\n    return {i}\n")
    seconds: float | None = 0.0
    for i in range(len(chosen)):  # each wait returns once that one is there: the last, all
        seconds = wait_for(index, f"burst_marker_{i}", started)
        if seconds is None:
            break
    return (None if seconds is None else round(seconds * 1000, 1)), len(chosen)


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="copilot-ls-freshness-") as tmp:
        root = Path(tmp) / "work"
        modules = copy_stdlib(root, args.files)
        batches: list[AppliedBatch] = []
        watcher = IndexWatcher([str(root)], on_applied=batches.append)
        index = SymbolIndex()
        t0 = time.perf_counter()
        watcher.start()
        start_s = time.perf_counter() - t0
        stats = refresh_index([str(root)], index, watcher._extract)
        watcher.attach(index)
        try:
            latencies, by_kind, misses = single_writes(index, modules, root, args.writes, args.gap)
            applied_ms = [b.stats.seconds * 1000 for b in batches if b.stats.parsed]
            burst_ms, burst_files = burst(index, modules, min(args.burst, len(modules)))
        finally:
            watcher.stop(flush=False)
        return {
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
            "python": sys.version.split()[0],
            "watch_mode": watcher.mode,
            "files": len(modules),
            "symbols": index.stats().definitions,
            "initial_index_s": round(stats.seconds, 3),
            "watcher_start_s": round(start_s, 3),
            "debounce_ms": DEBOUNCE_S * 1000,
            "max_delay_ms": MAX_DELAY_S * 1000,
            "writes": args.writes,
            "misses": misses,
            "latency_ms": summary(latencies),
            "latency_ms_by_kind": {k: summary(v) for k, v in by_kind.items()},
            "apply_ms": summary(applied_ms),
            "burst": {"files": burst_files, "all_queryable_ms": burst_ms},
            "target_p95_ms": TARGET_P95_MS,
            "pass": bool(latencies) and misses == 0 and pct(latencies, 95) <= TARGET_P95_MS,
        }


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(pct(values, 50), 1),
        "p95": round(pct(values, 95), 1),
        "max": round(max(values), 1) if values else float("nan"),
    }


def report(result: dict[str, Any]) -> None:
    latency = result["latency_ms"]
    verdict = "PASS" if result["pass"] else "FAIL"
    print(
        f"write -> queryable: p50 {latency['p50']} ms, p95 {latency['p95']} ms, "
        f"max {latency['max']} ms over {latency['n']} writes ({result['misses']} missed); "
        f"target p95 <= {result['target_p95_ms']:.0f} ms: {verdict}"
    )
    for kind, values in result["latency_ms_by_kind"].items():
        print(
            f"  {kind:<6}: p50 {values['p50']} ms, p95 {values['p95']} ms, max {values['max']} ms"
        )
    applied = result["apply_ms"]
    print(
        f"  applying a batch that re-extracted files (after the debounce): "
        f"p50 {applied['p50']} ms, p95 {applied['p95']} ms"
    )
    b = result["burst"]
    print(f"burst of {b['files']} rewritten files -> all queryable: {b['all_queryable_ms']} ms")
    print(
        f"workspace: {result['files']} files, {result['symbols']} symbols, initial index "
        f"{result['initial_index_s']} s, watcher start {result['watcher_start_s']} s "
        f"(mode {result['watch_mode']}); {result['machine']}, Python {result['python']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--files", type=int, default=300, help="stdlib modules to copy")
    parser.add_argument("--writes", type=int, default=200, help="single writes to time")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between two writes")
    parser.add_argument("--burst", type=int, default=250, help="files rewritten at once")
    parser.add_argument("--json", type=Path, help="write the result as JSON to this path")
    args = parser.parse_args()
    result = run(args)
    report(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
