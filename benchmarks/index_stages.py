"""Where a cold index build spends its time beyond the parse: each extraction stage alone.

Every file of the tree is read once; then, `--tries` times each, the fastest kept (noise only
ever adds time), it is parsed by py-tree-sitter (the baseline), and every stage of
`extract_file` is run alone: the native parse (`copilot_ls.index._native`'s own tree-sitter
runtime), the native extraction (parse, outline query, every node read, signatures, settling,
references and blank lines, all in C), the Python side that finishes docs and imports
(`native.read`), the chunks, hashing; then
`extract_file` whole, and `extract_file` through py-tree-sitter alone (the path a build without
the native module takes). Printed: each as a fraction of the py-tree-sitter parse, and the
throughput ratio to parse-only that extraction alone would allow (reading files, the walk and
the snapshot save are `index_interleaved.py`'s to measure).

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

from copilot_ls.index import extract, native
from copilot_ls.index.chunks import chunk_layout
from copilot_ls.index.languages import LanguageSpec, language_for_path
from copilot_ls.index.persistence import gc_paused
from copilot_ls.index.walker import Candidate, walk_workspace

STAGES = (
    "native parse",
    "native extraction",
    "native.read",
    "chunks",
    "hash",
)
WHOLE = ("extract_file", "extract_file, py-tree-sitter")


def _fastest(tries: int, step: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - started)
    return best


def _file_stages(path: str, spec: LanguageSpec, tries: int) -> tuple[dict[str, float], int]:
    """The fastest time of each stage on one file, and its number of definitions."""
    parser, extractor = spec.parser(), native.extractor(spec)
    assert parser is not None and extractor is not None
    data = Path(path).read_bytes()
    source = extract.parseable_source(data)
    read = native.read(extractor, source)
    layout = (read.line_count, read.blank_lines, read.chunk_starts, read.block_lines)
    steps: dict[str, Callable[[], object]] = {
        "parse": lambda: parser.parse(source),
        "native parse": lambda: extractor.parse(source),
        "native extraction": lambda: extractor.extract(source),
        "native.read": lambda: native.read(extractor, source),
        "chunks": lambda: chunk_layout(*layout),
        "hash": lambda: (
            hashlib.blake2b(data, digest_size=16).hexdigest(),
            extract.parseable_source(data),
        ),
        "extract_file": lambda: extract.extract_file(path, data),
        "extract_file, py-tree-sitter": lambda: extract.extract_file(path, data, use_native=False),
    }
    return {name: _fastest(tries, step) for name, step in steps.items()}, len(read.definitions)


def measure(root: str, tries: int) -> dict[str, Any]:
    totals = dict.fromkeys(("parse", *STAGES, *WHOLE), 0.0)
    files = definitions = 0
    with gc_paused():  # as `build_index` does
        for candidate in walk_workspace([root]):
            if not isinstance(candidate, Candidate):
                continue
            spec = language_for_path(candidate.path)
            if spec is None or spec.parser() is None or native.extractor(spec) is None:
                continue
            times, count = _file_stages(candidate.path, spec, tries)
            for name, seconds in times.items():
                totals[name] += seconds
            files += 1
            definitions += count
    parse = totals["parse"]
    fractions = {name: totals[name] / parse for name in (*STAGES, *WHOLE)}
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
    if not native.available():
        parser.error("copilot_ls.index._native is not built: run scripts/install.sh")
    with tempfile.TemporaryDirectory() as scratch:
        root = args.root or str(stdlib_without_site_packages(Path(scratch)))
        result = measure(root, args.tries)
    fractions = result["fraction_of_parse"]
    print(
        f"{result['files']} files, {result['definitions']} definitions, parse "
        f"{result['parse_s']:.2f} s (fastest of {result['tries']} per file)"
    )
    for name in (*STAGES, *WHOLE):
        print(f"  {name:30s} {fractions[name]:.3f} of the parse")
    print(
        f"extract_file: parse + {fractions['extract_file'] - 1:.3f} (py-tree-sitter alone: parse +"
        f" {fractions['extract_file, py-tree-sitter'] - 1:.3f}); extraction alone allows a"
        f" throughput ratio of {result['extraction_ratio']:.3f}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
