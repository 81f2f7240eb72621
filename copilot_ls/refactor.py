"""The code-action data path in order: the only module that knows it.

target (tree-sitter: the selection, or the function/class around the cursor) -> prompts (one
short instruction per action, in the model's own chat template) -> backends (the model, on the
runner's thread) -> postprocess (code extracted from the answer, re-indented, minimal edits)
-> validate (the whole file re-parsed: an edit outside the target, or one adding syntax
errors, is refused). Listing the actions (`offers`) never touches the model.
No LSP types here: offsets index the document's Python string; `features/code_actions.py`
converts them to LSP positions.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from copilot_ls.backends.base import Backend, Cancelled, GenerationRequest
from copilot_ls.backends.runner import ModelRunner, Priority
from copilot_ls.postprocess import edits as shape
from copilot_ls.postprocess.edits import Edit
from copilot_ls.postprocess.validate import EditRefused, check_edits, keep_parsed
from copilot_ls.prompts.refactor import CodeFacts, build_prompt, doc_comment_style, render_chat
from copilot_ls.refactor_targets import (
    ACTIONS,
    Definition,
    Offer,
    Problem,
    Target,
    definitions,
    enclosing,
    inside_roots,
    language_of,
    offers,
    python_module,
    selection_point,
    where_tests_go,
    whole_lines,
)

__all__ = ["ActionRefused", "ActionRequest", "Offer", "Problem", "Refactorer", "offers"]
from copilot_ls.settings import Settings

log = logging.getLogger(__name__)

CONTEXT_MARGIN = 16
MIN_ANSWER_TOKENS = 16


class ActionRefused(Exception):
    """The action has nothing safe to offer; the message says why, in words for the user."""


@dataclass(frozen=True)
class ActionRequest:
    """Run `action` at a selection (or a cursor, start == end) of a document."""

    action: str
    path: str
    text: str
    start: int
    end: int
    roots: tuple[str, ...]
    """The workspace folders: no edit ever touches a file outside them."""
    problem: Problem | None = None


@dataclass(frozen=True)
class FileChange:
    """Edits to one file; `create` when it does not exist yet (its old text is then "")."""

    path: str
    old_text: str
    edits: tuple[Edit, ...]
    create: bool = False


@dataclass
class ActionResult:
    action: str
    changes: tuple[FileChange, ...] = ()
    message: str = ""
    """Explain: the explanation; otherwise what was done."""
    raw: str = ""
    """The answer as the model wrote it (with the answer prefix written for it)."""
    prompt: str = ""
    generated_tokens: int = 0
    timings: dict[str, float] = field(default_factory=dict)


Reader = Callable[[str], "str | None"]
"""Text of a file by path: the editor's buffer when open, else the disk; None when missing."""
Progress = Callable[[int, int], None]
"""Called on the model thread with (tokens generated so far, most tokens allowed)."""


# ---- running: target -> prompt -> model -> answer -> edits -> validation --------------------


@dataclass(frozen=True)
class _Plan:
    request: ActionRequest
    language: str
    target: Target
    definition: Definition | None
    facts: CodeFacts
    test_path: str | None = None
    test_text: str | None = None


@dataclass(frozen=True)
class _Answer:
    prefix: str
    generated: str
    """The model's text after the prefix, cut at the prompt's first stop marker."""
    cut_short: bool
    """Generation ended at the token limit, not at a stop marker or end of text."""


