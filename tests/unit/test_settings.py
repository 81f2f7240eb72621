"""Settings arrive as camelCase JSON; bad keys are reported and fall back to defaults."""

from copilot_ls.settings import Settings, parse_settings, settings_schema


def test_no_settings_gives_every_default():
    settings, problems = parse_settings(None)
    assert settings == Settings()
    assert problems == []


def test_camel_case_keys_set_nested_fields():
    settings, problems = parse_settings(
        {"model": {"path": "/models/x.gguf", "nCtx": 2048}, "completion": {"maxTokens": 12}}
    )
    assert problems == []
    assert settings.model.path == "/models/x.gguf"
    assert settings.model.n_ctx == 2048
    assert settings.completion.max_tokens == 12


def test_a_copilotls_wrapper_key_is_accepted():
    settings, problems = parse_settings({"copilotLs": {"completion": {"enable": False}}})
    assert problems == [] and settings.completion.enable is False


def test_unknown_key_and_wrong_type_are_reported_and_others_kept():
    settings, problems = parse_settings(
        {"model": {"nCtx": "big", "nThreads": 3}, "colour": "red", "completion": {"multiline": "x"}}
    )
    assert settings.model.n_ctx == Settings().model.n_ctx
    assert settings.model.n_threads == 3
    assert settings.completion.multiline == "auto"
    assert len(problems) == 3
    assert any("nCtx" in p and "int" in p for p in problems)
    assert any("colour" in p for p in problems)


def test_bool_is_not_taken_for_an_integer_and_int_is_taken_for_float():
    settings, problems = parse_settings({"model": {"nCtx": True}, "completion": {"temperature": 1}})
    assert settings.model.n_ctx == 4096 and len(problems) == 1
    assert settings.completion.temperature == 1.0


def test_a_section_that_is_not_an_object_is_reported():
    settings, problems = parse_settings({"model": "fast"})
    assert settings.model == Settings().model
    assert problems and "expected an object" in problems[0]


def test_schema_documents_every_key_with_default_and_description():
    schema = settings_schema()
    completion = schema["properties"]["completion"]["properties"]
    assert completion["maxPromptTokens"]["default"] == 1024
    assert completion["maxPromptTokens"]["description"]
    assert completion["multiline"]["enum"] == ["auto", "always", "never"]
    assert schema["properties"]["model"]["properties"]["path"]["description"]


def test_an_empty_did_change_configuration_keeps_the_settings_in_force():
    """eglot sends `{}` right after connecting: that must not undo the initializationOptions."""
    from lsprotocol import types

    from copilot_ls.server import build_server

    server = build_server()
    server.apply_settings({"completion": {"maxTokens": 7}})
    handler = server.protocol.fm.features[types.WORKSPACE_DID_CHANGE_CONFIGURATION]
    for empty in ({}, {"copilotLs": {}}, None):
        handler(types.DidChangeConfigurationParams(settings=empty))
        assert server.settings.completion.max_tokens == 7
