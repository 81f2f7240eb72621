"""Index benchmark: cold build and warm start against raw tree-sitter parsing, side by side.

Three kinds of run, each in a fresh subprocess, alternating for `--rounds` rounds on the same
tree (the machine is shared and noisy, so every ratio compares runs made next to each other):

- parse-only: read and tree-sitter-parse every file the index would hold, nothing else (the
  file list comes from an untimed walk with the indexer's own skip rules);
- cold: `build_index` with an empty cache directory (walk, read, parse, extract, save);
- warm: `build_index` again on the snapshot that cold run saved (nothing changed on disk).

Printed first, because they hold on any machine, with the issue's targets:
- throughput ratio = cold files/s / parse-only files/s (target >= 0.7);
- warm speed-up = cold seconds / warm seconds (target >= 10);
and, informational, peak RSS of each run (VmHWM of the subprocess). Times are wall-clock; CPU
times of the same runs are shown too, as they suffer less from other load on the machine.

The default tree is the running interpreter's standard library *without* site-packages (a
temporary folder of symlinks to every entry but site-packages); `--with-site-packages` walks
the standard library folder itself, site-packages included.

    python benchmarks/index_build.py [--root DIR | --with-site-packages] [--rounds N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from copilot_ls.index.languages import language_for_path

THROUGHPUT_TARGET = 0.7
WARM_TARGET = 10.0
KINDS = ("parse-only", "cold", "warm")


# -- the measured runs (in a subprocess) -----------------------------------------------------


def peak_rss_mib() -> float:
    """This process's peak resident set size (VmHWM), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def parse_only(path: str) -> bool:
    """The baseline's work for one file: read it and tree-sitter-parse it; whether it parsed."""
    with open(path, "rb") as f:
        data = f.read()
    spec = language_for_path(path)
    parser = spec.parser() if spec is not None else None
    if parser is None:
        return False
    parser.parse(data)
    return True


def run_parse_only(root: str) -> dict[str, Any]:
    from copilot_ls.index.walker import Candidate, walk_workspace

    paths = [c.path for c in walk_workspace([root]) if isinstance(c, Candidate)]
    rss_before = peak_rss_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    parsed = sum(map(parse_only, paths))
    return {
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "files": len(paths),
        "parsed": parsed,
        "rss_before_mib": rss_before,
    }


def run_build(root: str, cache: str) -> dict[str, Any]:
    from copilot_ls.index.build import build_index

    rss_before = peak_rss_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    build = build_index([root], cache=cache)
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    stats = build.index.stats()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "files": stats.files,
        "definitions": stats.definitions,
        "parsed": build.stats.parsed,
        "warm": build.warm,
        "snapshot_bytes": os.path.getsize(build.snapshot) if build.snapshot else 0,
        "rss_before_mib": rss_before,
    }


def worker(kind: str, root: str, cache: str) -> None:
    result = run_parse_only(root) if kind == "parse-only" else run_build(root, cache)
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


# -- the driver --------------------------------------------------------------------------------


REPO = Path(__file__).resolve().parents[1]


def spawn(kind: str, root: str, cache: str) -> dict[str, Any]:
    # The workers measure this checkout's copilot_ls, whatever is installed.
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "COPILOT_LS_CACHE_DIR": cache, "PYTHONPATH": path}
    command = [sys.executable, __file__, "--worker", kind, root, cache]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{kind} run failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started
    return result


