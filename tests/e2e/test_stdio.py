"""In stdio mode stdout carries the protocol and nothing else, llama.cpp included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def parse_frames(data: bytes) -> list[dict]:
    """Split stdout into LSP messages; fails on any byte that is not part of a frame."""
    messages = []
    while data:
        header, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"stray bytes on stdout: {data[:200]!r}"
        fields = dict(line.split(b": ", 1) for line in header.split(b"\r\n"))
        length = int(fields[b"Content-Length"])
        messages.append(json.loads(rest[:length]))
        data = rest[length:]
    return messages


def test_stdout_holds_only_protocol_frames(tmp_path: Path):
    source = tmp_path / "fib.py"
    source.write_text("def fib(n):\n    return ")
    uri = source.as_uri()
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 32)
    position = {"line": 1, "character": 11}
    doc = {"textDocument": {"uri": uri}, "position": position}
    requests = [
        {
            "id": 1,
            "method": "initialize",
            "params": {
                "capabilities": {},
                "initializationOptions": {"completion": {"maxTokens": 8}},
            },
        },
        {"method": "initialized", "params": {}},
        {
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": source.read_text(),
                }
            },
        },
        {
            "id": 2,
            "method": "textDocument/inlineCompletion",
            "params": {**doc, "context": {"triggerKind": 1}},
        },
        {
            "method": "workspace/didChangeConfiguration",
            "params": {"settings": {"model": {"path": str(broken)}}},
        },
        {"id": 3, "method": "textDocument/completion", "params": doc},
        {"id": 4, "method": "shutdown", "params": None},
        {"method": "exit", "params": None},
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "copilot_ls", "--log-level", "DEBUG"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    raw = bytearray()
    try:
        for request in requests:
            proc.stdin.write(frame({"jsonrpc": "2.0", **request}))
            proc.stdin.flush()
            if "id" in request and request["method"] != "shutdown":
                raw += read_response(proc.stdout, request["id"])
        proc.stdin.close()
        raw += proc.stdout.read()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    stderr = proc.stderr.read() if proc.stderr else b""
    messages = parse_frames(bytes(raw))
    by_id = {m["id"]: m for m in messages if "id" in m}
    assert by_id[2].get("result", {}).get("items"), (by_id[2], stderr.decode()[-3000:])
    assert "could not load" in by_id[3]["error"]["message"]
    assert by_id[4]["result"] is None
    assert stderr  # logs went to stderr instead


def read_response(stdout, request_id: int) -> bytes:
    """Read whole frames from stdout until the response to `request_id` has come."""
    data = bytearray()
    while True:
        header = b""
        while not header.endswith(b"\r\n\r\n"):
            byte = stdout.read(1)
            assert byte, f"server closed stdout; read so far: {bytes(data)[-500:]!r}"
            header += byte
        length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        body = stdout.read(length)
        data += header + body
        if json.loads(body).get("id") == request_id:
            return bytes(data)
