"""Where a cold index build spends its time beyond the parse: each extraction stage alone.

Every file of the tree is read once; then, `--tries` times each, the fastest kept (noise only
ever adds time), it is parsed, and every stage of `extract_file` is run alone on that tree:
hashing and source checks, splitting the lines, the outline query (tags and imports, down to
the language's `max_depth`), the definitions (name, kind, range, signature, doc, container) and
imports, the references (the file's identifier words), the chunks; then all of extraction on
the parsed tree (`symbols_from_tree`), and `extract_file` whole (parse included). Printed:
each stage's time as a fraction of the parse, and the throughput ratio to parse-only that
extraction alone would allow (reading files, the walk and the snapshot save are
`index_interleaved.py`'s to measure).

    python benchmarks/index_stages.py [--root DIR] [--tries N] [--json OUT]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's copilot_ls
sys.path.insert(1, str(Path(__file__).resolve().parent))  # index_build.py beside this file

from index_build import stdlib_without_site_packages

from copilot_ls.index import extract
from copilot_ls.index.chunks import chunk_lines
from copilot_ls.index.definition_text import kind_ids
from copilot_ls.index.languages import LanguageSpec, language_for_path
from copilot_ls.index.persistence import gc_paused
from copilot_ls.index.walker import Candidate, walk_workspace

STAGES = ("hash", "lines", "outline query", "definitions", "references", "chunks")


def _fastest(tries: int, step: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - started)
    return best


def _file_stages(path: str, spec: LanguageSpec, tries: int) -> tuple[dict[str, float], int]:
    """The fastest time of each stage on one file, and its number of definitions."""
    parser, language = spec.parser(), spec.language()
    assert parser is not None and language is not None
    data = Path(path).read_bytes()
    source = extract.parseable_source(data)
    tree = parser.parse(source)
    ids = kind_ids(spec, language)
    tags, imports = extract._run_queries(spec, tree)
    found, blocks = extract._find_definitions(spec, ids, tags, source)
    lines = source.decode("utf-8", errors="replace").split("\n")
    starts, block_lines = extract._top_level_starts(blocks), [b[2] for b in blocks]
    steps: dict[str, Callable[[], object]] = {
        "parse": lambda: parser.parse(source),
        "hash": lambda: (
            hashlib.blake2b(data, digest_size=16).hexdigest(),
            extract.parseable_source(data),
        ),
        "lines": lambda: source.decode("utf-8", errors="replace").split("\n"),
        "outline query": lambda: extract._run_queries(spec, tree),
        "definitions": lambda: (
            extract._find_definitions(spec, ids, tags, source),
            extract._imports(imports),
        ),
        "references": lambda: extract._references(source, found),
        "chunks": lambda: chunk_lines(lines, starts, block_lines),
        "all on the tree": lambda: extract.symbols_from_tree(
            path, source, tree, spec, mtime_ns=0, content_hash=""
        ),
        "extract_file": lambda: extract.extract_file(path, data),
    }
    return {name: _fastest(tries, step) for name, step in steps.items()}, len(found)


def measure(root: str, tries: int) -> dict[str, Any]:
    totals = dict.fromkeys(("parse", *STAGES, "all on the tree", "extract_file"), 0.0)
    files = definitions = 0
    with gc_paused():  # as `build_index` does
        for candidate in walk_workspace([root]):
            if not isinstance(candidate, Candidate):
                continue
            spec = language_for_path(candidate.path)
            if spec is None or spec.parser() is None or spec.language() is None:
                continue
            times, count = _file_stages(candidate.path, spec, tries)
            for name, seconds in times.items():
                totals[name] += seconds
            files += 1
            definitions += count
    parse = totals["parse"]
    fractions = {
        name: totals[name] / parse for name in (*STAGES, "all on the tree", "extract_file")
    }
    return {
        "files": files,
        "definitions": definitions,
        "parse_s": parse,
        "fraction_of_parse": fractions,
        "extraction_ratio": 1 / fractions["extract_file"],
        "tries": tries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", help="tree to index (default: the stdlib, no site-packages)")
    parser.add_argument("--tries", type=int, default=3, help="runs of each stage, fastest kept")
    parser.add_argument("--json", type=Path, help="write the result as JSON to this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.root or str(stdlib_without_site_packages(Path(scratch)))
        result = measure(root, args.tries)
    fractions = result["fraction_of_parse"]
    print(
        f"{result['files']} files, {result['definitions']} definitions, parse "
        f"{result['parse_s']:.2f} s (fastest of {result['tries']} per file)"
    )
    for name in STAGES:
        print(f"  {name:14s} {fractions[name]:.3f} of the parse")
    print(
        f"  stages summed  {sum(fractions[s] for s in STAGES):.3f}; all of them on a parsed tree "
        f"(symbols_from_tree) {fractions['all on the tree']:.3f}\n"
        f"extract_file: parse + {fractions['extract_file'] - 1:.3f}; extraction alone allows a "
        f"throughput ratio of {result['extraction_ratio']:.3f}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
