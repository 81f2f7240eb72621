"""Settings: one typed, fully defaulted tree, camelCase on the wire.

The editor sends settings as `initializationOptions` and through
`workspace/didChangeConfiguration`. `parse_settings` never raises: every key it cannot use
(unknown, or of the wrong type) becomes one human-readable problem and that key keeps its
default, so a typo in one setting never costs the user the others.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin


@dataclass(frozen=True)
class ModelSettings:
    """Which GGUF model runs, and how llama.cpp runs it."""

    path: str | None = None
    """GGUF file to load; empty means the embedded default (SmolLM2-135M-Instruct)."""
    n_ctx: int = 4096
    """Context window in tokens (prompt plus generated text)."""
    n_threads: int | None = None
    """CPU threads for llama.cpp; empty means all cores."""
    n_gpu_layers: int = 0
    """Layers offloaded to a GPU when llama.cpp was built with one; -1 means all."""
    n_batch: int = 512
    """Largest batch of prompt tokens evaluated at once."""
    draft_path: str = ""
    """GGUF file of a small model sharing the main model's vocabulary that drafts tokens for
    speculative decoding (e.g. a 0.5B model for a 7B one of the same family); empty means none."""
    state_cache_mib: int = 256
    """Memory (MiB) for the evaluated state of recent prompts of other files, so switching
    back to a file does not evaluate its whole prompt again; 0 turns it off."""


@dataclass(frozen=True)
class CompletionSettings:
    """How inline completions are built and cut."""

    enable: bool = True
    """Serve completions at all."""
    max_prompt_tokens: int = 1024
    """Token budget of the same-file window around the cursor (prefix plus suffix)."""
    context_tokens: int = 256
    """Tokens of the prompt given to code beyond the cursor window: definitions of the names
    used near the cursor, similar code from related files, recent edits; 0 turns it off."""
    suffix_ratio: float = 0.2
    """Share of that budget given to the text after the cursor (FIM models only)."""
    max_tokens: int = 64
    """Most tokens generated for a multi-line completion."""
    max_tokens_single_line: int = 32
    """Most tokens generated when the completion ends at the end of the line."""
    multiline: Literal["auto", "always", "never"] = "auto"
    """`auto`: one line when text follows the cursor, a block at an empty line end."""
    temperature: float = 0.0
    """0 is greedy: the same context gives the same completion, which caches well."""
    token_healing: bool = True
    """Back the prompt off to a token boundary and make the model re-type what was cut."""
    fim: Literal["auto", "off"] = "auto"
    """`auto`: use fill-in-the-middle when the model's vocabulary has FIM tokens."""
    speculative: Literal["auto", "lookup", "draft", "off"] = "auto"
    """Speculative decoding (the same text as plain decoding, up to rare near-ties that batched
    evaluation rounds differently): `auto` drafts from earlier text of the prompt and, when
    `model.draftPath` is set, from the draft model; `lookup` and `draft` use only one of them;
    `off` decodes one token at a time. Re-typing or moving code it makes 1.5x faster on a laptop
    CPU, new code about 1.1x (BENCHMARKS.md)."""
    cache: bool = True
    """Keep recent completions (128) keyed on the text around the cursor: the same context, or
    typing characters a suggestion predicted, is answered at once without the model."""
    prefetch: bool = True
    """After a multi-line suggestion is shown, compute in the background the next one as if it
    were accepted, so accepting it answers at once. Runs at the lowest completion priority, is
    stopped by the next request that needs the model, and is skipped when accepting would move
    the prompt's start (it would cost a whole prompt)."""


@dataclass(frozen=True)
class IndexSettings:
    """How the workspace index is kept."""

    watch: bool = True
    """Watch the workspace folders for changes made outside the editor and update the index;
    read when the workspace is first indexed."""


@dataclass(frozen=True)
class ActionSettings:
    """Code actions (refactors, tests, explanations) run by the model on request."""

    enable: bool = True
    """Offer the code actions at all."""
    max_tokens: int = 320
    """Most tokens the model writes for one code action."""
    max_code_tokens: int = 1536
    """Longest code, in tokens, an action sends to the model; select less for longer code."""


@dataclass(frozen=True)
class ChatSettings:
    """The `copilot-ls.chat` command: questions about the code, answered by the model."""

    enable: bool = True
    """Answer chat questions at all."""
    max_tokens: int = 384
    """Most tokens the model writes for one answer."""
    history_turns: int = 6
    """Earlier questions and answers of the workspace's conversation sent with a new one;
    older turns are dropped first, and also when the prompt would not fit `model.nCtx`."""
    context_tokens: int = 512
    """Tokens of the prompt given to the code: the selection, the definition around it and
    the workspace definitions of the names it uses."""


@dataclass(frozen=True)
class Settings:
    """The whole settings tree; every key has a default."""

    model: ModelSettings = field(default_factory=ModelSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    actions: ActionSettings = field(default_factory=ActionSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)


def camel(name: str) -> str:
    """`max_prompt_tokens` -> `maxPromptTokens`, the spelling used on the wire."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _matches(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's type hint (bool is never taken for int)."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arm) for arm in get_args(hint))
    if origin is Literal:
        return value in get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return False


def _describe(hint: Any) -> str:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arm) for arm in get_args(hint))
    if origin is Literal:
        return " | ".join(repr(v) for v in get_args(hint))
    return "null" if hint is type(None) else getattr(hint, "__name__", str(hint))


def _structure(cls: type, raw: Any, where: str, problems: list[str]) -> Any:
    if not isinstance(raw, dict):
        problems.append(f"{where or 'settings'}: expected an object, got {type(raw).__name__}")
        return cls()
    hints = typing.get_type_hints(cls)
    known = {camel(f.name): f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        f = known.get(key) or known.get(camel(key))  # snake_case is accepted too
        path = f"{where}.{key}" if where else key
        if f is None:
            problems.append(f"unknown setting {path!r}")
            continue
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            values[f.name] = _structure(hint, value, path, problems)  # type: ignore[arg-type]
        elif _matches(value, hint):
            values[f.name] = float(value) if hint is float else value
        else:
            problems.append(f"{path}: expected {_describe(hint)}, got {value!r}")
    return cls(**values)


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Settings from the editor's JSON, plus the problems found (empty when all is well).

    Accepts the tree itself or wrapped in a `copilotLs` key, as editors that namespace their
    configuration send it. `None` gives the defaults.
    """
    if raw is None:
        return Settings(), []
    if isinstance(raw, dict) and "copilotLs" in raw:
        raw = raw["copilotLs"]
        if raw is None:
            return Settings(), []
    problems: list[str] = []
    settings = _structure(Settings, raw, "", problems)
    return settings, problems


def settings_schema() -> dict[str, Any]:
    """A JSON schema of the settings tree, generated from the dataclasses above."""
    return _schema_of(Settings)


def _schema_of(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            props[camel(f.name)] = _schema_of(hint)  # type: ignore[arg-type]
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        props[camel(f.name)] = {
            **_type_schema(hint),
            "default": default,
            "description": _field_docs(cls).get(f.name, ""),
        }
    doc = (cls.__doc__ or "").strip()
    return {
        "type": "object",
        "description": doc,
        "properties": props,
        "additionalProperties": False,
    }


def _type_schema(hint: Any) -> dict[str, Any]:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_type_schema(arm) for arm in get_args(hint)]}
    if origin is Literal:
        return {"enum": list(get_args(hint))}
    names = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
    return {"type": names.get(hint, "string")}


def _field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field in the class body, read from the source."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs
