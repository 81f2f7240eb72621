"""Command line: start the language server (stdio or TCP), or run one-shot subcommands.

`copilot-ls`                              serve LSP on stdio (what editors start)
`copilot-ls --tcp --port 2087`            serve LSP on a TCP port
`copilot-ls complete FILE --line L --character C [--json]`
                                          print the completion an editor would get there
`copilot-ls index DIR... [--json]`        build or refresh the workspace index snapshot
`copilot-ls eval DIR [--n N] [--json]`    mask lines of DIR, complete them with and without
                                          cross-file context, compare the scores
`copilot-ls schema`                       print the settings' JSON schema

In stdio mode stdout belongs to the protocol: file descriptor 1 is handed to the protocol writer
and then pointed at stderr, so nothing else (llama.cpp's C code included) can write there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, BinaryIO

from copilot_ls import __version__
from copilot_ls.cli_eval import add_eval_parser

log = logging.getLogger("copilot_ls")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="copilot-ls",
        description="A local coding copilot over the Language Server Protocol. "
        "Without a subcommand it serves LSP on stdio.",
    )
    parser.add_argument("--version", action="version", version=f"copilot-ls {__version__}")
    parser.add_argument(
        "--stdio", action="store_true", help="serve over stdio (the default; accepted for clients)"
    )
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument("--log-file", type=Path, help="write logs to this file instead of stderr")
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log verbosity (default INFO when serving, WARNING for subcommands)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    complete = commands.add_parser(
        "complete", help="print the completion at a position of a file, as an editor gets it"
    )
    complete.add_argument("file", type=Path, help="source file")
    complete.add_argument("--line", type=int, required=True, help="0-based line")
    complete.add_argument(
        "--character", type=int, required=True, help="0-based column (UTF-16 units, as in LSP)"
    )
    complete.add_argument("--json", action="store_true", help="print a JSON object with details")
    complete.add_argument("--model", help="GGUF model file (default: the embedded model)")
    complete.add_argument(
        "--settings", help="settings as JSON, the same tree editors send (camelCase keys)"
    )

    index = commands.add_parser(
        "index", help="build or refresh the workspace index snapshot of folders and print stats"
    )
    index.add_argument("folders", type=Path, nargs="+", help="workspace folders")
    index.add_argument("--json", action="store_true", help="print a JSON object")

    add_eval_parser(commands)

    commands.add_parser("schema", help="print the JSON schema of the settings")
    return parser


def _setup_logging(level: str, log_file: Path | None) -> None:
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8")
        if log_file
        else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("pygls").setLevel(max(logging.getLevelName(level), logging.WARNING))


def _protocol_stdout() -> BinaryIO:
    """Keep the real stdout for the protocol; send everything else written to fd 1 to stderr."""
    protocol_fd = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "wb", buffering=0)


def _offset_of(text: str, line: int, character: int) -> int:
    """Character offset of an LSP position (UTF-16 columns); ValueError when outside the text."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        raise ValueError(f"line {line} is outside the file ({len(lines)} lines)")
    row = lines[line]
    units = 0
    for index, char in enumerate(row):
        if units >= character:
            if units > character:
                raise ValueError(f"character {character} splits a UTF-16 surrogate pair")
            return sum(len(x) + 1 for x in lines[:line]) + index
        units += 2 if ord(char) > 0xFFFF else 1
    if units != character:
        raise ValueError(f"character {character} is past the end of line {line} ({units} units)")
    return sum(len(x) + 1 for x in lines[:line]) + len(row)


def _complete(args: argparse.Namespace) -> int:
    from copilot_ls.backends.base import Cancelled
    from copilot_ls.backends.llama_cpp import LlamaCppBackend
    from copilot_ls.backends.model_files import ModelFileError
    from copilot_ls.backends.runner import ModelRunner
    from copilot_ls.pipeline import CompletionPipeline
    from copilot_ls.results import CompletionRequest
    from copilot_ls.settings import parse_settings

    raw: dict[str, Any] = json.loads(args.settings) if args.settings else {}
    if args.model:
        raw.setdefault("model", {})["path"] = args.model
    settings, problems = parse_settings(raw)
    for problem in problems:
        print(f"copilot-ls: settings: {problem} (default used)", file=sys.stderr)
    try:
        text = args.file.read_text(encoding="utf-8")
        offset = _offset_of(text, args.line, args.character)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"copilot-ls: {args.file}: {exc}", file=sys.stderr)
        return 2
    runner = ModelRunner(lambda: LlamaCppBackend(settings.model))
    pipeline = CompletionPipeline(runner, lambda: settings)
    request = CompletionRequest(args.file.resolve().as_uri(), text, offset)
    try:
        result = asyncio.run(pipeline.complete(request))
    except (ModelFileError, ValueError, Cancelled) as exc:
        print(f"copilot-ls: {exc}", file=sys.stderr)
        return 1
    finally:
        runner.shutdown()
    if args.json:
        payload = {
            "text": result.text,
            "mode": result.mode,
            "template": result.template,
            "raw": result.raw,
            "prompt": result.prompt,
            "seconds": round(result.seconds, 3),
            "timings": result.timings,
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    elif result.text is None:
        print("copilot-ls: no completion at this position", file=sys.stderr)
        return 3
    else:
        print(result.text)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    default_level = "INFO" if args.command is None else "WARNING"
    _setup_logging(args.log_level or default_level, args.log_file)
    if args.command is None:
        return _serve(args)
    try:
        code = _run_command(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:  # `copilot-ls schema | head`: no traceback, as Python's docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1


def _run_command(args: argparse.Namespace) -> int:
    if args.command == "complete":
        return _complete(args)
    if args.command == "index":
        from copilot_ls.cli_index import run_index

        return run_index(args.folders, as_json=args.json)
    if args.command == "eval":
        from copilot_ls.cli_eval import run_eval

        return run_eval(args)
    if args.command == "schema":
        from copilot_ls.settings import settings_schema

        print(json.dumps(settings_schema(), indent=2))
        return 0
    raise ValueError(f"unknown command {args.command!r}")


def _serve(args: argparse.Namespace) -> int:
    from copilot_ls.server import build_server

    if args.tcp:
        server = build_server()
        log.info("copilot-ls %s serving on tcp://%s:%s", __version__, args.host, args.port)
        server.start_tcp(args.host, args.port)
        return 0
    stdout = _protocol_stdout()
    server = build_server()
    log.info("copilot-ls %s serving on stdio", __version__)
    server.start_io(sys.stdin.buffer, stdout)
    return 0
