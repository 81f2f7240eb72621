"""Candidate files for similar chunks are found cheaply: imports, importers, neighbours."""

from copilot_ls.context.candidates import (
    first_distinct,
    imported_files,
    importing_files,
    resolve_import,
    same_directory,
)
from copilot_ls.index.extract import extract_text
from copilot_ls.index.store import SymbolIndex


def index_of(files: dict[str, str]) -> SymbolIndex:
    return SymbolIndex(extract_text(path, text) for path, text in files.items())


INDEX = index_of(
    {
        "/w/app/pricing.py": "def cost():\n    return 1\n",
        "/w/app/util/__init__.py": "",
        "/w/app/util/money.py": "def cents():\n    return 1\n",
        "/w/web/api.ts": "export const x = 1;\n",
        "/w/web/lib/index.ts": "export const y = 2;\n",
        "/w/app/orders.py": "from pricing import cost\nfrom .util.money import cents\n",
        "/w/app/shop.py": "import app.orders\n",
        "/w/web/main.ts": "import { x } from './api';\nimport { y } from './lib';\n",
    }
)


def test_python_modules_resolve_by_name_dotted_path_and_relative_dots():
    assert resolve_import("pricing", "/w/app", "/w", ".py", INDEX) == "/w/app/pricing.py"
    assert resolve_import("app.pricing", "/w/x", "/w", ".py", INDEX) == "/w/app/pricing.py"
    assert resolve_import(".util.money", "/w/app", "/w", ".py", INDEX) == "/w/app/util/money.py"
    assert resolve_import("..pricing", "/w/app/util", "/w", ".py", INDEX) == "/w/app/pricing.py"
    assert resolve_import("app.util", "/w", "/w", ".py", INDEX) == "/w/app/util/__init__.py"


def test_script_modules_resolve_with_extensions_and_index_files():
    assert resolve_import("./api", "/w/web", "/w", ".ts", INDEX) == "/w/web/api.ts"
    assert resolve_import("./lib", "/w/web", "/w", ".ts", INDEX) == "/w/web/lib/index.ts"


def test_unknown_modules_resolve_to_nothing():
    assert resolve_import("os.path", "/w/app", "/w", ".py", INDEX) is None


def test_the_files_a_file_imports_are_listed_in_import_order():
    symbols = INDEX.get("/w/app/orders.py")
    assert imported_files(symbols, "/w/app/orders.py", "/w", INDEX) == [
        "/w/app/pricing.py",
        "/w/app/util/money.py",
    ]
    main = INDEX.get("/w/web/main.ts")
    assert imported_files(main, "/w/web/main.ts", "/w", INDEX) == [
        "/w/web/api.ts",
        "/w/web/lib/index.ts",
    ]


def test_the_files_importing_a_file_are_found_through_the_index():
    assert importing_files("/w/app/pricing.py", "/w", INDEX) == ["/w/app/orders.py"]
    assert importing_files("/w/app/orders.py", "/w", INDEX) == ["/w/app/shop.py"]
    assert importing_files("/w/web/api.ts", "/w", INDEX) == ["/w/web/main.ts"]


def test_neighbours_are_indexed_files_of_the_same_directory(tmp_path):
    for name in ("a.py", "b.py", "notes.bin", "c.py"):
        (tmp_path / name).write_text("x = 1\n")
    index = index_of({str(tmp_path / n): "x = 1\n" for n in ("a.py", "b.py", "c.py")})
    assert same_directory(str(tmp_path / "b.py"), index) == [
        str(tmp_path / "a.py"),
        str(tmp_path / "c.py"),
    ]


def test_a_vanished_directory_has_no_neighbours(tmp_path):
    assert same_directory(str(tmp_path / "gone" / "a.py"), SymbolIndex()) == []


def test_candidates_keep_their_first_position_and_the_cap():
    groups = [["/a", "/b"], ["/b", "/cur", "/c"], ["/d"]]
    assert first_distinct(groups, "/cur", 10) == ["/a", "/b", "/c", "/d"]
    assert first_distinct(groups, "/cur", 2) == ["/a", "/b"]
