"""Native extraction (`copilot_ls.index._native`) indexes every file to the same symbols as the
py-tree-sitter path: the sample of every language, this repository, part of the standard
library, and the cases where the text rules differ most (non-ASCII, comments in heads, broken
syntax)."""

import os
import random
import sysconfig
from pathlib import Path

import pytest

from copilot_ls.index import native
from copilot_ls.index.extract import extract_file
from copilot_ls.index.languages import LANGUAGES, get_language, language_for_path
from copilot_ls.index.walker import Candidate, walk_workspace
from tests.unit.test_index_extract import SAMPLES

REPO = Path(__file__).resolve().parents[2]
STDLIB = Path(sysconfig.get_paths()["stdlib"])

if not native.available():
    message = (
        "copilot_ls.index._native is not built (scripts/install.sh builds it from the"
        " tree-sitter sdist) or COPILOT_LS_NATIVE_INDEX=0"
    )
    if os.environ.get("COPILOT_LS_REQUIRE_NATIVE") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)


def both(path: str, data: bytes):
    fast, slow = extract_file(path, data), extract_file(path, data, use_native=False)
    return fast, slow


def assert_same(path: str, data: bytes) -> None:
    fast, slow = both(path, data)
    assert fast.definitions == slow.definitions, path
    assert (fast.language, fast.imports, fast.chunks) == (slow.language, slow.imports, slow.chunks)
    assert fast.references == slow.references, path
    assert fast == slow, path


def test_every_language_with_a_grammar_is_read_natively():
    for spec in LANGUAGES:
        if spec.language() is not None:
            assert native.extractor(spec) is not None, spec.name


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_languages_sample_gives_the_same_symbols_both_ways(name: str):
    sample = SAMPLES[name]
    assert_same(sample.path, sample.source.encode())


@pytest.mark.parametrize(
    "root",
    [REPO / "copilot_ls", REPO / "tests", REPO / "editor-configs", STDLIB / "asyncio"]
    + [STDLIB / name for name in ("email", "json", "importlib", "logging", "unittest")],
    ids=lambda p: p.name,
)
def test_real_code_gives_the_same_symbols_both_ways(root: Path):
    paths = [c.path for c in walk_workspace([str(root)]) if isinstance(c, Candidate)]
    assert paths
    for path in paths:
        if language_for_path(path) is not None:
            assert_same(path, Path(path).read_bytes())


