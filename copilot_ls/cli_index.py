"""`copilot-ls index DIR...`: build or refresh a workspace's index snapshot and print its stats.

A progress bar goes to stderr when it is a terminal; the result goes to stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from copilot_ls.index.build import build_index


def _progress_bar(done: int, total: int) -> None:
    if total and (done == total or done % 50 == 0):
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\rindexing [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run_index(folders: list[Path], *, as_json: bool) -> int:
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        print(f"copilot-ls: not a folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    roots = [str(f.resolve()) for f in folders]
    build = build_index(roots, progress=_progress_bar if sys.stderr.isatty() else None)
    stats = build.index.stats()
    languages = dict(sorted(stats.languages.items(), key=lambda kv: -kv[1]))
    result = {
        "folders": roots,
        "files": stats.files,
        "symbols": stats.definitions,
        "languages": languages,
        "seconds": round(build.stats.seconds, 3),
        "warm_start": build.warm,
        "parsed": build.stats.parsed,
        "reused": build.stats.reused,
        "removed": build.stats.removed,
        "skipped": dict(build.stats.skipped),
        "truncated": build.stats.truncated,
        "snapshot": build.snapshot,
    }
    if as_json:
        print(json.dumps(result, indent=2))
        return 0
    by_language = ", ".join(f"{name} {count}" for name, count in languages.items())
    start = "warm start from snapshot" if build.warm else "cold build"
    print(
        f"{stats.files} files, {stats.definitions} symbols in {build.stats.seconds:.2f} s ({start})"
    )
    print(
        f"parsed {build.stats.parsed}, reused {build.stats.reused}, removed {build.stats.removed}"
    )
    print(f"languages: {by_language}")
    if build.stats.skipped:
        print("skipped: " + ", ".join(f"{k} {v}" for k, v in build.stats.skipped.items()))
    print(f"snapshot: {build.snapshot}")
    return 0
