"""Index throughput against parse-only, interleaved file by file in one process.

`index_build.py` times parse-only and a cold build in separate processes, seconds apart; on a
shared machine the same parse-only run varies by more than the difference being measured. Here
every file is, in turn, parsed alone (read + tree-sitter parse) and indexed alone (the cold
build's per-file step: read, `stat`, hash, parse, queries, extraction, store), `--tries` times
each, alternating, and the fastest of each is kept: noise only ever adds time, so the minima of
neighbouring measurements compare like with like. The walk is timed once and the snapshot save
(the rest of a cold build) `--tries` times, the fastest kept.

Printed: parse-only seconds, cold-build seconds (walk + files + save) and their throughput ratio
(target >= 0.7), with the cold build's extra work split into walk, per-file and save, as
fractions of the parse.

    python benchmarks/index_interleaved.py [--root DIR] [--tries N] [--json OUT]

The default tree is the running interpreter's standard library without site-packages, as in
`index_build.py`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's copilot_ls
sys.path.insert(1, str(Path(__file__).resolve().parent))  # index_build.py beside this file

from index_build import parse_only, stdlib_without_site_packages

from copilot_ls.index.build import build_index
from copilot_ls.index.extract import extract_file
from copilot_ls.index.persistence import gc_paused, save_snapshot
from copilot_ls.index.refresh import RefreshStats, refresh_file
from copilot_ls.index.store import SymbolIndex
from copilot_ls.index.walker import Candidate, walk_workspace

THROUGHPUT_TARGET = 0.7


def measure(root: str, tries: int) -> dict[str, Any]:
    index, stats = SymbolIndex(), RefreshStats()
    clock = time.perf_counter
    parse_s = files_s = 0.0
    with gc_paused():  # as `build_index` does
        # The walk timed as `refresh_index` walks: names and `stat` only (each file is read
        # once, to index it). The files compared are those the content checks keep, as the
        # cold build parses no others.
        started = clock()
        list(walk_workspace([root], check_content=False))
        walk_s = clock() - started
        candidates = [c for c in walk_workspace([root]) if isinstance(c, Candidate)]
        for candidate in candidates:
            parses, builds = [], []
            for _ in range(tries):
                t0 = clock()
                parse_only(candidate.path)
                t1 = clock()
                index.remove(candidate.path)
                refresh_file(
                    candidate, index, lambda p, d, m: extract_file(p, d, mtime_ns=m), stats
                )
                parses.append(t1 - t0)
                builds.append(clock() - t1)
            parse_s += min(parses)
            files_s += min(builds)
        saves = []
        for _ in range(tries):
            with tempfile.TemporaryDirectory() as cache:
                t0 = clock()
                save_snapshot(index, [root], cache=cache)
                saves.append(clock() - t0)
    cold_s = walk_s + files_s + min(saves)
    return {
        "files": len(candidates),
        "definitions": index.stats().definitions,
        "parse_only_s": parse_s,
        "cold_s": cold_s,
        "ratio": parse_s / cold_s,
        "extra_over_parse": {
            "walk": walk_s / parse_s,
            "per_file": (files_s - parse_s) / parse_s,
            "save": min(saves) / parse_s,
        },
        "tries": tries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", help="tree to index (default: the stdlib, no site-packages)")
    parser.add_argument("--tries", type=int, default=3, help="runs of each per file, fastest kept")
    parser.add_argument("--json", type=Path, help="write the result as JSON to this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.root:
            root = args.root
        else:
            root = str(stdlib_without_site_packages(Path(scratch)))
        with tempfile.TemporaryDirectory() as cache:
            build_index([root], cache=cache)  # warm-up: grammars and queries loaded, files read
        result = measure(root, args.tries)
    extra = result["extra_over_parse"]
    verdict = "met" if result["ratio"] >= THROUGHPUT_TARGET else "MISSED"
    print(
        f"{result['files']} files, {result['definitions']} definitions: parse-only "
        f"{result['parse_only_s']:.2f} s, cold build {result['cold_s']:.2f} s\n"
        f"throughput ratio {result['ratio']:.3f} (target >= {THROUGHPUT_TARGET}: {verdict}); "
        f"extra work over the parse: walk {extra['walk']:.3f}, per file "
        f"{extra['per_file']:.3f}, snapshot save {extra['save']:.3f}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
