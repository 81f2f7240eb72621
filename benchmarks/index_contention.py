"""Completions while the workspace is being indexed: latency during the first index vs after it.

A copilot-ls process (stdio, driven by pytest-lsp's client) is started on a workspace holding
the standard library (symlinks, as in `index_build.py`) and an empty cache directory, so its
first index is a cold build. While that index runs, completion requests are sent one at a time
with a pause between them (someone typing), each on a freshly opened document whose prompt
shares nothing with the KV cache; once the index has reported its end, the same texts are
requested again under another first line (so again cold). The completion cache, prefetch and
speculative decoding are off, so that every request costs the same model work.

Printed: median and mean latency during and after the index, their ratio (target <= 1.25:
indexing never blocks completions), and how long the index took while serving them.

    python benchmarks/index_contention.py [--requests N] [--gap S] [--root DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

sys.path.insert(0, str(Path(__file__).resolve().parent))  # index_build.py beside this file

from index_build import stdlib_without_site_packages

REPO = Path(__file__).resolve().parents[1]
SERVER = [sys.executable, "-m", "copilot_ls", "--log-level", "WARNING"]
RATIO_TARGET = 1.25
SOURCE = Path(textwrap.__file__)
PIECE_LINES = 14
"""Lines of the source per request document (a prompt of about 150 tokens)."""


def documents(count: int) -> list[str]:
    """`count` different stretches of SOURCE, each ending at the start of a statement."""
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    pieces = []
    for start in range(40, len(lines) - PIECE_LINES, PIECE_LINES):
        piece = lines[start : start + PIECE_LINES]
        pieces.append("\n".join(piece).rstrip() + "\n")
        if len(pieces) == count:
            break
    return pieces


class Probe:
    def __init__(self, client: LanguageClient, workdir: Path) -> None:
        self.client = client
        self.workdir = workdir

    def index_done(self) -> str | None:
        """The end message of the first index's progress, once it has ended."""
        for reports in self.client.progress_reports.values():
            for report in reports:
                if isinstance(report, types.WorkDoneProgressEnd):
                    return report.message or ""
        return None

    async def complete(self, name: str, text: str) -> dict[str, Any]:
        path = self.workdir / name
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        item = types.TextDocumentItem(uri, "python", 1, text)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(item))
        lines = text.split("\n")
        position = types.Position(len(lines) - 1, len(lines[-1]))
        context = types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked)
        params = types.InlineCompletionParams(context, types.TextDocumentIdentifier(uri), position)
        started = time.perf_counter()
        await self.client.text_document_inline_completion_async(params)
        seconds = time.perf_counter() - started
        last = await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="copilot-ls.lastCompletion")
        )
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
        timings = (last or {}).get("timings") or {}
        return {
            "name": name,
            "seconds": seconds,
            "generated_tokens": timings.get("generated_tokens"),
            "prompt_tokens": timings.get("prompt_tokens"),
        }


async def run(root: Path, requests: int, gap: float) -> dict[str, Any]:
    texts = documents(requests)
    init = {"completion": {"cache": False, "prefetch": False, "speculative": "off"}}
    with tempfile.TemporaryDirectory(prefix="copilot-ls-contention-") as tmp:
        env_cache = os.environ.get("COPILOT_LS_CACHE_DIR")
        os.environ["COPILOT_LS_CACHE_DIR"] = str(Path(tmp) / "cache")  # a cold first index
        workspace = root
        client = make_test_lsp_client()
        await client.start_io(*SERVER, cwd=str(REPO))
        try:
            probe = Probe(client, workspace)
            started = time.perf_counter()
            await client.initialize_session(
                types.InitializeParams(
                    capabilities=client_capabilities("neovim@v0.11.0"),
                    initialization_options=init,
                    root_uri=workspace.as_uri(),
                    workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), "workspace")],
                )
            )
            # The model loads on the first request: not one to count.
            await probe.complete("warmup.py", "# warm-up\n" + texts[-1])
            during: list[dict[str, Any]] = []
            for i, text in enumerate(texts):
                if probe.index_done() is not None:
                    break
                during.append(await probe.complete(f"during_{i}.py", f"# d{i:03}\n{text}"))
                await asyncio.sleep(gap)
            still_indexing = probe.index_done() is None
            while (message := probe.index_done()) is None:
                await asyncio.sleep(0.1)
            index_s = time.perf_counter() - started
            after = []
            for i, text in enumerate(texts[: len(during)]):
                after.append(await probe.complete(f"after_{i}.py", f"# a{i:03}\n{text}"))
                await asyncio.sleep(gap)
            await asyncio.wait_for(client.shutdown_session(), 30)
        finally:
            await client.stop()
            if env_cache is None:
                os.environ.pop("COPILOT_LS_CACHE_DIR", None)
            else:
                os.environ["COPILOT_LS_CACHE_DIR"] = env_cache
            names = [r["name"] for r in during] + [f"after_{i}.py" for i in range(len(during))]
            for name in ["warmup.py", *names]:
                (workspace / name).unlink(missing_ok=True)
    if not during:
        sys.exit("the index finished before the first request: give a larger --root")
    d = [r["seconds"] for r in during]
    a = [r["seconds"] for r in after]
    match = re.search(r"in ([0-9.]+) s", message or "")
    return {
        "requests": len(during),
        "gap_s": gap,
        "index_still_running_after_the_requests": still_indexing,
        "index_message": message,
        "index_s_reported": float(match.group(1)) if match else None,
        "index_s_until_end_seen": index_s,
        "during": {"median_s": statistics.median(d), "mean_s": statistics.fmean(d)},
        "after": {"median_s": statistics.median(a), "mean_s": statistics.fmean(a)},
        "ratio_median": statistics.median(d) / statistics.median(a),
        "ratio_mean": statistics.fmean(d) / statistics.fmean(a),
        "during_requests": during,
        "after_requests": after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=12, help="most requests in each phase")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between two requests")
    parser.add_argument("--root", type=Path, help="workspace (default: a copy of the stdlib)")
    parser.add_argument(
        "--with-site-packages",
        action="store_true",
        help="the stdlib with its site-packages (a first index of minutes, not seconds)",
    )
    parser.add_argument("--json", type=Path, help="write the result as JSON to this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="copilot-ls-contention-ws-") as scratch:
        if args.root:
            root = args.root
        elif args.with_site_packages:
            root = Path(scratch) / "workspace"
            root.mkdir()
            (root / "python").symlink_to(sysconfig.get_paths()["stdlib"])
        else:
            root = stdlib_without_site_packages(Path(scratch))
        result = asyncio.run(run(root.resolve(), args.requests, args.gap))
    verdict = "met" if result["ratio_median"] <= RATIO_TARGET else "MISSED"
    print(
        f"{result['requests']} completions during the first index and after it "
        f"({result['gap_s']} s apart); index: {result['index_message']}"
        + ("" if result["index_still_running_after_the_requests"] else " (ended mid-way)")
    )
    for phase in ("during", "after"):
        r = result[phase]
        print(f"  {phase:6s} median {r['median_s']:.3f} s, mean {r['mean_s']:.3f} s")
    print(
        f"latency during / after: median {result['ratio_median']:.2f}, mean "
        f"{result['ratio_mean']:.2f} (target <= {RATIO_TARGET}: {verdict})"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
