"""Postprocess stage: a model's answer -> the new text of a target -> minimal text edits.

Pure text, no parser and no LSP types: the code is extracted from the answer (code fences and
the prose around them removed), re-indented to the target's indentation, and compared line by
line with the target so that only the lines that really change are edited. `validate.py`
then checks the edits with the language's parser before anything is offered.
Offsets are indexes into the Python string (code points); `features/` converts them to LSP
positions (UTF-16) with the document's helpers.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*$", re.MULTILINE)
PROSE = re.compile(r"^[A-Z][a-z']*(?:[ \t]+[\w'`\"(),-]+){2,}")
"""A line starting like a sentence ("Here is the...", "This function returns...")."""
LANGUAGE_TAGS: dict[str, tuple[str, ...]] = {
    "python": ("python", "py", "python3"),
    "javascript": ("javascript", "js", "jsx", "node"),
    "typescript": ("typescript", "ts"),
    "tsx": ("tsx", "typescript", "ts"),
    "go": ("go", "golang"),
    "rust": ("rust", "rs"),
    "java": ("java",),
    "c": ("c", "h"),
    "cpp": ("cpp", "c++", "cc", "cxx", "hpp"),
    "c_sharp": ("csharp", "cs", "c#"),
    "ruby": ("ruby", "rb"),
}
EXPLANATION_CHARS = 1500
DOC_LINES = 12


@dataclass(frozen=True)
class Edit:
    """Replace `text[start:end]` with `new_text`."""

    start: int
    end: int
    new_text: str


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """`text` with non-overlapping `edits` applied (in any order)."""
    out, at = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < at or edit.end < edit.start:
            raise ValueError(f"overlapping or inverted edit at {edit.start}")
        out += [text[at : edit.start], edit.new_text]
        at = edit.end
    out.append(text[at:])
    return "".join(out)


def minimal_edits(old: str, new: str, offset: int = 0) -> list[Edit]:
    """Edits turning `old` into `new`, whole lines each, only where lines differ.

    `offset` is where `old` starts in the document, so the edits apply to the document.
    """
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = [offset]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    return [
        Edit(starts[i1], starts[i2], "".join(new_lines[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


# ---- extraction ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    tag: str
    code: str


def _fenced_blocks(answer: str) -> list[_Block]:
    blocks: list[_Block] = []
    opening: re.Match[str] | None = None
    for match in FENCE.finditer(answer):
        if opening is None:
            opening = match
        elif match.group(1)[0] == opening.group(1)[0] and not match.group(2):
            blocks.append(
                _Block(opening.group(2).lower(), answer[opening.end() + 1 : match.start()])
            )
            opening = None
    if opening is not None:  # cut off by the token limit: the rest is the code
        blocks.append(_Block(opening.group(2).lower(), answer[opening.end() + 1 :]))
    return blocks


def extract_code(answer: str, language: str = "") -> str:
    """The code in a model's answer: the first fenced block in `language` (or untagged, or
    else the first block), or the whole answer without the prose lines before and after it."""
    blocks = _fenced_blocks(answer)
    if blocks:
        tags = LANGUAGE_TAGS.get(language, (language,))
        chosen = next((b for b in blocks if b.tag in tags or not b.tag), blocks[0])
        return chosen.code.strip("\n").rstrip() + "\n" if chosen.code.strip() else ""
    return _strip_prose(answer)


def _strip_prose(answer: str) -> str:
    lines = answer.strip("\n").split("\n")
    while lines and (not lines[0].strip() or PROSE.match(lines[0])):
        lines.pop(0)
    for index in range(1, len(lines)):  # a prose paragraph after the code ends it
        if not lines[index - 1].strip() and PROSE.match(lines[index]):
            lines = lines[:index]
            break
    code = "\n".join(lines).strip("\n").rstrip()
    return code + "\n" if code else ""


# ---- indentation --------------------------------------------------------------------------


def indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_unit(code: str) -> int:
    """The smallest positive indentation step of `code` (4 when it has none)."""
    widths = sorted({len(indentation(line)) for line in code.split("\n") if line.strip()})
    steps = [b - a for a, b in itertools.pairwise(widths) if b > a]
    positive = [w for w in widths if w > 0]
    return min(steps + positive[:1]) if positive else 4


def dedent(code: str, unit: int = 4) -> str:
    """`code` moved left so that its least indented line starts at column 0.

    Models often strip the first line of an indented block and keep the others (a method's
    `def` at column 0, its body at 8): such a body is moved to one `unit` under the first line.
    """
    lines = code.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return ""
    first, rest = filled[0], filled[1:]
    margin = min(len(indentation(lines[i])) for i in filled)
    lines = [line[margin:] if line.strip() else "" for line in lines]
    if rest and not indentation(lines[first]):
        rest_margin = min(len(indentation(lines[i])) for i in rest)
        extra = rest_margin - unit
        if extra > 0 and lines[first].rstrip().endswith((":", "{", "(", "[")):
            lines = [
                line[extra:] if i > first and line.strip() else line for i, line in enumerate(lines)
            ]
    return "\n".join(lines)


def reindent(code: str, indent: str, unit: int = 4) -> str:
    """`code` dedented, then every non-blank line prefixed with `indent`."""
    return "\n".join(
        indent + line if line.strip() else "" for line in dedent(code, unit).split("\n")
    )


def replacement(target_text: str, code: str) -> str:
    """The new text for a target of whole lines: `code` at the target's indentation, ending
    with a newline exactly when the target did."""
    first = next((line for line in target_text.split("\n") if line.strip()), "")
    unit = indent_unit(dedent(target_text))
    new = reindent(code, indentation(first), unit).strip("\n")
    return new + "\n" if target_text.endswith("\n") else new


# ---- answers that are not code ------------------------------------------------------------


def doc_text(answer: str, closer: str) -> str:
    """The documentation text a model wrote after an opened docstring or comment, up to
    `closer`, without comment markers, on at most DOC_LINES lines; "" when there is none."""
    text = answer.split(closer, 1)[0]
    lines = [re.sub(r"^\s*(?:\*(?!/)|///?|#)\s?", "", line) for line in text.split("\n")]
    cleaned = inspect.cleandoc("\n".join(lines)).strip()
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    return "\n".join(line.rstrip() for line in cleaned.split("\n")[:DOC_LINES]).strip()


def python_docstring(text: str, indent: str) -> str:
    """A docstring statement of `text` (one line or several), each line starting with `indent`."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    lines = text.split("\n")
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""\n'
    body = "".join(f"{indent}{line}\n" if line else "\n" for line in lines[1:])
    return f'{indent}"""{lines[0]}\n{body}{indent}"""\n'


