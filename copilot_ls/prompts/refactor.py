"""Prompts stage: one short instruction per code action, rendered with the model's chat template.

Text in, text out. Each prompt ends with the start of the answer already written for the model
(an opened code fence, a function header and an opened docstring...): a small model then
continues in the expected shape instead of chatting, and generation stops at `stops`.
The chat template is the model's own (GGUF `tokenizer.chat_template`, Jinja); the messages'
text never becomes special tokens, only the template's own markup does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from copilot_ls.backends.base import PromptPart, Special

log = logging.getLogger(__name__)

CODE_SYSTEM = (
    "You are a precise coding assistant. Answer with code only, in one fenced code block, "
    "keeping everything the request does not ask to change."
)
EXPLAIN_SYSTEM = "You are a helpful coding assistant. Answer in a few clear sentences."
LANGUAGE_NAMES = {
    "python": "Python",
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "tsx": "TypeScript (TSX)",
    "go": "Go",
    "rust": "Rust",
    "java": "Java",
    "c": "C",
    "cpp": "C++",
    "c_sharp": "C#",
    "ruby": "Ruby",
}
FENCE_TAGS = {"c_sharp": "csharp", "tsx": "tsx"}
DOC_COMMENTS = {
    "rust": "///",
    "go": "//",
    "ruby": "#",
    "c_sharp": "///",
}
"""Doc-comment style per language; others use `/** ... */` (Python: a docstring)."""
TEST_FRAMEWORKS = {"python": "pytest", "javascript": "Jest", "typescript": "Jest", "go": "Go"}
_SPECIAL = re.compile(r"<\|[^|<>\s]{1,40}\|>|<[A-Za-z_/][^<>\s]{0,30}>|\[/?[A-Z_]{2,20}\]")
_SENTINEL = "\x00copilot-ls-message-{}\x00"


@dataclass(frozen=True)
class RefactorPrompt:
    """What to ask, and how the answer starts."""

    system: str
    user: str
    answer_prefix: str
    """The beginning of the answer, written for the model; the model continues it."""
    stops: tuple[str, ...] = ()
    """Generation ends as soon as the generated text contains one of these."""
    examples: tuple[tuple[str, str], ...] = ()
    """Earlier (user, assistant) turns that show the expected answer."""


@dataclass(frozen=True)
class CodeFacts:
    """The target as the prompts need it: code dedented to column 0, and what surrounds it."""

    language: str
    code: str
    name: str = ""
    kind: str = ""
    """function, method, class... or `selection`."""
    header: str = ""
    """Python: the definition's lines before its body (decorators and signature)."""
    body_indent: str = "    "
    selection: str = ""
    """Extract function: the selected lines inside `code`."""
    diagnostic: str = ""
    """Fix: the diagnostic's message with its line."""
    test_imports: str = ""
    """Generate tests: import lines the test file needs."""


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language or "the")


def fence(language: str) -> str:
    return "```" + FENCE_TAGS.get(language, language)


def _code_answer(
    facts: CodeFacts, user: str, examples: tuple[tuple[str, str], ...] = ()
) -> RefactorPrompt:
    """A prompt whose answer is one code block: the answer starts inside an opened fence and
    ends at the closing one."""
    return RefactorPrompt(CODE_SYSTEM, user, fence(facts.language) + "\n", ("```",), examples)


def _block(facts: CodeFacts, code: str | None = None) -> str:
    return f"{fence(facts.language)}\n{(code if code is not None else facts.code).rstrip()}\n```"


def doc_comment_style(language: str) -> str:
    """Triple quotes for Python, else a line marker (`///`, `//`, `#`) or `/**` (block)."""
    return '"""' if language == "python" else DOC_COMMENTS.get(language, "/**")


def docstring_prompt(facts: CodeFacts) -> RefactorPrompt:
    lang = language_name(facts.language)
    user = f"Write a short docstring for this {lang} {facts.kind or 'code'}.\n\n{_block(facts)}"
    style = doc_comment_style(facts.language)
    if style == '"""':
        prefix = f'{fence(facts.language)}\n{facts.header.rstrip()}\n{facts.body_indent}"""'
        return RefactorPrompt(CODE_SYSTEM, user, prefix, ('"""', "```"))
    opener = "/**\n * " if style == "/**" else style + " "
    closers = ("*/", "```") if style == "/**" else ("\n", "```")
    return RefactorPrompt(CODE_SYSTEM, user, f"{fence(facts.language)}\n{opener}", closers)


def annotations_prompt(facts: CodeFacts) -> RefactorPrompt:
    lang = language_name(facts.language)
    user = (
        f"Add type annotations to the parameters and return values of this {lang} code. "
        f"Change nothing else.\n\n{_block(facts)}"
    )
    examples: tuple[tuple[str, str], ...] = ()
    if facts.language == "python":
        examples = (
            (
                "Add type annotations to the parameters and return values of this Python code. "
                "Change nothing else.\n\n```python\ndef greet(name, times):\n"
                "    return ('Hello ' + name) * times\n```",
                "```python\ndef greet(name: str, times: int) -> str:\n"
                "    return ('Hello ' + name) * times\n```",
            ),
        )
    return _code_answer(facts, user, examples)


