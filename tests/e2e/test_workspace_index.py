"""The server indexes its workspace in the background, with progress, and serves
`workspace/symbol` from the index."""

from __future__ import annotations

from lsprotocol import types

from tests.e2e.conftest import lsp_session, wait_for_index

SHAPES = '''"""Shapes and their areas."""


class Circle:
    """A circle of radius r."""

    def area(self):
        return 3.14159 * self.r**2


def total_area(shapes):
    return sum(s.area() for s in shapes)
'''
UTIL_GO = (
    "package util\n\n// Clamp limits v to [lo, hi].\nfunc Clamp(v, lo, hi int) int { return v }\n"
)


async def test_workspace_symbol_finds_definitions_after_indexing(tmp_path, monkeypatch):
    monkeypatch.setenv("COPILOT_LS_CACHE_DIR", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    (work / "shapes.py").write_text(SHAPES)
    (work / "util.go").write_text(UTIL_GO)
    (work / ".gitignore").write_text("ignored.py\n")
    (work / "ignored.py").write_text("def hidden_function():\n    pass\n")
    async with lsp_session(root=work) as client:
        await wait_for_index(client)
        reports = [r for rs in client.progress_reports.values() for r in rs]
        assert any(isinstance(r, types.WorkDoneProgressBegin) for r in reports)
        symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="area"))
        names = {(s.name, s.container_name) for s in symbols}
        assert ("total_area", None) in names and ("area", "Circle") in names
        clamp = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Clamp"))
        assert clamp[0].name == "Clamp" and clamp[0].location.uri.endswith("util.go")
        hidden = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="hidden"))
        assert hidden == [] or all(s.name != "hidden_function" for s in hidden)
    assert list((tmp_path / "cache").rglob("*.msgpack"))  # the snapshot was saved
