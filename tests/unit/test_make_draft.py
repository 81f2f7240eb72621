"""benchmarks/make_draft.py: a layer-truncated GGUF copy is a loadable same-vocabulary draft model.

The copies are made from tiny generated models (tests/fixtures/tiny_gguf.py); the script's code
is loaded from its file, since benchmarks/ is not a package.
"""

from __future__ import annotations

import importlib.util
import pathlib
import threading
from types import ModuleType

import gguf
import numpy as np
import pytest

from tests.fixtures.tiny_gguf import write_tiny_model

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "make_draft.py"


@pytest.fixture(scope="module")
def make_draft() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_draft", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("make-draft")
    return write_tiny_model(folder / "target.gguf", "qwen", seed=5, n_layer=3)


def _tensors(path: pathlib.Path) -> dict[str, tuple[object, np.ndarray]]:
    return {t.name: (t.tensor_type, np.array(t.data)) for t in gguf.GGUFReader(str(path)).tensors}


def test_the_copy_keeps_the_chosen_blocks_renumbered_and_everything_else(
    make_draft, target, tmp_path
):
    out = tmp_path / "copy.gguf"
    kept, total = make_draft.truncate(target, out, "0,2")
    source, copy = _tensors(target), _tensors(out)
    assert (kept, total) == (len(copy), len(source))
    assert {n for n in copy if not n.startswith("blk.")} == {
        n for n in source if not n.startswith("blk.")
    }
    for name, (kind, data) in source.items():
        if name.startswith("blk.1."):
            continue  # left out
        new_name = name.replace("blk.2.", "blk.1.")
        assert copy[new_name][0] == kind
        assert np.array_equal(copy[new_name][1], data), name
    reader = gguf.GGUFReader(str(out))
    assert reader.get_field("llama.block_count").contents() == 2
    original = gguf.GGUFReader(str(target))
    tokens = gguf.Keys.Tokenizer.LIST
    assert reader.get_field(tokens).contents() == original.get_field(tokens).contents()


@pytest.mark.parametrize("spec", ["0", "4", "0-3", "2,1", "1,1", "x"])
def test_layer_specs_outside_the_model_or_out_of_order_are_refused(make_draft, spec):
    with pytest.raises(ValueError):
        make_draft.parse_layers(spec, 3)


def test_layer_specs_name_first_blocks_or_ranges(make_draft):
    assert make_draft.parse_layers("2", 30) == [0, 1]
    assert make_draft.parse_layers("0-1,28-29", 30) == [0, 1, 28, 29]


def test_a_copy_of_every_layer_generates_exactly_what_the_model_generates(
    make_draft, target, tmp_path
):
    llama_cpp = pytest.importorskip("llama_cpp")
    out = tmp_path / "all.gguf"
    make_draft.truncate(target, out, "3")
    texts = []
    for path in (target, out):
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=128, n_threads=1, verbose=False)
        texts.append(llm.create_completion("def add(a, b):\n", max_tokens=12, temperature=0.0))
        llm.close()
    assert texts[0]["choices"][0]["text"] == texts[1]["choices"][0]["text"]


def test_a_truncated_copy_is_accepted_as_a_draft_model_and_output_is_unchanged(
    make_draft, target, tmp_path
):
    pytest.importorskip("llama_cpp")
    from copilot_ls.backends.base import GenerationRequest
    from copilot_ls.backends.llama_cpp import LlamaCppBackend
    from copilot_ls.settings import ModelSettings

    out = tmp_path / "first1.gguf"
    make_draft.truncate(target, out, "1")
    results = []
    for draft, mode in ((str(out), "draft"), ("", "off")):
        settings = ModelSettings(path=str(target), n_ctx=256, n_threads=1, draft_path=draft)
        backend = LlamaCppBackend(settings)
        request = GenerationRequest(
            parts=("class Parser(object):\n    def __init__(self, name):\n",),
            max_tokens=24,
            speculative=mode,  # type: ignore[arg-type]
        )
        results.append(backend.generate(request, threading.Event()))
        backend.close()
    assert results[0].drafted_tokens > 0
    assert results[0].text == results[1].text


def test_per_layer_metadata_arrays_are_cut_to_the_chosen_blocks(make_draft, tmp_path):
    source = tmp_path / "per-layer.gguf"
    writer = gguf.GGUFWriter(str(source), "llama")
    writer.add_block_count(3)
    writer.add_array("llama.attention.head_count", [2, 4, 8])
    writer.add_array("llama.other", [1, 2])
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    for i in range(3):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.full(8, i, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    out = tmp_path / "cut.gguf"
    make_draft.truncate(source, out, "1-2")
    reader = gguf.GGUFReader(str(out))
    assert reader.get_field("llama.attention.head_count").contents() == [4, 8]
    assert reader.get_field("llama.other").contents() == [1, 2]
    norms = {t.name: float(t.data[0]) for t in reader.tensors if t.name.startswith("blk.")}
    assert norms == {"blk.0.attn_norm.weight": 1.0, "blk.1.attn_norm.weight": 2.0}