def stdlib_without_site_packages(scratch: Path) -> Path:
    """A folder of symlinks to every entry of the standard library but site-packages."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    farm = scratch / "stdlib"
    farm.mkdir()
    for entry in stdlib.iterdir():
        if entry.name != "site-packages":
            (farm / entry.name).symlink_to(entry)
    return farm


def measure(root: str, rounds: int, scratch: Path) -> list[dict[str, dict[str, Any]]]:
    results = []
    for number in range(1, rounds + 1):
        cache = tempfile.mkdtemp(prefix=f"cache{number}-", dir=scratch)
        run = {kind: spawn(kind, root, cache) for kind in KINDS}  # in this order: cold, then warm
        results.append(run)
        p, c, w = run["parse-only"], run["cold"], run["warm"]
        print(
            f"  round {number}: parse-only {p['seconds']:.2f}s, cold {c['seconds']:.2f}s, "
            f"warm {w['seconds']:.2f}s",
            flush=True,
        )
    return results


def ratios(run: dict[str, dict[str, Any]], clock: str) -> tuple[float, float]:
    p, c, w = run["parse-only"], run["cold"], run["warm"]
    throughput = (c["files"] / c[clock]) / (p["files"] / p[clock])
    return throughput, c[clock] / w[clock]


def summarize(results: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    wall = [ratios(r, "seconds") for r in results]
    cpu = [ratios(r, "cpu_seconds") for r in results]
    median = statistics.median
    summary: dict[str, Any] = {
        "throughput_ratio": median(t for t, _ in wall),
        "throughput_ratio_cpu": median(t for t, _ in cpu),
        "warm_speedup": median(s for _, s in wall),
        "warm_speedup_cpu": median(s for _, s in cpu),
        "warm_speedup_process": median(
            r["cold"]["process_seconds"] / r["warm"]["process_seconds"] for r in results
        ),
    }
    for kind in KINDS:
        runs = [r[kind] for r in results]
        summary[kind] = {
            "seconds_median": median(x["seconds"] for x in runs),
            "cpu_seconds_median": median(x["cpu_seconds"] for x in runs),
            "files": runs[-1]["files"],
            "peak_rss_mib_max": max(x["peak_rss_mib"] for x in runs),
            "rss_before_mib": runs[-1]["rss_before_mib"],
        }
    summary["definitions"] = results[-1]["cold"]["definitions"]
    summary["snapshot_bytes"] = results[-1]["cold"]["snapshot_bytes"]
    return summary


def verdict(value: float, target: float) -> str:
    return "met" if value >= target else "MISSED"


def report(s: dict[str, Any], tree: str) -> None:
    p, c = s["parse-only"], s["cold"]
    print(f"\ntree: {tree}")
    print(
        f"files: {p['files']} parse-only ({c['files']} indexed), {s['definitions']} definitions, "
        f"snapshot {s['snapshot_bytes'] / 2**20:.1f} MiB"
    )
    print(f"\n{'ratio (median of rounds)':40s} {'wall':>8s} {'cpu':>8s} {'target':>8s}  verdict")
    t, tc = s["throughput_ratio"], s["throughput_ratio_cpu"]
    print(f"{'cold files/s / parse-only files/s':40s} {t:8.3f} {tc:8.3f} {'>= 0.7':>8s}  ", end="")
    print(verdict(t, THROUGHPUT_TARGET))
    ws, wc = s["warm_speedup"], s["warm_speedup_cpu"]
    print(f"{'cold s / warm s':40s} {ws:8.1f} {wc:8.1f} {'>= 10':>8s}  {verdict(ws, WARM_TARGET)}")
    print(f"{'same, whole processes (with start-up)':40s} {s['warm_speedup_process']:8.1f}")
    print(
        f"\n{'run (median)':12s} {'wall s':>8s} {'cpu s':>8s} {'peak RSS':>10s} {'at start':>10s}"
    )
    for kind in KINDS:
        k = s[kind]
        print(
            f"{kind:12s} {k['seconds_median']:8.2f} {k['cpu_seconds_median']:8.2f} "
            f"{k['peak_rss_mib_max']:7.0f} MiB {k['rss_before_mib']:7.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="tree to index (default: the standard library)")
    parser.add_argument("--with-site-packages", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write all measurements here")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "ROOT", "CACHE"), help="internal")
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    with tempfile.TemporaryDirectory(prefix="index-bench-") as scratch:
        if args.root:
            root = str(Path(args.root).resolve())
        elif args.with_site_packages:
            root = sysconfig.get_paths()["stdlib"]
        else:
            root = str(stdlib_without_site_packages(Path(scratch)))
        print(f"indexing {root}, {args.rounds} rounds of parse-only / cold / warm", flush=True)
        results = measure(root, args.rounds, Path(scratch))
    summary = summarize(results)
    if args.root:
        tree = root
    else:
        with_site = "with" if args.with_site_packages else "without"
        tree = f"{sysconfig.get_paths()['stdlib']} ({with_site} site-packages)"
    report(summary, tree)
    if args.json:
        machine = {"python": platform.python_version(), "cpus": os.cpu_count()}
        data = {"tree": tree, "summary": summary, "rounds": results, "machine": machine}
        args.json.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
