#!/usr/bin/env bash
# Install copilot-ls and its test tools into the current Python environment.
#
# llama-cpp-python compiles llama.cpp from source (about 10 minutes on 2 cores). Its default
# build targets the build machine's own CPU (GGML_NATIVE); on CPUs that advertise AMX inside a
# VM that does not enable it, that build dies with "Illegal instruction". So the wheel is built
# once for portable x86-64-v3 (AVX2/FMA/F16C), kept in a wheel folder, and reused afterwards.
# Set CMAKE_ARGS yourself to build for something else (e.g. -DGGML_CUDA=on).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
LLAMA_VERSION="0.3.36"
arch="$(uname -m)"
if [ -z "${CMAKE_ARGS:-}" ] && [ "$arch" = "x86_64" ]; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
  flavour="x86-64-v3"
else
  flavour="$arch-$(printf '%s' "${CMAKE_ARGS:-native}" | cksum | cut -d' ' -f1)"
fi
wheels="${COPILOT_LS_WHEELS:-$HOME/.cache/copilot-ls/wheels}/$flavour"
mkdir -p "$wheels"

if ! "$PYTHON" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_VERSION')" 2>/dev/null; then
  if ! ls "$wheels"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
    echo "copilot-ls: building llama-cpp-python $LLAMA_VERSION ($flavour), about 10 minutes..." >&2
    CMAKE_ARGS="$CMAKE_ARGS" "$PYTHON" -m pip wheel --no-cache-dir --no-deps \
      "llama-cpp-python==$LLAMA_VERSION" -w "$wheels"
  fi
  "$PYTHON" -m pip install --no-index --find-links "$wheels" --force-reinstall --no-deps \
    "llama-cpp-python==$LLAMA_VERSION"
fi

# Native extraction for the workspace index (copilot_ls/index/_native.c) compiles against the
# tree-sitter C runtime, whose source ships in the `tree-sitter` sdist on PyPI. It is fetched
# once into the cache; without it (or without a C compiler) copilot-ls still installs, and
# indexes through py-tree-sitter alone, slower.
TREE_SITTER_VERSION="0.26.1"
sources="${COPILOT_LS_SOURCES:-$HOME/.cache/copilot-ls/src}"
ts_lib="$sources/tree_sitter-$TREE_SITTER_VERSION/tree_sitter/core/lib"
if [ ! -f "$ts_lib/src/lib.c" ]; then
  mkdir -p "$sources"
  if "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: -d "$sources" \
      "tree-sitter==$TREE_SITTER_VERSION" >&2 \
    && tar -xzf "$sources/tree_sitter-$TREE_SITTER_VERSION.tar.gz" -C "$sources"; then
    echo "copilot-ls: tree-sitter $TREE_SITTER_VERSION runtime source in $sources" >&2
  else
    echo "copilot-ls: could not fetch the tree-sitter runtime source; indexing without native extraction" >&2
  fi
fi
if [ -f "$ts_lib/src/lib.c" ]; then
  export COPILOT_LS_TREE_SITTER_LIB="$ts_lib"
fi

extras="${COPILOT_LS_EXTRAS:-}"
"$PYTHON" -m pip install --find-links "$wheels" -e ".${extras:+[$extras]}"
if ! "$PYTHON" -c "import copilot_ls.index._native" 2>/dev/null; then
  echo "copilot-ls: native extraction is not built; the index reads files through py-tree-sitter" >&2
fi

# Best effort, for `make test` only: tests/editors/test_emacs.py needs Emacs with eglot. It is
# skipped without them, and failing to install them never fails the install.
case ",$extras," in
  *,test,*)
    if ! command -v emacs >/dev/null 2>&1 || ! emacs --batch --eval "(require 'eglot)" >/dev/null 2>&1; then
      if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
        if { timeout 900 apt-get update -qq \
          && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq \
            --no-install-recommends emacs-nox elpa-eglot; } >/dev/null 2>&1; then
          echo "copilot-ls: installed emacs-nox and elpa-eglot (apt-get) for the Emacs test" >&2
        else
          echo "copilot-ls: apt-get could not install emacs-nox elpa-eglot; the Emacs test will be skipped" >&2
        fi
      else
        echo "copilot-ls: no Emacs with eglot (installing it needs root and apt-get); the Emacs test will be skipped" >&2
      fi
    fi
    ;;
esac