class Refactorer:
    """Runs code actions against the one model runner shared with completions."""

    def __init__(self, runner: ModelRunner, settings: Callable[[], Settings]) -> None:
        self._runner = runner
        self._settings = settings
        self._inflight: dict[str, threading.Event] = {}

    def supersede(self, path: str) -> threading.Event:
        """A new cancel flag for actions on `path`; the previous one is set, so it stops."""
        previous = self._inflight.get(path)
        if previous is not None:
            previous.set()
        flag = threading.Event()
        self._inflight[path] = flag
        return flag

    async def run(
        self, request: ActionRequest, reader: Reader, progress: Progress | None = None
    ) -> ActionResult:
        """Run the action; raises `ActionRefused` (nothing safe to offer) or `Cancelled`."""
        plan = _plan(request, reader)
        cancel = self.supersede(request.path)
        try:
            answer, result = await self._runner.call(
                lambda backend: self._generate(backend, plan, cancel, progress),
                cancel,
                priority=Priority.LONG,
            )
        finally:
            if self._inflight.get(request.path) is cancel:
                del self._inflight[request.path]
        try:
            return _finish(plan, answer, result)
        except EditRefused as exc:
            raise ActionRefused(str(exc)) from exc

    def _generate(
        self, backend: Backend, plan: _Plan, cancel: threading.Event, progress: Progress | None
    ) -> tuple[_Answer, ActionResult]:
        settings = self._settings().actions
        if backend.count_tokens(plan.facts.code) > settings.max_code_tokens:
            raise ActionRefused(
                f"the code is longer than `actions.maxCodeTokens` ({settings.max_code_tokens} "
                "tokens): select a smaller part, or raise the setting"
            )
        prompt = build_prompt(plan.request.action, plan.facts)
        parts = render_chat(prompt, backend.chat_template(), backend.has_special)
        rendered = "".join(p if isinstance(p, str) else p.text for p in parts)
        n_ctx = int(getattr(backend, "n_ctx", self._settings().model.n_ctx))
        budget = min(settings.max_tokens, n_ctx - backend.count_tokens(rendered) - CONTEXT_MARGIN)
        if budget < MIN_ANSWER_TOKENS:
            raise ActionRefused("the prompt does not fit the model's context: raise `model.nCtx`")
        steps = [0]

        def stop(text: str) -> bool:
            steps[0] += 1
            if progress is not None:
                progress(steps[0], budget)
            return any(marker in text for marker in prompt.stops)

        generation = backend.generate(
            GenerationRequest(parts=parts, max_tokens=budget, token_healing=False, stop=stop),
            cancel,
        )
        if generation.stop_reason == "cancelled" or cancel.is_set():
            raise Cancelled("superseded or cancelled during generation")
        generated = _cut(generation.text, prompt.stops)
        answer = _Answer(prompt.answer_prefix, generated, generation.stop_reason == "length")
        result = ActionResult(
            plan.request.action,
            raw=prompt.answer_prefix + generation.text,
            prompt=rendered,
            generated_tokens=generation.generated_tokens,
            timings={"prefill_s": generation.prefill_s, "decode_s": generation.decode_s},
        )
        return answer, result


def _cut(text: str, stops: Sequence[str]) -> str:
    """`text` up to the first stop marker it contains."""
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    return text[: min(found)] if found else text


def _plan(request: ActionRequest, reader: Reader) -> _Plan:
    """Where the action applies and what the model is shown; refuses early when it cannot."""
    if request.action not in ACTIONS:
        raise ActionRefused(f"unknown code action {request.action!r}")
    language = language_of(request.path)
    if language is None:
        raise ActionRefused(f"{os.path.basename(request.path)}: no parser for this kind of file")
    if request.action != "explain" and not inside_roots(request.path, request.roots):
        raise ActionRefused(f"{request.path} is outside the workspace folders: nothing is edited")
    text = request.text
    found = definitions(language, text)
    selected, point = selection_point(text, request.start, request.end)
    definition = enclosing(found, request.start, point)
    if request.action == "fix" and request.problem is not None:
        problem_end = max(request.problem.start, request.problem.end - 1)
        definition = enclosing(found, request.problem.start, problem_end)
        target = (
            definition.target
            if definition
            else whole_lines(text, request.problem.start, request.problem.end)
        )
    elif request.action == "extract":
        if not selected:
            raise ActionRefused("select the lines to extract first")
        outer = enclosing(found, request.start, point, outermost=True)
        target = outer.target if outer else whole_lines(text, request.start, request.end)
        target = replace(target, selection=(request.start, request.end))
    elif selected and request.action in ("simplify", "explain"):
        target = whole_lines(text, request.start, request.end)
    elif definition is not None:
        target = definition.target
    else:
        raise ActionRefused("put the cursor in a function or class, or select some code")
    plan = _Plan(request, language, target, definition, _facts(request, language, target, found))
    return _plan_tests(plan, reader) if request.action == "tests" else plan


