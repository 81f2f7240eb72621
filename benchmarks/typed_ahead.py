"""Typed-ahead benchmark: accepting suggestions by typing them, with the completion cache and
prefetch on and off, side by side in one copilot-ls process.

Episodes over a real source file (default: the standard library's `textwrap.py`): open the text
before an indented line of a function body, ask for a completion at its indentation, accept
the suggestion by typing it (incremental `didChange` per character, an inline completion
request per word or per character), then go on typing the file's real next lines (a request per
word). Every episode runs once with `completion.cache`/`completion.prefetch` on and once off
(switched with `workspace/didChangeConfiguration`, alternating which goes first), on the same
server and model, the document opened afresh. Each request's round trip is timed on the client;
`copilot-ls.lastCompletion` says whether the model ran for it.

Printed: p50/p95 latency of the requests while accepting (target: p50 <= 10 ms with the cache)
and while typing on, on vs off; hit rates by kind; model calls per arm.

    python benchmarks/typed_ahead.py [--file F] [--episodes N] [--accept word|char] [--json OUT]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import datetime
import json
import os
import platform
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

SERVER = [sys.executable, "-m", "copilot_ls", "--log-level", "WARNING"]
DEFAULT_FILE = Path(textwrap.__file__)
ACCEPT_P50_TARGET_S = 0.010
CONTINUE_LINES = 2
"""Real lines of the file typed after each accepted suggestion."""
WORD_ENDS = frozenset(" \n\t.(,:[")
ARMS = ("on", "off")


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def sites(source: str, count: int) -> list[int]:
    """0-based line indices of `count` statements spread over the file: each one in a function
    body after at least one statement of code (so the model sees the function's start)."""
    good: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            good.extend(statement.lineno - 1 for statement in body[1:])
    good.sort()
    if len(good) < count:
        raise SystemExit(f"only {len(good)} usable lines in the file, {count} episodes asked")
    return [good[len(good) * k // count] for k in range(count)]


class Editor:
    """A client document being typed into at its end, with timed completion requests."""

    def __init__(self, client: LanguageClient, uri: str, text: str) -> None:
        self.client = client
        self.uri = uri
        self.text = text
        self.version = 1

    def position(self) -> types.Position:
        line_start = self.text.rfind("\n") + 1
        return types.Position(self.text.count("\n"), utf16(self.text[line_start:]))

    def type(self, char: str) -> None:
        at = self.position()
        self.version += 1
        change = types.TextDocumentContentChangePartial(range=types.Range(at, at), text=char)
        doc = types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(doc, [change]))
        self.text += char

    async def request(self, phase: str) -> dict[str, Any]:
        context = types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic)
        where = (types.TextDocumentIdentifier(self.uri), self.position())
        params = types.InlineCompletionParams(context, *where)
        started = time.perf_counter()
        answer = await self.client.text_document_inline_completion_async(params)
        latency = time.perf_counter() - started
        last = await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="copilot-ls.lastCompletion")
        )
        items = getattr(answer, "items", None) or []
        text = items[0].insert_text if items else ""
        timings = (last or {}).get("timings", {})
        return {
            "phase": phase,
            "latency_s": latency,
            "cached": (last or {}).get("cached"),
            "text": text if isinstance(text, str) else "",
            "server_s": (last or {}).get("seconds"),
            **{k: timings.get(k) for k in ("prompt_tokens", "reused_tokens", "prefill_s")},
            **{k: timings.get(k) for k in ("decode_s", "generated_tokens")},
        }


def settings_for(arm: str, completion: dict[str, Any]) -> dict[str, Any]:
    return {"completion": {**completion, "cache": arm == "on", "prefetch": arm == "on"}}


async def episode(
    client: LanguageClient, workdir: Path, name: str, lines: list[str], site: int, accept: str
) -> list[dict[str, Any]]:
    """Ask at the indentation of line `site`, accept by typing, type the real lines on."""
    indent = lines[site][: len(lines[site]) - len(lines[site].lstrip())]
    before = "\n".join(lines[:site]) + "\n" + indent
    path = workdir / f"{name}.py"
    path.write_text(before, encoding="utf-8")
    item = types.TextDocumentItem(path.as_uri(), "python", 1, before)
    client.text_document_did_open(types.DidOpenTextDocumentParams(item))
    editor = Editor(client, path.as_uri(), before)
    first = await editor.request("first")
    records = [first]
    suggestion = first["text"]
    for index, char in enumerate(suggestion):
        editor.type(char)
        last_char = index == len(suggestion) - 1
        if accept == "char" or char in WORD_ENDS or last_char:
            records.append(await editor.request("accept"))
    real = "\n" + "\n".join(lines[site : site + CONTINUE_LINES])
    for char in real:
        editor.type(char)
        if char in WORD_ENDS:
            records.append(await editor.request("continue"))
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(editor.uri))
    )
    return records


