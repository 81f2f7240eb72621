"""SymbolIndex answers name, prefix/fuzzy and import look-ups over the indexed files."""

from __future__ import annotations

import threading

from copilot_ls.index.model import Chunk, Definition, FileSymbols, References, Span
from copilot_ls.index.store import IndexedDefinition, IndexStats, SymbolIndex


def definition(name: str, line: int = 0, kind: str = "function") -> Definition:
    return Definition(name, kind, Span(line, 0, line + 1, 0), f"def {name}():")


def file_symbols(
    path: str, *names: str, imports: tuple[str, ...] = (), language: str = "python"
) -> FileSymbols:
    return FileSymbols(
        path=path,
        language=language,
        content_hash="0" * 32,
        mtime_ns=1,
        size=10,
        definitions=tuple(definition(n, i) for i, n in enumerate(names)),
        imports=imports,
        references=References.of(["os"]),
        chunks=(Chunk(0, 1),),
    )


def names(hits: list[IndexedDefinition]) -> list[str]:
    return [h.definition.name for h in hits]


def test_definitions_are_found_by_exact_name_across_files() -> None:
    index = SymbolIndex([file_symbols("/w/b.py", "area", "Area"), file_symbols("/w/a.py", "area")])
    hits = index.definitions("area")
    assert [(h.path, h.definition.span.start_line) for h in hits] == [
        ("/w/a.py", 0),
        ("/w/b.py", 0),
    ]
    assert names(index.definitions("Area")) == ["Area"]
    assert index.definitions("missing") == []


def test_replacing_a_file_forgets_its_old_definitions_and_imports() -> None:
    index = SymbolIndex()
    index.replace(file_symbols("/w/a.py", "old_name", imports=("os",)))
    index.replace(file_symbols("/w/a.py", "new_name", imports=("sys",)))
    assert index.definitions("old_name") == []
    assert names(index.definitions("new_name")) == ["new_name"]
    assert index.importers("os") == [] and index.importers("sys") == ["/w/a.py"]
    assert index.stats() == IndexStats(files=1, definitions=1, languages={"python": 1})


def test_removing_a_file_updates_every_lookup_and_the_stats() -> None:
    index = SymbolIndex(
        [
            file_symbols("/w/a.py", "shared", imports=("os",)),
            file_symbols("/w/b.go", "shared", "only_b", imports=("os",), language="go"),
        ]
    )
    assert index.remove("/w/b.go") is True
    assert index.remove("/w/b.go") is False
    assert [h.path for h in index.definitions("shared")] == ["/w/a.py"]
    assert index.definitions("only_b") == [] and index.search("only_b") == []
    assert index.importers("os") == ["/w/a.py"]
    assert index.stats() == IndexStats(files=1, definitions=1, languages={"python": 1})
    assert "/w/b.go" not in index and len(index) == 1 and index.get("/w/b.go") is None


def test_files_that_import_a_module_are_listed_sorted() -> None:
    index = SymbolIndex(
        [
            file_symbols("/w/z.py", imports=("os.path", "json")),
            file_symbols("/w/a.py", imports=("os.path",)),
            file_symbols("/w/m.py", imports=("os",)),
        ]
    )
    assert index.importers("os.path") == ["/w/a.py", "/w/z.py"]
    assert index.importers("os") == ["/w/m.py"]
    assert index.importers("yaml") == []


def test_all_files_and_paths_are_sorted_snapshots() -> None:
    b, a = file_symbols("/w/b.py", "f"), file_symbols("/w/a.py", "g")
    index = SymbolIndex([b, a])
    assert index.paths() == ["/w/a.py", "/w/b.py"]
    assert index.all_files() == [a, b]
    assert index.get("/w/a.py") is a


def test_search_ranks_exact_then_prefix_then_substring_then_subsequence_ignoring_case() -> None:
    index = SymbolIndex(
        [file_symbols("/w/a.py", "get_user_name", "UserName", "username_cache", "user", "unused")]
    )
    # Prefixes rank by length, so "UserName" comes before "username_cache".
    assert names(index.search("user")) == ["user", "UserName", "username_cache", "get_user_name"]
    assert names(index.search("USER", limit=2)) == ["user", "UserName"]
    assert names(index.search("gun")) == ["get_user_name"]
    assert index.search("xyz") == []
    assert index.search("user", limit=0) == []


def test_search_prefers_matches_at_word_starts_then_fewer_gaps() -> None:
    index = SymbolIndex(
        [file_symbols("/w/a.py", "fuller", "fetchLatestResult", "flrx_helper", "FileLineReader")]
    )
    # A prefix first; then the two names where "flr" starts three words, the tighter first;
    # last "fuller", where only the "f" starts a word.
    assert names(index.search("flr")) == [
        "flrx_helper",
        "FileLineReader",
        "fetchLatestResult",
        "fuller",
    ]


def test_an_empty_search_lists_names_shortest_first_up_to_the_limit() -> None:
    index = SymbolIndex([file_symbols("/w/a.py", "ccc", "a", "bb")])
    assert names(index.search("", limit=2)) == ["a", "bb"]


def test_readers_never_see_a_half_replaced_file() -> None:
    """One writer swaps a file between two versions; readers must see one version whole."""
    version_x = file_symbols("/w/a.py", *(f"x{i}" for i in range(50)))
    version_y = file_symbols("/w/a.py", *(f"y{i}" for i in range(50)))
    index = SymbolIndex([version_x])
    stop = threading.Event()
    torn: list[str] = []

    def write() -> None:
        for i in range(2000):
            index.replace(version_y if i % 2 else version_x)
        stop.set()

    def read() -> None:
        while not stop.is_set():
            try:
                prefixes = {n[0] for n in names(index.search("", limit=1000))}
                if len(prefixes) != 1 or index.stats().definitions != 50:
                    torn.append(repr(prefixes))
            except (RuntimeError, KeyError) as exc:  # how torn dicts show up
                torn.append(repr(exc))

    readers = [threading.Thread(target=read) for _ in range(4)]
    writer = threading.Thread(target=write)
    for t in [*readers, writer]:
        t.start()
    for t in [writer, *readers]:
        t.join(timeout=30)
    assert stop.is_set() and torn == []