def simplify_prompt(facts: CodeFacts) -> RefactorPrompt:
    lang = language_name(facts.language)
    user = (
        f"Rewrite this {lang} code to be simpler and easier to read, with the same behaviour."
        f"\n\n{_block(facts)}"
    )
    return _code_answer(facts, user)


def extract_prompt(facts: CodeFacts) -> RefactorPrompt:
    lang = language_name(facts.language)
    user = (
        f"Extract these lines of the {lang} code below into a new function, and call the new "
        f"function where they were. Answer with the new function and the changed code.\n\n"
        f"Lines to extract:\n{_block(facts, facts.selection)}\n\nCode:\n{_block(facts)}"
    )
    return _code_answer(facts, user)


def fix_prompt(facts: CodeFacts) -> RefactorPrompt:
    lang = language_name(facts.language)
    user = (
        f"Fix this problem in the {lang} code below: {facts.diagnostic}\n"
        f"Answer with the corrected code.\n\n{_block(facts)}"
    )
    return _code_answer(facts, user)


def tests_prompt(facts: CodeFacts) -> RefactorPrompt:
    lang = language_name(facts.language)
    framework = TEST_FRAMEWORKS.get(facts.language, "")
    what = f"`{facts.name}`" if facts.name else "code"
    user = f"Write {framework + ' ' if framework else ''}unit tests for this {lang} {what}."
    user += f"\n\n{_block(facts)}"
    prefix = f"{fence(facts.language)}\n"
    if facts.language == "python":
        imports = facts.test_imports.strip("\n")
        prefix += (imports + "\n\n\n" if imports else "") + "def test_"
    return RefactorPrompt(CODE_SYSTEM, user, prefix, ("```",))


def explain_prompt(facts: CodeFacts) -> RefactorPrompt:
    lang = language_name(facts.language)
    user = f"Explain briefly what this {lang} code does.\n\n{_block(facts)}"
    return RefactorPrompt(EXPLAIN_SYSTEM, user, "")


PROMPTS: dict[str, Callable[[CodeFacts], RefactorPrompt]] = {
    "docstring": docstring_prompt,
    "annotations": annotations_prompt,
    "simplify": simplify_prompt,
    "extract": extract_prompt,
    "fix": fix_prompt,
    "tests": tests_prompt,
    "explain": explain_prompt,
}


def build_prompt(action: str, facts: CodeFacts) -> RefactorPrompt:
    """The prompt of one code action (`docstring`, `annotations`, `simplify`, `extract`,
    `fix`, `tests`, `explain`)."""
    return PROMPTS[action](facts)


# ---- chat templates -------------------------------------------------------------------------


def _messages(prompt: RefactorPrompt) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": prompt.system}]
    for user, assistant in prompt.examples:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    messages.append({"role": "user", "content": prompt.user})
    return messages


def _render_template(template: str, messages: list[dict[str, str]]) -> str:
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    # The backend adds BOS itself; an empty bos_token keeps it from appearing twice.
    return env.from_string(template).render(
        messages=messages,
        add_generation_prompt=True,
        bos_token="",
        eos_token="",
        raise_exception=raise_exception,
    )


def _plain(messages: list[dict[str, str]]) -> str:
    """For models without a chat template: an instruction format most models read well."""
    turns = []
    for message in messages:
        role = {"system": "", "user": "### Instruction:\n", "assistant": "### Response:\n"}
        turns.append(role[message["role"]] + message["content"])
    return "\n\n".join(turns) + "\n\n### Response:\n"


def render_chat(
    prompt: RefactorPrompt, template: str | None, is_special: Callable[[str], bool]
) -> tuple[PromptPart, ...]:
    """Prompt parts for the backend: the chat template's markup (its special tokens as
    `Special`), the messages as plain text, and the answer prefix at the end."""
    messages = _messages(prompt)
    sentinels = [_SENTINEL.format(i) for i in range(len(messages))]
    masked = [{**m, "content": s} for m, s in zip(messages, sentinels, strict=True)]
    rendered = None
    if template:
        try:
            rendered = _render_template(template, masked)
        except Exception as exc:  # a template we cannot run: fall back, never fail the action
            log.warning("the model's chat template failed (%s); using a plain prompt", exc)
    if rendered is None or not all(s in rendered for s in sentinels):
        rendered = _plain(masked)
    parts: list[PromptPart] = []
    for piece in re.split("(\x00copilot-ls-message-\\d+\x00)", rendered):
        if piece in sentinels:
            parts.append(messages[sentinels.index(piece)]["content"])
        elif piece:
            parts.extend(_markup_parts(piece, is_special))
    parts.append(prompt.answer_prefix)
    return tuple(_merge_text(parts))


def _markup_parts(markup: str, is_special: Callable[[str], bool]) -> list[PromptPart]:
    parts: list[PromptPart] = []
    at = 0
    for match in _SPECIAL.finditer(markup):
        if is_special(match.group(0)):
            parts += [markup[at : match.start()], Special(match.group(0))]
            at = match.end()
    parts.append(markup[at:])
    return parts


def _merge_text(parts: list[PromptPart]) -> list[PromptPart]:
    merged: list[PromptPart] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += part
                continue
        merged.append(part)
    return merged
