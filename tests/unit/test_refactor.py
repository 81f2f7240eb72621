"""The code-action data path with a scripted model (copilot_ls/refactor.py): listing, targets,
docstrings, rewrites, tests files, and every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot_ls.backends.base import Backend, Cancelled
from copilot_ls.backends.runner import ModelRunner
from copilot_ls.postprocess.edits import apply_edits
from copilot_ls.refactor import ActionRefused, ActionRequest, Problem, Refactorer, offers
from copilot_ls.refactor_targets import definitions, python_module, where_tests_go
from copilot_ls.settings import Settings
from tests.fixtures.scripted_backend import ScriptedBackend

pytest.importorskip("tree_sitter_python")

SOURCE = '''import json


def fibonacci(n):
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)


class Store:
    """Items from a JSON file."""

    @staticmethod
    def load(path):
        with open(path) as f:
            return json.load(f)
'''


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "calc.py").write_text(SOURCE)
    return tmp_path


def _refactorer(backend: Backend) -> Refactorer:
    return Refactorer(ModelRunner(lambda: backend), Settings)


def _request(root: Path, action: str, at: str, *, select: str = "", text: str = SOURCE):
    start = text.index(at)
    end = start + len(select) if select else start
    return ActionRequest(action, str(root / "pkg" / "calc.py"), text, start, end, (str(root),))


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        return None


# ---- listing --------------------------------------------------------------------------------


def test_inside_a_function_the_actions_name_it_and_have_the_right_kinds(workspace):
    listed = offers(
        str(workspace / "pkg/calc.py"),
        SOURCE,
        SOURCE.index("if n"),
        SOURCE.index("if n"),
        [str(workspace)],
    )
    kinds = {o.action: o.kind for o in listed}
    assert kinds == {
        "docstring": "refactor.rewrite",
        "annotations": "refactor.rewrite",
        "simplify": "refactor.rewrite",
        "tests": "source",
        "explain": "source",
    }
    assert all("`fibonacci`" in o.title for o in listed)


def test_a_selection_adds_extract_function_and_diagnostics_add_quickfixes(workspace):
    start = SOURCE.index("    if n")
    end = SOURCE.index("    return fib")
    problem = Problem("undefined name 'x'", start, start + 2)
    listed = offers(str(workspace / "pkg/calc.py"), SOURCE, start, end, [str(workspace)], [problem])
    assert listed[0].kind == "quickfix" and listed[0].problem == problem
    assert "Fix: undefined name 'x'" == listed[0].title
    assert {"extract": "refactor.extract"}.items() <= {o.action: o.kind for o in listed}.items()


def test_a_documented_definition_is_not_offered_a_docstring(workspace):
    at = SOURCE.index("Items from")
    listed = offers(str(workspace / "pkg/calc.py"), SOURCE, at, at, [str(workspace)])
    assert "docstring" not in [o.action for o in listed]
    assert "`Store`" in listed[0].title


def test_outside_the_workspace_folders_only_explain_is_offered(workspace, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("other")
    at = SOURCE.index("if n")
    listed = offers(str(workspace / "pkg/calc.py"), SOURCE, at, at, [str(elsewhere)])
    assert [o.action for o in listed] == ["explain"]


def test_outside_any_definition_nothing_is_offered(workspace):
    assert offers(str(workspace / "pkg/calc.py"), SOURCE, 0, 0, [str(workspace)]) == []


def test_files_without_a_parser_get_no_actions(workspace):
    assert offers(str(workspace / "notes.txt"), "hello\n", 0, 5, [str(workspace)]) == []


def test_listing_never_calls_the_model(workspace):
    """`offers` takes no runner at all; the spy checks the Refactorer does not warm it either."""
    calls = []
    runner = ModelRunner(lambda: calls.append(1) or ScriptedBackend(""))  # type: ignore[func-returns-value]
    Refactorer(runner, Settings)
    offers(str(workspace / "pkg/calc.py"), SOURCE, 50, 50, [str(workspace)])
    assert calls == []


# ---- targets ----------------------------------------------------------------------------------


def test_definitions_cover_decorators_and_know_their_docstrings():
    found = {d.name: d for d in definitions("python", SOURCE)}
    load = found["load"]
    assert SOURCE[load.target.start :].startswith("    @staticmethod")
    assert load.kind == "method" or load.kind == "function"
    assert load.top_name == "Store" and load.depth == 1
    assert found["Store"].has_doc and not found["fibonacci"].has_doc


def test_tests_go_to_the_conventional_file_of_each_language(tmp_path):
    roots = (str(tmp_path),)
    assert where_tests_go(str(tmp_path / "pkg/calc.py"), "python", roots) == str(
        tmp_path / "tests/test_calc.py"
    )
    assert where_tests_go(str(tmp_path / "web/app.ts"), "typescript", roots) == str(
        tmp_path / "web/app.test.ts"
    )
    assert where_tests_go(str(tmp_path / "main.go"), "go", roots) == str(tmp_path / "main_test.go")
    assert where_tests_go(str(tmp_path / "tests/test_calc.py"), "python", roots) is None
    assert where_tests_go("/elsewhere/calc.py", "python", roots) is None


def test_python_module_names_leave_src_out(tmp_path):
    roots = (str(tmp_path),)
    assert python_module(str(tmp_path / "src/pkg/calc.py"), roots) == "pkg.calc"
    assert python_module(str(tmp_path / "pkg/__init__.py"), roots) == "pkg"


# ---- running ----------------------------------------------------------------------------------


async def test_add_docstring_inserts_the_models_text_under_the_header(workspace):
    backend = ScriptedBackend('Return the n-th Fibonacci number."""\n    if n < 2: junk')
    result = await _refactorer(backend).run(_request(workspace, "docstring", "if n"), _read)
    (change,) = result.changes
    new = apply_edits(change.old_text, change.edits)
    assert new == SOURCE.replace(
        "def fibonacci(n):\n", 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n'
    )
    assert len(change.edits) == 1
    assert backend.prompts[0].endswith('def fibonacci(n):\n    """')


