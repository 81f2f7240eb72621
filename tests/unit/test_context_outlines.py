"""Outlines of the modules and classes that the code at the cursor draws on."""

from copilot_ls.context.outlines import (
    MAX_ENTRIES,
    base_names,
    class_snippets,
    enclosing_bases,
    imports_name,
    module_snippets,
    named_classes,
    resolve_module,
)
from copilot_ls.index.extract import extract_text
from copilot_ls.index.store import SymbolIndex

CONSTANTS = "__all__ = ('TIMEOUT',)\nTIMEOUT = 30\nRETRIES = 3\n\n\ndef backoff(n):\n    return n\n"
EVENTS = """class AbstractEventLoop:
    def run_forever(self):
        pass

    def get_debug(self):
        pass

    def __repr__(self):
        pass


class _RunningLoop:
    pass
"""
BASE = """class BaseTransport:
    def close(self):
        pass

    def get_extra_info(self, name):
        pass
"""
WORKER = """from . import constants
from .base import BaseTransport


class Worker(BaseTransport):
    def run(self):
        delay = constants.RETRIES
        self._loop.stop()
        """
FILES = {
    "/w/pkg/constants.py": CONSTANTS,
    "/w/pkg/events.py": EVENTS,
    "/w/pkg/base.py": BASE,
    "/w/pkg/random.py": "def shuffle():\n    pass\n",
    "/w/pkg/worker.py": WORKER,
}
INDEX = SymbolIndex(extract_text(path, text) for path, text in FILES.items())
LINES = {path: text.split("\n") for path, text in FILES.items()}
WORKER_SYMBOLS = INDEX.get("/w/pkg/worker.py")
ABOVE = WORKER.split("\n")[:-1]


def load(path: str):
    return LINES.get(path)


def shown(snippet) -> list[str]:
    return [LINES[snippet.path][n].strip() for n in snippet.lines]


def resolve(name: str, text: str = WORKER):
    return resolve_module(name, WORKER_SYMBOLS, "/w/pkg/worker.py", "/w", INDEX, text)


def test_a_module_imported_from_its_package_resolves_to_its_file():
    assert resolve("constants") == "/w/pkg/constants.py"
    assert resolve("constants", "from . import (\n    events,\n    constants,\n)\n") == (
        "/w/pkg/constants.py"
    )


def test_a_name_the_file_does_not_import_is_never_taken_for_a_module():
    assert resolve("random") is None  # a sibling file, but not imported
    text = "from . import events\n"  # the index records `.` and `.events`
    symbols = extract_text("/w/pkg/worker.py", text)
    assert resolve_module("constants", symbols, "/w/pkg/worker.py", "/w", INDEX, text) is None
    assert resolve_module("events", symbols, "/w/pkg/worker.py", "/w", INDEX, "") == (
        "/w/pkg/events.py"  # from the index's imports alone
    )
    assert imports_name("from os import path", "path")
    assert not imports_name("from os import path_x", "path")


def test_a_module_used_above_the_cursor_is_outlined_by_its_top_level_names():
    [snippet] = module_snippets(INDEX, WORKER_SYMBOLS, ABOVE, ABOVE, frozenset(), load, "/w")
    assert snippet.path == "/w/pkg/constants.py" and snippet.kind == "outline"
    assert shown(snippet) == ["TIMEOUT = 30", "RETRIES = 3", "def backoff(n):"]  # no __all__


def test_a_long_module_outline_keeps_the_names_the_file_uses_first():
    many = "\n".join(f"NAME_{n} = {n}" for n in range(30)) + "\n"
    files = {"/w/pkg/constants.py": many, "/w/pkg/worker.py": WORKER}
    index = SymbolIndex(extract_text(path, text) for path, text in files.items())
    lines = {path: text.split("\n") for path, text in files.items()}
    above = ["x = constants.NAME_29", "constants.NAME_0"]
    document = [*ABOVE[:2], *above]  # the imports are above the cursor too
    symbols = index.get("/w/pkg/worker.py")
    [snippet] = module_snippets(index, symbols, above, document, frozenset(), lines.get, "/w")
    assert len(snippet.lines) == MAX_ENTRIES
    assert 29 in snippet.lines


def test_base_classes_are_read_from_the_signature():
    assert base_names("class A(mod.B, C, metaclass=M):") == ["B", "C"]
    assert base_names("class A:") == []
    assert base_names("class A(Generic[T], Base[T]):") == ["Base"]
    assert base_names("public class A extends B implements C, D {") == ["B", "C", "D"]


def test_the_base_class_of_the_enclosing_class_is_found_in_an_imported_file():
    [base] = enclosing_bases(INDEX, WORKER_SYMBOLS, 8, ["/w/pkg/base.py"])
    assert (base.path, base.definition.name) == ("/w/pkg/base.py", "BaseTransport")


def test_outside_a_class_there_are_no_bases():
    assert enclosing_bases(INDEX, WORKER_SYMBOLS, 1, ["/w/pkg/base.py"]) == []


def test_an_object_named_like_a_class_points_to_the_public_class():
    [hit] = named_classes(INDEX, ["        self._loop.stop()"], "/w/pkg/worker.py", list(FILES))
    assert hit.definition.name == "AbstractEventLoop"


def test_a_class_outline_is_its_header_and_members_without_dunders():
    [hit] = named_classes(INDEX, ["loop.stop()"], "/w/pkg/worker.py", list(FILES))
    [snippet] = class_snippets(INDEX, [hit], frozenset({"debug"}), load)
    assert shown(snippet) == [
        "class AbstractEventLoop:",
        "def run_forever(self):",
        "def get_debug(self):",
    ]
