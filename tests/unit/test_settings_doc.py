"""Every setting is documented in the README, from the settings model itself."""

from pathlib import Path

from copilot_ls.settings_doc import BEGIN, END, render, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_matches_the_settings_model():
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert render(text) == text, "run `python -m copilot_ls.settings_doc --write`"


def test_table_lists_each_key_with_its_default():
    table = settings_table()
    assert "| `completion.maxPromptTokens` | integer | `1024` |" in table
    assert "`model.path`" in table


def test_vscode_extension_schema_copy_matches_the_settings_model():
    """editor-configs/vscode/settings.schema.json feeds the extension's configuration block."""
    import json

    from copilot_ls.settings import settings_schema

    copy = README.parent / "editor-configs" / "vscode" / "settings.schema.json"
    assert json.loads(copy.read_text(encoding="utf-8")) == settings_schema(), (
        "run `copilot-ls schema > editor-configs/vscode/settings.schema.json` "
        "and `npm run gen-config` there"
    )
