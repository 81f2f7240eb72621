"""Benchmarks tooling (backends stage, draft models): cut a GGUF model down to some of its layers.

A layer-truncated copy of a model shares its vocabulary, embeddings and output head exactly, so
it is a valid draft model for it (`model.draftPath`) without any download: the only same-family
pair there is offline. It keeps every metadata key and every tensor outside the blocks as they
are, keeps the tensors of the chosen blocks byte for byte (quantized ones stay quantized, same
types and shapes; renumbered 0..N-1 in order) and sets `<arch>.block_count` to N. `--layers 6`
keeps the first 6 blocks; `--layers 0-3,26-29` keeps those (skipping middle layers, as
self-speculative decoding does). Nothing is retrained, so how often its guesses are right is
what those layers alone predict: a floor for a real draft model.

    python benchmarks/make_draft.py --layers 6 [--model GGUF] [--out GGUF] [--check]

`--check` loads the copy in llama.cpp, generates a line, and prints how often its greedy next
token agrees with the model's on real code (the chance that a drafted token is accepted) and
both decode speeds (what a drafted token costs).

The output goes to ~/.cache/copilot-ls/drafts/ by default: never commit a model.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import gguf
import numpy as np

DRAFTS_DIR = Path("~/.cache/copilot-ls/drafts").expanduser()
BLOCK_TENSOR = re.compile(r"^blk\.(\d+)\.")
VIRTUAL_KEYS = ("GGUF.", "general.architecture")
"""Reader fields that describe the file itself, or that GGUFWriter writes on its own."""
AGREEMENT_TOKENS = 768
DECODE_STEPS = 64


def architecture(reader: gguf.GGUFReader) -> str:
    field = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    if field is None:
        raise ValueError("the model has no general.architecture key")
    return str(field.contents())


def block_count(reader: gguf.GGUFReader, arch: str) -> int:
    field = reader.get_field(gguf.Keys.LLM.BLOCK_COUNT.format(arch=arch))
    if field is None:
        raise ValueError(f"the model has no {arch}.block_count key")
    return int(field.contents())


def parse_layers(spec: str, total: int) -> list[int]:
    """Block indices from `spec`: "N" for the first N, or ranges and indices like "0-3,28,29"."""
    if spec.isdigit():
        blocks = list(range(int(spec)))
    else:
        blocks = []
        for part in spec.split(","):
            first, _, last = part.partition("-")
            blocks.extend(range(int(first), int(last or first) + 1))
    if not blocks or sorted(set(blocks)) != blocks or not 0 <= blocks[-1] < total:
        raise ValueError(f"--layers {spec!r}: give N (1..{total}) or increasing blocks < {total}")
    return blocks


def copy_metadata(
    reader: gguf.GGUFReader, writer: gguf.GGUFWriter, arch: str, spec: str, blocks: list[int]
) -> None:
    """Every key of `reader` into `writer`, with the block count (and the name) changed, and
    per-layer arrays (one value per block, as some architectures have) cut to `blocks`."""
    block_key = gguf.Keys.LLM.BLOCK_COUNT.format(arch=arch)
    total = block_count(reader, arch)
    for name, field in reader.fields.items():
        if name.startswith(VIRTUAL_KEYS) or not field.types:
            continue
        value = field.contents()
        if name == block_key:
            value = len(blocks)
        elif name.startswith(f"{arch}.") and isinstance(value, list) and len(value) == total:
            value = [value[i] for i in blocks]
        elif name == gguf.Keys.General.NAME:
            value = f"{value} (layers {spec})"
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, value, field.types[0], sub_type)


def renamed(name: str, blocks: list[int]) -> str | None:
    """Tensor `name` as named in the copy keeping `blocks`, or None when it is left out."""
    match = BLOCK_TENSOR.match(name)
    if match is None:
        return name
    block = int(match.group(1))
    if block not in blocks:
        return None
    return f"blk.{blocks.index(block)}.{name[match.end() :]}"


def truncate(source: Path, out: Path, spec: str) -> tuple[int, int]:
    """Write the blocks `spec` names of `source` to `out`; return (kept, total) tensors."""
    reader = gguf.GGUFReader(str(source))
    arch = architecture(reader)
    blocks = parse_layers(spec, block_count(reader, arch))
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out), arch)
    alignment = reader.get_field(gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = int(alignment.contents())
    copy_metadata(reader, writer, arch, spec, blocks)
    kept = 0
    for tensor in reader.tensors:
        name = renamed(tensor.name, blocks)
        if name is None:
            continue
        kept += 1
        # `data` holds the file's bytes for a quantized tensor (rows of blocks, uint8) and the
        # elements otherwise; GGUFWriter derives the element shape from it and the type.
        writer.add_tensor(name, tensor.data, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return kept, len(reader.tensors)


def load(path: Path, n_ctx: int = 1024, logits_all: bool = False) -> Any:
    import llama_cpp

    return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, logits_all=logits_all, verbose=False)


def sample_tokens(llm: Any, n: int = AGREEMENT_TOKENS) -> list[int]:
    """The first `n` tokens of a standard-library source file: real code neither model saw."""
    text = Path(str(textwrap.__file__)).read_text(encoding="utf-8")
    return [int(t) for t in llm.tokenize(text.encode("utf-8"), add_bos=False)[:n]]


def agreement(target: Any, draft: Any, tokens: list[int]) -> float:
    """Share of positions of `tokens` where both models' greedy next token is the same.

    This is the chance that one drafted token is accepted, teacher-forced on real code.
    """
    choices = []
    for llm in (target, draft):
        llm.reset()
        llm.eval(tokens)
        choices.append(np.argmax(np.asarray(llm.scores[: len(tokens)]), axis=1))
    return float(np.mean(choices[0] == choices[1]))


def decode_seconds(llm: Any, tokens: list[int], steps: int = DECODE_STEPS) -> float:
    """Seconds per single-token decode after a short prompt (fastest of 3 runs)."""
    best = float("inf")
    for _ in range(3):
        llm.reset()
        llm.eval(tokens[:32])
        started = time.perf_counter()
        for token in tokens[32 : 32 + steps]:
            llm.eval([token])
        best = min(best, (time.perf_counter() - started) / steps)
    return best


def check(path: Path, source: Path) -> None:
    """Load the copy, generate a line; print its agreement with `source` and relative speed."""
    draft = load(path, logits_all=True)
    target = load(source, logits_all=True)
    try:
        text = draft.create_completion("def fibonacci(n):\n", max_tokens=16, temperature=0.0)
        print(f"loads; greedy 'def fibonacci(n):' -> {text['choices'][0]['text']!r}")
        tokens = sample_tokens(target)
        share = agreement(target, draft, tokens)
        print(f"top-1 agreement with the model on {len(tokens)} tokens of textwrap.py: {share:.1%}")
    finally:
        draft.close()
        target.close()
    draft, target = load(path), load(source)  # logits of the last token only, as when drafting
    try:
        fast, slow = decode_seconds(draft, tokens), decode_seconds(target, tokens)
    finally:
        draft.close()
        target.close()
    print(
        f"decode: copy {1 / fast:.0f} tok/s, model {1 / slow:.0f} tok/s "
        f"(a drafted token costs {fast / slow:.2f} of a target decode step)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--layers", required=True, help='blocks to keep: "6" or "0-3,26-29"')
    parser.add_argument("--model", help="GGUF file (default: the embedded model)")
    parser.add_argument("--out", type=Path, help="output GGUF (default: in ~/.cache)")
    parser.add_argument("--check", action="store_true", help="load it; measure agreement and speed")
    args = parser.parse_args()
    from copilot_ls.backends.model_files import resolve_model_path

    source = resolve_model_path(args.model)
    label = f"first{args.layers}" if args.layers.isdigit() else args.layers.replace(",", "_")
    out = args.out or DRAFTS_DIR / f"{source.stem}.{label}.gguf"
    started = time.perf_counter()
    try:
        n_kept, n_total = truncate(source, out, args.layers)
    except ValueError as exc:
        sys.exit(f"make_draft: {exc}")
    size = out.stat().st_size / source.stat().st_size
    print(
        f"wrote {out}: {n_kept} of {n_total} tensors, {size:.0%} of the model's bytes, "
        f"in {time.perf_counter() - started:.1f}s"
    )
    if args.check:
        check(out, source)


if __name__ == "__main__":
    main()