def _facts(
    request: ActionRequest, language: str, target: Target, found: list[Definition]
) -> CodeFacts:
    text = request.text
    code = text[target.start : target.end]
    unit = shape.indent_unit(shape.dedent(code))
    facts = CodeFacts(language=language, code=shape.dedent(code, unit))
    definition = next((d for d in found if d.target == target), None)
    if definition is not None:
        facts = replace(facts, name=definition.name, kind=definition.kind)
        if definition.body is not None and definition.body > target.start:
            lines = code[: definition.body - target.start].count("\n")
            dedented = facts.code.split("\n")
            facts = replace(
                facts,
                header="\n".join(dedented[:lines]),
                body_indent=shape.indentation(dedented[lines]) or " " * unit,
            )
    if target.selection is not None:
        start, end = target.selection
        facts = replace(facts, selection=shape.dedent(text[start:end], unit), kind="selection")
    if request.problem is not None:
        line = text.count("\n", 0, request.problem.start) + 1
        facts = replace(facts, diagnostic=f"{request.problem.message.strip()} (line {line})")
    return facts


def _plan_tests(plan: _Plan, reader: Reader) -> _Plan:
    request = plan.request
    test_path = where_tests_go(request.path, plan.language, request.roots)
    if test_path is None or not inside_roots(test_path, request.roots):
        raise ActionRefused("no place inside the workspace is known for this file's tests")
    test_text = reader(test_path)
    imports = ""
    if plan.language == "python" and plan.definition is not None:
        module = python_module(request.path, request.roots)
        imports = f"from {module} import {plan.definition.top_name}"
    facts = replace(plan.facts, test_imports=imports)
    return replace(plan, facts=facts, test_path=test_path, test_text=test_text)


def _finish(plan: _Plan, answer: _Answer, result: ActionResult) -> ActionResult:
    action = plan.request.action
    what = f"`{plan.facts.name}`" if plan.facts.name else "the selection"
    if action == "explain":
        result.message = shape.explanation(answer.generated)
        if not result.message:
            raise ActionRefused("the model gave no explanation")
        return result
    if action == "tests":
        result.changes = (_test_change(plan, answer),)
    else:
        new_target = _new_target_text(plan, answer)
        text, target = plan.request.text, plan.target
        edits = shape.minimal_edits(text[target.start : target.end], new_target, target.start)
        if not edits:
            raise ActionRefused("the model proposed no change")
        check_edits(plan.language, text, edits, (target.start, target.end))
        result.changes = (FileChange(plan.request.path, text, tuple(edits)),)
    result.message = f"copilot-ls {ACTIONS[action].done} {what}"
    return result


def _new_target_text(plan: _Plan, answer: _Answer) -> str:
    text, target = plan.request.text, plan.target
    old = text[target.start : target.end]
    if plan.request.action == "docstring":
        return _with_docstring(plan, answer)
    if answer.cut_short:
        raise ActionRefused(
            "the answer was cut at `actions.maxTokens`: raise it, or select less code"
        )
    code = shape.extract_code(answer.prefix + answer.generated, plan.language)
    if not code.strip():
        raise ActionRefused("the model's answer holds no code")
    return shape.replacement(old, code)


def _with_docstring(plan: _Plan, answer: _Answer) -> str:
    text, target, definition = plan.request.text, plan.target, plan.definition
    style = doc_comment_style(plan.language)
    closer = {'"""': '"""', "/**": "*/"}.get(style, "\n")
    doc = shape.doc_text(answer.generated, closer)
    if answer.cut_short and "\n" in doc:  # keep whole lines of a docstring cut at the limit
        doc = doc.rsplit("\n", 1)[0].strip()
    if not doc or definition is None or definition.body is None:
        raise ActionRefused("the model wrote no docstring")
    if style == '"""':
        at = definition.body
        body_line = text[at : text.find("\n", at) if "\n" in text[at:] else len(text)]
        inserted = shape.python_docstring(doc, shape.indentation(body_line))
    else:
        at = target.start
        inserted = shape.comment_doc(doc, style, shape.indentation(text[at : target.end]))
    return text[target.start : at] + inserted + text[at : target.end]


def _test_change(plan: _Plan, answer: _Answer) -> FileChange:
    assert plan.test_path is not None
    code = shape.extract_code(answer.prefix + answer.generated, plan.language)
    code = keep_parsed(plan.language, code)
    if not code.strip() or ("def test_" not in code and plan.language == "python"):
        raise ActionRefused("the model wrote no test that parses")
    existing = plan.test_text or ""
    new_text = shape.append_code(existing, code)
    kept = len(existing.rstrip("\n"))
    edits = (Edit(kept, len(existing), new_text[kept:]),)
    check_edits(plan.language, existing, edits, (kept, len(existing)))
    return FileChange(plan.test_path, existing, edits, create=plan.test_text is None)
