"""Features stage: `textDocument/inlineCompletion` (LSP 3.18) and the `textDocument/completion`
fallback for clients without inline completion (Neovim 0.11, Emacs eglot).

Handlers read the document and position, call the pipeline, and convert its text to LSP items.
"""

from __future__ import annotations

import logging
import re

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.workspace import TextDocument

from copilot_ls.backends.base import Cancelled
from copilot_ls.backends.model_files import ModelFileError
from copilot_ls.results import CompletionRequest, CompletionResult
from copilot_ls.server import CopilotServer

log = logging.getLogger(__name__)

WORD_BEFORE = re.compile(r"[\w$]*$")
LABEL_LIMIT = 80
TRIGGER_CHARACTERS = [".", "(", "[", "{", ",", "=", ":", " "]


class RequestFailed(JsonRpcException):
    """LSP `RequestFailed`: the request was valid but the server could not serve it."""

    code = -32803


def _document(ls: CopilotServer, uri: str, position: types.Position) -> tuple[TextDocument, int]:
    """The open document and the cursor offset, or an InvalidParams error that says why."""
    document = ls.workspace.text_documents.get(uri)
    if document is None:
        raise JsonRpcInvalidParams(f"unknown document {uri}: send textDocument/didOpen first")
    lines = document.lines
    if position.line < 0 or position.line > len(lines) or position.character < 0:
        raise JsonRpcInvalidParams(
            f"position {position.line}:{position.character} is outside {uri} ({len(lines)} lines)"
        )
    line = lines[position.line] if position.line < len(lines) else ""
    width = len(line.rstrip("\r\n").encode("utf-16-le")) // 2
    if position.character > width:
        raise JsonRpcInvalidParams(
            f"position {position.line}:{position.character} is past the end of the line "
            f"({width} UTF-16 units)"
        )
    return document, document.offset_at_position(position)


async def _complete(
    ls: CopilotServer, uri: str, position: types.Position
) -> CompletionResult | None:
    if not ls.settings.completion.enable:
        return None
    document, offset = _document(ls, uri, position)
    try:
        return await ls.pipeline.complete(CompletionRequest(uri, document.source, offset))
    except Cancelled:
        return None  # superseded by a newer request for the same document
    except ModelFileError as exc:
        ls.show_once(f"copilot-ls: {exc}")
        raise RequestFailed(str(exc)) from exc
    except ValueError as exc:
        raise RequestFailed(str(exc)) from exc


def _snippet_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def fallback_item(
    line_prefix: str, position: types.Position, text: str, *, snippets: bool = False
) -> types.CompletionItem:
    """A completion item that survives client-side filtering and inserts all of its text.

    Clients filter items against the text between the edit's start and the cursor, so that
    text starts the filterText. Plain items replace the word being typed. Clients with snippet
    support get a snippet replacing the whole line up to the cursor: Neovim 0.11 inserts only
    the first word of a plain item, and expands a snippet fully, indenting its later lines by
    the indentation left before the edit (none, when the edit starts at column 0).
    """
    word = WORD_BEFORE.search(line_prefix)
    typed = word.group(0) if word else ""
    replaced = line_prefix if snippets else typed
    start = types.Position(
        line=position.line,
        character=position.character - len(replaced.encode("utf-16-le")) // 2,
    )
    first_line = text.split("\n", 1)[0]
    label = (typed + first_line).rstrip() if typed else first_line.strip()
    if len(label) > LABEL_LIMIT:
        label = label[: LABEL_LIMIT - 1] + "…"
    new_text = replaced + text
    return types.CompletionItem(
        label=label or (typed + text).strip()[:LABEL_LIMIT],
        kind=types.CompletionItemKind.Text,
        detail="copilot-ls",
        documentation=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=f"```\n{typed + text}\n```"
        ),
        filter_text=replaced + first_line,
        sort_text="0",
        preselect=True,
        insert_text_format=types.InsertTextFormat.Snippet
        if snippets
        else types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(
            range=types.Range(start=start, end=position),
            new_text=_snippet_escape(new_text) if snippets else new_text,
        ),
    )


def _client_has_snippets(ls: CopilotServer) -> bool:
    completion = ls.client_capabilities.text_document and (
        ls.client_capabilities.text_document.completion
    )
    item = completion.completion_item if completion else None
    return bool(item and item.snippet_support)


def register(server: CopilotServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: CopilotServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        result = await _complete(ls, params.text_document.uri, params.position)
        if result is None or result.text is None:
            return types.InlineCompletionList(items=[])
        item = types.InlineCompletionItem(
            insert_text=result.text,
            range=types.Range(start=params.position, end=params.position),
        )
        return types.InlineCompletionList(items=[item])

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS),
    )
    async def completion(ls: CopilotServer, params: types.CompletionParams) -> types.CompletionList:
        result = await _complete(ls, params.text_document.uri, params.position)
        if result is None or result.text is None:
            return types.CompletionList(is_incomplete=True, items=[])
        document, offset = _document(ls, params.text_document.uri, params.position)
        line_prefix = document.source[document.source.rfind("\n", 0, offset) + 1 : offset]
        snippets = _client_has_snippets(ls)
        item = fallback_item(line_prefix, params.position, result.text, snippets=snippets)
        return types.CompletionList(is_incomplete=True, items=[item])