async def test_a_fenced_rewrite_of_a_method_is_reindented_into_its_class(workspace):
    answer = "def load(path):\n    with open(path) as f:\n        return json.loads(f.read())\n"
    answer += "```\nDone."
    result = await _refactorer(ScriptedBackend(answer)).run(
        _request(workspace, "simplify", "with open"), _read
    )
    new = apply_edits(SOURCE, result.changes[0].edits)
    assert (
        "    def load(path):\n        with open(path) as f:\n            return json.loads(" in new
    )
    assert "@staticmethod" not in new  # the model's answer replaced the decorated definition


async def test_a_rewrite_that_breaks_the_syntax_is_refused(workspace):
    answer = "def fibonacci(n:\n    return n\n```"
    with pytest.raises(ActionRefused, match="syntax errors"):
        await _refactorer(ScriptedBackend(answer)).run(
            _request(workspace, "simplify", "if n"), _read
        )


async def test_an_answer_cut_at_the_token_limit_is_refused(workspace):
    answer = "def fibonacci(n):\n    return n\n"
    with pytest.raises(ActionRefused, match="maxTokens"):
        await _refactorer(ScriptedBackend(answer, stop_reason="length")).run(
            _request(workspace, "annotations", "if n"), _read
        )


async def test_an_unchanged_answer_is_refused(workspace):
    code = SOURCE[SOURCE.index("def fib") : SOURCE.index("\n\n\nclass")]
    with pytest.raises(ActionRefused, match="no change"):
        await _refactorer(ScriptedBackend(code + "\n```")).run(
            _request(workspace, "simplify", "if n"), _read
        )


async def test_generate_tests_creates_the_test_file_with_the_import(workspace):
    answer = "fibonacci():\n    assert fibonacci(10) == 55\n\n\ndef test_broken(:\n```"
    result = await _refactorer(ScriptedBackend(answer)).run(
        _request(workspace, "tests", "if n"), _read
    )
    (change,) = result.changes
    assert change.create and change.path == str(workspace / "tests" / "test_calc.py")
    assert apply_edits("", change.edits) == (
        "from pkg.calc import fibonacci\n\n\ndef test_fibonacci():\n"
        "    assert fibonacci(10) == 55\n"
    )


async def test_generate_tests_extends_an_existing_test_file(workspace):
    (workspace / "tests").mkdir()
    existing = (
        "from pkg.calc import fibonacci\n\n\ndef test_zero():\n    assert fibonacci(0) == 0\n"
    )
    (workspace / "tests" / "test_calc.py").write_text(existing)
    answer = "one():\n    assert fibonacci(1) == 1\n```"
    result = await _refactorer(ScriptedBackend(answer)).run(
        _request(workspace, "tests", "if n"), _read
    )
    (change,) = result.changes
    new = apply_edits(existing, change.edits)
    assert not change.create
    assert new.startswith(existing) and new.count("import") == 1
    assert new.endswith("def test_one():\n    assert fibonacci(1) == 1\n")


async def test_explain_returns_the_models_prose_and_no_edit(workspace):
    result = await _refactorer(ScriptedBackend("It computes Fibonacci numbers.")).run(
        _request(workspace, "explain", "if n"), _read
    )
    assert result.changes == ()
    assert result.message == "It computes Fibonacci numbers."


async def test_edits_to_files_outside_the_workspace_are_refused_before_the_model_runs(
    workspace, tmp_path_factory
):
    backend = ScriptedBackend("x")
    request = _request(workspace, "simplify", "if n")
    outside = ActionRequest(
        "simplify",
        request.path,
        SOURCE,
        request.start,
        request.end,
        (str(tmp_path_factory.mktemp("o")),),
    )
    with pytest.raises(ActionRefused, match="outside the workspace"):
        await _refactorer(backend).run(outside, _read)
    assert backend.prompts == []


async def test_a_newer_action_on_the_same_file_cancels_the_running_one(workspace):
    import asyncio

    backend = ScriptedBackend("It computes.")
    backend.release.clear()
    refactorer = _refactorer(backend)
    first = asyncio.ensure_future(refactorer.run(_request(workspace, "explain", "if n"), _read))
    await asyncio.to_thread(backend.started.wait, 5)
    second = asyncio.ensure_future(refactorer.run(_request(workspace, "explain", "if n"), _read))
    await asyncio.sleep(0.05)
    backend.release.set()
    with pytest.raises(Cancelled):
        await first
    assert (await second).message == "It computes."


async def test_the_fix_quickfix_shows_the_diagnostic_and_rewrites_its_definition(workspace):
    backend = ScriptedBackend(
        "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n```"
    )
    start = SOURCE.index("fibonacci(n - 1)")
    request = _request(workspace, "fix", "if n")
    request = ActionRequest(
        "fix",
        request.path,
        SOURCE,
        start,
        start,
        request.roots,
        Problem("too slow", start, start + 9),
    )
    result = await _refactorer(backend).run(request, _read)
    assert "too slow (line 7)" in backend.prompts[0]
    assert "return n if n < 2 else" in apply_edits(SOURCE, result.changes[0].edits)