EDGE_CASES = {
    "non-ASCII text and Unicode whitespace in heads": (
        "/w/u.py",
        "def f(a,\u00a0b,\u3000c):\n    '''Ünïcode\u2003doc.\n\n\t  more\n    '''\n"
        "class Ça:\n    x\u00a0: int = 1\n\u00a0\u00a0\n  \u2028\nVALUE = 'é'\n",
    ),
    "a comment inside a head spanning lines": (
        "/w/c.ts",
        "export function f(\n  a: number, // first\n  /* second */ b: string,\n): void {}\n"
        "class K {\n  m(\n    x: number, // x\n  ) {}\n}\n",
    ),
    "signatures longer than the limit": (
        "/w/long.py",
        "def f(" + ", ".join(f"argument_{i}" for i in range(60)) + "):\n    pass\n",
    ),
    "CRLF line ends and a BOM": ("/w/crlf.py", "\ufeff# doc\r\ndef f():\r\n    pass\r\n"),
    "broken syntax": ("/w/broken.py", "def (:\n  class\nx = = 1\ndef g(a:\n"),
    "braces kept by variables": ("/w/v.js", "const MAX = {\n  a: 1,\n};\nlet x = {};\n"),
    "comments and attributes above": (
        "/w/r.rs",
        "#!/shebang\n/// Doc.\n#[derive(Debug)]\npub struct S {}\n// trailing\nimpl S {\n"
        "    /// Method.\n    fn m(&self) {}\n}\n",
    ),
    "predicates": (
        "/w/p.rb",
        "require 'set'\nrequire_relative 'x'\nload 'y.rb'\nother 'z'\nclass A; end\n",
    ),
    "an empty file": ("/w/empty.go", ""),
    "only blank lines": ("/w/blank.c", "\n \n\t\n\u00a0\n"),
    "tabs in a docstring": ("/w/t.py", 'def f():\n\t"""First.\n\n\tSecond\tpart.\n\t"""\n'),
    "a shebang alone above": ("/w/s.py", "#!/usr/bin/env python\ndef main():\n    pass\n"),
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_cases_give_the_same_symbols_both_ways(case: str):
    path, text = EDGE_CASES[case]
    assert_same(path, text.encode("utf-8"))


def test_a_signature_with_unicode_whitespace_follows_pythons_rules():
    symbols = extract_file("/w/u.py", "def f(a,\u00a0\u00a0b):\n    pass\n".encode())
    assert symbols.definitions[0].signature == "def f(a, b):"


def test_invalid_utf8_is_repaired_before_either_path_reads_it():
    assert_same("/w/bad.py", b"def f():\n    return '\xff\xfe'\n\nX\xc3 = 1\n")


def test_an_unsupported_predicate_leaves_the_language_to_py_tree_sitter():
    spec = get_language("python")
    assert spec is not None and native._native is not None
    with pytest.raises(ValueError, match="unsupported predicate"):
        native._native.Extractor(
            spec.language_pointer(),
            b"((identifier) @name (#is-not? local))",
            lambda ranges: (b"\x04", ("",)),
            b"",
            0,
            -1,
        )


def test_a_describe_answer_of_the_wrong_shape_is_refused():
    spec = get_language("python")
    assert spec is not None and native._native is not None
    for answer in (None, (b"", ()), (b"\x04\x04", ("", "")), ("x", ("",))):
        with pytest.raises(ValueError, match="describe must return"):
            native._native.Extractor(
                spec.language_pointer(), b"(identifier) @name", lambda r, a=answer: a, b"", 0, -1
            )


def test_a_wrong_language_object_is_refused():
    assert native._native is not None
    with pytest.raises(TypeError):
        native._native.Extractor(object(), b"(identifier) @name", lambda r: None, b"", 0, -1)


def test_the_switch_turns_native_extraction_off(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COPILOT_LS_NATIVE_INDEX", "0")
    spec = get_language("python")
    assert spec is not None
    assert not native.available() and native.extractor(spec) is None


def test_source_must_be_bytes():
    spec = get_language("python")
    assert spec is not None
    extractor = native.extractor(spec)
    with pytest.raises(TypeError):
        extractor.extract(memoryview(b"x = 1\n"))
    with pytest.raises(TypeError):
        extractor.parse("x = 1\n")
    assert extractor.extract(b"x = 1\n")[0]  # still usable


def test_spans_and_definitions_are_made_as_the_types_given_or_refused():
    spec = get_language("python")
    assert spec is not None and native._native is not None
    query = b"(function_definition name: (identifier) @name) @definition.function"
    args = (spec.language_pointer(), query, lambda r: (b"\x04", ("function",)), b"", 0, -1)

    class Loose(tuple):  # instances have a __dict__: not a plain tuple layout
        pass

    for wrong in (list, Loose, 3):
        with pytest.raises(TypeError):
            native._native.Extractor(*args, wrong)
        with pytest.raises(TypeError):
            native._native.Extractor(*args, None, wrong)
    name, kind, span, signature, container, doc = native._native.Extractor(*args).extract(
        b"def f():\n    pass\n"
    )[0][0]
    assert (name, kind, signature, container, doc) == ("f", "function", "def f():", "", None)
    assert span == (0, 0, 1, 8) and type(span) is tuple


def _mutations(text: bytes, rng: random.Random, count: int) -> list[bytes]:
    """`text` broken `count` ways: spans cut, repeated or swapped with random bytes (NULs,
    invalid UTF-8, brackets and quotes among them), so that the trees hold errors, missing
    nodes and odd text."""
    pool = [b"\0", b"\xff\xfe", b"(", b")", b"{", b"}", b'"""', b"'", b"/*", b"#", b"\n", b"\t"]
    pool += [b"\xc3\xa9", b"\xe2\x80\xa8", b"\xc2\xa0", b"def ", b"class ", b"fn ", b"::"]
    found = []
    for _ in range(count):
        data = bytearray(text)
        for _ in range(rng.randint(1, 6)):
            start = rng.randrange(len(data) + 1)
            end = min(len(data), start + rng.randint(0, 40))
            choice = rng.random()
            if choice < 0.3:
                del data[start:end]
            elif choice < 0.5:
                data[start:start] = data[start:end] * rng.randint(2, 4)
            else:
                data[start:end] = b"".join(rng.choice(pool) for _ in range(rng.randint(1, 5)))
        found.append(bytes(data))
    return found


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_broken_and_garbled_files_give_the_same_symbols_both_ways(name: str):
    """A fixed-seed fuzz: each language's sample mangled 40 ways; native extraction must
    neither crash nor differ from the py-tree-sitter path on any of them."""
    sample = SAMPLES[name]
    rng = random.Random(f"native-{name}")
    for data in _mutations(sample.source.encode(), rng, 40):
        assert_same(sample.path, data)


def test_deeply_nested_code_is_extracted_without_trouble():
    depth = 3000
    python = "".join(f"{'    ' * i}class C{i}:\n" for i in range(200)) + "    " * 200 + "pass\n"
    brackets = "x = " + "(" * depth + "1" + ")" * depth + "\n"
    javascript = "function f() {" * 500 + "}" * 500 + "\n"
    for path, text in (("/w/n.py", python), ("/w/b.py", brackets), ("/w/n.js", javascript)):
        assert_same(path, text.encode())