def comment_doc(text: str, style: str, indent: str) -> str:
    """`text` as a doc comment: `style` is `/**` (block) or a line marker (`///`, `//`, `#`)."""
    lines = text.replace("*/", "* /").split("\n")
    if style == "/**":
        if len(lines) == 1:
            return f"{indent}/** {lines[0]} */\n"
        body = "".join(f"{indent} * {line}".rstrip() + "\n" for line in lines)
        return f"{indent}/**\n{body}{indent} */\n"
    return "".join(f"{indent}{style} {line}".rstrip() + "\n" for line in lines)


def explanation(answer: str) -> str:
    """A model's prose answer, trimmed for a message: blank runs squeezed, at most
    EXPLANATION_CHARS characters, cut at a sentence end when it is long."""
    text = re.sub(r"\n{3,}", "\n\n", answer.strip())
    if len(text) <= EXPLANATION_CHARS:
        return text
    cut = text[:EXPLANATION_CHARS]
    end = max(cut.rfind(". "), cut.rfind(".\n"))
    return (cut[: end + 1] if end > EXPLANATION_CHARS // 2 else cut) + " …"


def append_code(existing: str, code: str, separator: str = "\n\n") -> str:
    """`existing` file text with `code` added at its end; import lines of `code` that the file
    already has are left out."""
    have = {line.strip() for line in existing.split("\n") if line.strip()}
    lines = code.strip("\n").split("\n")
    lines = [
        line
        for line in lines
        if not (line.startswith(("import ", "from ", "use ", "#include ")) and line.strip() in have)
    ]
    added = "\n".join(lines).strip("\n")
    if not existing.strip():
        return added + "\n"
    return existing.rstrip("\n") + "\n" + separator + added + "\n"
