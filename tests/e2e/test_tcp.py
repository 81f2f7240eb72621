"""`copilot-ls --tcp` serves the same protocol on a loopback port."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.model


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _frame(message: dict) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def _read(conn: socket.socket) -> dict:
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        chunk = conn.recv(1)
        assert chunk, "connection closed"
        header += chunk
    length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    body = b""
    while len(body) < length:
        body += conn.recv(length - len(body))
    return json.loads(body)


def test_tcp_server_answers_initialize_and_shutdown():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "copilot_ls", "--tcp", "--host", "127.0.0.1", "--port", str(port)],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline, "server never listened"
                time.sleep(0.2)
        with conn:
            conn.sendall(_frame({"id": 1, "method": "initialize", "params": {"capabilities": {}}}))
            reply = _read(conn)
            capabilities = reply["result"]["capabilities"]
            assert "inlineCompletionProvider" in capabilities
            assert capabilities["completionProvider"]["triggerCharacters"]
            assert reply["result"]["serverInfo"]["name"] == "copilot-ls"
            conn.sendall(_frame({"id": 2, "method": "shutdown", "params": None}))
            assert _read(conn)["id"] == 2
    finally:
        server.kill()
        server.wait()