def arm_stats(records: list[dict[str, Any]]) -> dict[str, Any]:
    def latencies(phase: str) -> list[float]:
        return [r["latency_s"] for r in records if r["phase"] == phase]

    accept = [r for r in records if r["phase"] == "accept"]
    kinds = ("exact", "typed-ahead", "prefetch")
    return {
        "requests": len(records),
        "model_calls": sum(r["cached"] is None for r in records),
        "accept_requests": len(accept),
        **{f"{p}_p{q}_s": pct(latencies(p), q) for p in ("accept", "continue") for q in (50, 95)},
        "first_p50_s": pct(latencies("first"), 50),
        "accept_hit_rate": sum(r["cached"] is not None for r in accept) / max(1, len(accept)),
        **{f"hits_{k}": sum(r["cached"] == k for r in records) for k in kinds},
    }


ROWS = """\
accept_p50_s      accepting: p50 (ms), target <= 10 with the cache
accept_p95_s      accepting: p95 (ms)
continue_p50_s    typing on: p50 (ms)
continue_p95_s    typing on: p95 (ms)
first_p50_s       first request of an episode: p50 (ms)
accept_hit_rate   accepting: answered without the model
accept_requests   accepting: requests
requests          all requests
model_calls       requests the model ran for
hits_typed-ahead  typed-ahead hits
hits_prefetch     prefetch hits
hits_exact        exact hits"""


def report(summary: dict[str, dict[str, Any]], settings: dict[str, Any]) -> None:
    def cell(value: Any, key: str) -> str:
        if key.endswith("_s"):
            return f"{value * 1000:10.1f}"
        return f"{value:10.0%}" if key.endswith("rate") else f"{value:10d}"

    print(f"\n{'== cache + prefetch ==':50}{'on':>10}{'off':>10}")
    for key, label in (row.split(maxsplit=1) for row in ROWS.splitlines()):
        print(f"{label:50}{cell(summary['on'][key], key)}{cell(summary['off'][key], key)}")
    on, off = summary["on"]["accept_p50_s"], summary["off"]["accept_p50_s"]
    verdict = "met" if on <= ACCEPT_P50_TARGET_S else "MISSED"
    print(f"accepting p50 on/off ratio {on / off:.3f}; target p50 <= 10 ms: {verdict}")
    print("\n== settings ==\n" + "\n".join(f"{k}: {v}" for k, v in settings.items()))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    source = args.file.read_text(encoding="utf-8")
    lines = source.split("\n")
    chosen = sites(source, args.episodes)
    completion: dict[str, Any] = {"maxTokens": args.max_tokens} if args.max_tokens else {}
    model = {"model": {"path": args.model}} if args.model else {}
    settings: dict[str, Any] = dict(file=str(args.file), episodes=args.episodes)
    settings.update(accept=args.accept, max_tokens=args.max_tokens or "default")
    settings.update(sites=[i + 1 for i in chosen], n_cpu=os.cpu_count())
    settings.update(python=platform.python_version(), model=args.model or "embedded")
    settings.update(date=datetime.datetime.now().isoformat(timespec="seconds"))
    records: dict[str, list[dict[str, Any]]] = {arm: [] for arm in ARMS}
    client = make_test_lsp_client()
    await client.start_io(*SERVER)
    try:
        init = {**model, **settings_for("on", completion)}
        capabilities = client_capabilities("visual-studio-code")
        await client.initialize_session(
            types.InitializeParams(capabilities=capabilities, initialization_options=init)
        )
        with tempfile.TemporaryDirectory(prefix="copilot-ls-bench-") as tmp:
            workdir = Path(tmp)
            warm = Editor(client, (workdir / "warm.py").as_uri(), "import os\n")
            (workdir / "warm.py").write_text(warm.text, encoding="utf-8")
            item = types.TextDocumentItem(warm.uri, "python", 1, warm.text)
            client.text_document_did_open(types.DidOpenTextDocumentParams(item))
            await warm.request("warmup")  # loads the model outside the measurements
            started = time.perf_counter()
            for k, site in enumerate(chosen):
                order = ARMS if k % 2 == 0 else ARMS[::-1]
                for arm in order:
                    options = {**model, **settings_for(arm, completion)}
                    client.workspace_did_change_configuration(
                        types.DidChangeConfigurationParams(settings=options)
                    )
                    # One document for both arms: neither sees the other's as related code.
                    found = await episode(client, workdir, f"episode{k}", lines, site, args.accept)
                    records[arm].extend(found)
                    accepted = [r for r in found if r["phase"] == "accept"]
                    hits = sum(r["cached"] is not None for r in accepted)
                    print(
                        f"  episode {k + 1} (line {site + 1}) cache {arm}: "
                        f"{len(found[0]['text'])} chars suggested, {hits}/{len(accepted)} "
                        f"accepting requests without the model",
                        flush=True,
                    )
            settings["measured_s"] = round(time.perf_counter() - started, 1)
        await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        await client.stop()
    summary = {arm: arm_stats(records[arm]) for arm in ARMS}
    report(summary, settings)
    return {"settings": settings, "summary": summary, "requests": records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="source file to replay")
    parser.add_argument("--episodes", type=int, default=4, help="suggestions to accept")
    parser.add_argument("--accept", choices=("word", "char"), default="word")
    parser.add_argument("--max-tokens", type=int, default=0, help="completion.maxTokens")
    parser.add_argument("--model", help="GGUF file (default: the server's embedded model)")
    parser.add_argument("--json", type=Path, help="write the result as JSON to this path")
    args = parser.parse_args()
    if args.episodes < 1:
        parser.error("--episodes must be at least 1")
    result = asyncio.run(run(args))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
