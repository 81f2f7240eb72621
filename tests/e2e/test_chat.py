"""Chat end to end: the real server over stdio and the embedded SmolLM2 model.

`copilot-ls.chat` streams its answer as `copilot-ls/chatChunk` notifications and progress
reports that add up to the answer it returns; the next question is asked with the first turn;
`/doc` returns a docstring edit that parses; `$/cancelRequest` stops a running answer; bad
arguments are an InvalidParams error and the server keeps serving.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

from tests.e2e.conftest import SERVER, open_document, stop_server
from tests.e2e.test_code_actions import SOURCE, apply_workspace_edit

pytestmark = pytest.mark.model

OPTIONS = {"chat": {"maxTokens": 48}, "actions": {"maxTokens": 96}}
CHAT = "copilot-ls.chat"


class Session:
    """A client talking to the real server, with the chat chunks it received."""

    def __init__(self, client: LanguageClient, result: types.InitializeResult) -> None:
        self.client = client
        self.initialized = result
        self.chunks: list[dict[str, Any]] = []
        self.applied: list[types.ApplyWorkspaceEditParams] = []

    async def chat(self, question: str, uri: str | None = None, line: int = 4, **extra: Any):
        arguments: dict[str, Any] = {"question": question}
        if uri is not None:
            at = {"line": line, "character": 4}
            arguments.update(uri=uri, range={"start": at, "end": at})
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=CHAT, arguments=[arguments], **extra)
        )

    async def last_chat(self) -> dict[str, Any]:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="copilot-ls.lastChat")
        )

    def chunks_of(self, chat_id: str) -> list[dict[str, Any]]:
        return [c for c in self.chunks if c["id"] == chat_id]


@asynccontextmanager
async def session(root: Path, options: dict[str, Any] | None = None) -> AsyncIterator[Session]:
    client = make_test_lsp_client()
    received: list[dict[str, Any]] = []

    @client.feature("copilot-ls/chatChunk")
    def on_chunk(params: Any) -> None:
        raw = params if isinstance(params, dict) else params._asdict()  # pygls: a namedtuple
        received.append({"id": raw["id"], "chunk": raw["chunk"], "done": raw["done"]})

    applied: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    await client.start_io(*SERVER)
    try:
        result = await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("neovim@v0.11.0"),
                initialization_options=options or OPTIONS,
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            )
        )
        chat_session = Session(client, result)
        chat_session.chunks, chat_session.applied = received, applied
        yield chat_session
        await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        await stop_server(client)


async def until(check: Any, what: str, seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.filterwarnings("ignore:Unknown progress token")  # a client-made token: ours
async def test_the_answer_streams_as_chunks_and_progress_that_add_up_to_it(tmp_path):
    async with session(tmp_path) as s:
        commands = s.initialized.capabilities.execute_command_provider
        assert commands is not None and CHAT in commands.commands
        uri = open_document(s.client, tmp_path / "calc.py", SOURCE)
        result = await s.chat("What does this function do?", uri, work_done_token="chat-1")
        answer = result["answer"]
        assert answer.strip(), result
        await until(lambda: any(c["done"] for c in s.chunks_of(result["id"])), "the last chunk")
        chunks = s.chunks_of(result["id"])
        assert len(chunks) > 2 and chunks[-1]["done"] and not any(c["done"] for c in chunks[:-1])
        assert "".join(c["chunk"] for c in chunks) == answer
        reports = s.client.progress_reports.get("chat-1", [])
        assert isinstance(reports[0], types.WorkDoneProgressBegin), reports
        await until(lambda: isinstance(reports[-1], types.WorkDoneProgressEnd), "progress end")
        streamed = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
        assert len(streamed) >= 2 and "".join(m or "" for m in streamed) == answer
        last = await s.last_chat()
        assert "def fibonacci(n):" in last["prompt"]  # the function around the cursor
        assert "What does this function do?" in last["prompt"]


async def test_the_second_question_is_asked_with_the_first_question_and_answer(tmp_path):
    async with session(tmp_path) as s:
        uri = open_document(s.client, tmp_path / "calc.py", SOURCE)
        first = await s.chat("What does fibonacci return for 0?", uri)
        await s.chat("And for 1?", uri)
        prompt = (await s.last_chat())["prompt"]
        assert "What does fibonacci return for 0?" in prompt
        assert first["answer"] in prompt
        assert prompt.index(first["answer"]) < prompt.index("And for 1?")


def documented_fibonacci(text: str) -> bool:
    function = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef))
    return function.name == "fibonacci" and bool(ast.get_docstring(function))


async def test_doc_returns_a_docstring_edit_that_parses_and_applies_nothing(tmp_path):
    async with session(tmp_path) as s:
        uri = open_document(s.client, tmp_path / "calc.py", SOURCE)
        result = await s.chat("/doc", uri, line=4)
        assert "edits" in result, result
        edit = s.client.protocol._converter.structure(result["edits"], types.WorkspaceEdit)
        new = apply_workspace_edit({uri: SOURCE}, edit)[uri]
        assert documented_fibonacci(new), new  # the file parses, `fibonacci` is documented
        assert s.applied == [] and (tmp_path / "calc.py").read_text() == SOURCE

        # The offered command runs the action again and applies it through workspace/applyEdit.
        command = result["applyCommand"]
        assert command["command"] == "copilot-ls.applyAction"
        done = await s.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command["command"], arguments=command["arguments"])
        )
        assert done["applied"] is True, done
        assert documented_fibonacci(apply_workspace_edit({uri: SOURCE}, s.applied[0].edit)[uri])


def _long_function(lines: int) -> str:
    body = "".join(f"    total = total + values[{i}] * {i + 1}\n" for i in range(lines))
    return f"def weighted(values):\n    total = 0\n{body}    return total\n"


async def test_cancelling_the_command_stops_the_generation(tmp_path):
    options = {"chat": {"maxTokens": 400}}
    async with session(tmp_path, options) as s:
        uri = open_document(s.client, tmp_path / "weights.py", _long_function(40))
        at = {"line": 3, "character": 4}
        params = types.ExecuteCommandParams(
            command=CHAT,
            arguments=[
                {
                    "question": "Rewrite this function without the loop, line by line.",
                    "uri": uri,
                    "range": {"start": at, "end": at},
                }
            ],
        )
        future = asyncio.ensure_future(
            s.client.protocol.send_request_async(
                types.WORKSPACE_EXECUTE_COMMAND, params, msg_id="chat-cancel"
            )
        )
        await until(lambda: len(s.chunks) >= 2, "the first chunks", 120)
        s.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="chat-cancel"))
        with pytest.raises(JsonRpcException):
            await future
        await until(lambda: any(c["done"] for c in s.chunks), "the last chunk")

        async def stopped() -> dict[str, Any]:
            for _ in range(200):
                last = await s.last_chat()
                if last and last["command"] == "cancelled":
                    return last
                await asyncio.sleep(0.05)
            raise AssertionError("the generation never reported that it stopped")

        last = await stopped()
        assert last["generatedTokens"] < 400, last  # it stopped long before its limit
        assert (await s.chat("/clear"))["command"] == "clear"  # ... and the server still serves


async def test_bad_arguments_are_an_invalid_params_error_and_the_server_keeps_serving(tmp_path):
    async with session(tmp_path) as s:
        for arguments in ([{"uri": "file:///x.py"}], [{"question": "?", "range": "1:2"}], [42]):
            with pytest.raises(JsonRpcException) as raised:
                await s.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command=CHAT, arguments=arguments)
                )
            assert raised.value.code == -32602, raised.value
        with pytest.raises(JsonRpcException, match="unknown document"):
            await s.chat("Why?", (tmp_path / "missing.py").as_uri())
        result = await s.chat("/clear")
        assert result["answer"]
