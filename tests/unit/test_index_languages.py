"""The query files are package data: found through `copilot_ls.grammars`' resources when that
package is installed, and in the source checkout's `grammars/` folder otherwise."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import copilot_ls
from copilot_ls.index import languages
from copilot_ls.index.languages import GRAMMARS_PACKAGE, LANGUAGES, QUERY_KINDS, query_source

CHECKOUT_GRAMMARS = Path(languages.__file__).resolve().parents[2] / "grammars"
SETUP_PY = CHECKOUT_GRAMMARS.parent / "setup.py"


@pytest.fixture
def installed_grammars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of grammars/ installed where a wheel puts it: `<site>/copilot_ls/grammars`."""
    installed = tmp_path / "site" / "copilot_ls" / "grammars"
    shutil.copytree(CHECKOUT_GRAMMARS, installed, ignore=shutil.ignore_patterns("__pycache__"))
    (installed / "python" / "tags.scm").write_text("; the installed copy\n", encoding="utf-8")
    monkeypatch.setattr(copilot_ls, "__path__", [*copilot_ls.__path__, str(installed.parent)])
    monkeypatch.delitem(sys.modules, GRAMMARS_PACKAGE, raising=False)
    yield installed
    sys.modules.pop(GRAMMARS_PACKAGE, None)


def test_query_files_are_read_through_the_installed_package_resources(
    installed_grammars: Path,
) -> None:
    root = languages.grammars_root()
    assert Path(str(root)) == installed_grammars
    python = languages.get_language("python")
    assert python is not None
    assert query_source(python, "tags", root) == "; the installed copy\n"


def test_without_the_package_the_source_checkout_grammars_are_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(package: str) -> None:
        raise ModuleNotFoundError(package)

    monkeypatch.setattr(languages.importlib.resources, "files", missing)
    assert languages.grammars_root() == CHECKOUT_GRAMMARS


def test_every_language_finds_its_tags_queries_where_the_index_looks() -> None:
    for spec in LANGUAGES:
        source = query_source(spec, "tags")
        assert source and "@definition." in source, spec.name


def test_the_package_layout_ships_every_query_file() -> None:
    """setup.py maps grammars/ to copilot_ls.grammars with every `<language>/<kind>.scm`."""
    text = SETUP_PY.read_text(encoding="utf-8")
    assert f'"{GRAMMARS_PACKAGE}": "grammars"' in text
    assert f'"{GRAMMARS_PACKAGE}": ["*/*.scm"]' in text
    files = list(CHECKOUT_GRAMMARS.glob("*/*.scm"))
    assert files and all(f.stem in QUERY_KINDS for f in files)
