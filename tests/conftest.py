"""Suite-wide: servers started by tests keep their index snapshots in a temporary folder."""

import os

import pytest


@pytest.fixture(autouse=True)
def _private_index_cache(tmp_path_factory, monkeypatch):
    if "COPILOT_LS_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("COPILOT_LS_CACHE_DIR", str(tmp_path_factory.mktemp("index-cache")))
