"""Package layout and the optional native extraction module; everything else is in pyproject.toml.

The tree-sitter query files live in the top-level `grammars/` folder and ship inside the
package as `copilot_ls.grammars` (read with importlib.resources). `pyproject.toml` alone can map
that folder but not combine the mapping with package discovery, hence this file.

`copilot_ls.index._native` (see `copilot_ls/index/_native.c`) compiles against the tree-sitter
C runtime, whose source ships in the `tree-sitter` sdist on PyPI: `scripts/install.sh` fetches
it and names its `lib` folder in `COPILOT_LS_TREE_SITTER_LIB`. Without it, or without a C
compiler, the module is left out and the index extracts through py-tree-sitter alone (slower,
same symbols).
"""

import os
import shutil
import sys
from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

LTO = ["-flto"]
"""Link-time optimisation: it lets the compiler inline the runtime's node accessors into the
extraction, and brings the parse to the speed of py-tree-sitter's own build (a newer GCC's)."""


class BuildExt(build_ext):
    """Builds with link-time optimisation, and again without it where the toolchain lacks it."""

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # setuptools raises its own CompileError / LinkError kinds
            if not set(LTO) & set(ext.extra_compile_args):
                raise
            print(f"copilot-ls: building without {' '.join(LTO)}: {exc}", file=sys.stderr)
            ext.extra_compile_args = [a for a in ext.extra_compile_args if a not in LTO]
            ext.extra_link_args = [a for a in ext.extra_link_args if a not in LTO]
            super().build_extension(ext)


def native_extensions() -> list[Extension]:
    configured = os.environ.get("COPILOT_LS_TREE_SITTER_LIB", "")
    lib = Path(configured) if configured else None
    if lib is None or not (lib / "src" / "lib.c").is_file():
        print(
            "copilot-ls: no tree-sitter runtime source (COPILOT_LS_TREE_SITTER_LIB);"
            " building without native extraction",
            file=sys.stderr,
        )
        return []
    # Setuptools takes sources by relative paths only: a copy inside the (ignored) build folder.
    local = Path("build") / "tree-sitter-lib"
    shutil.copytree(lib, local, dirs_exist_ok=True)
    return [
        Extension(
            "copilot_ls.index._native",
            sources=[
                "copilot_ls/index/_native.c",
                "copilot_ls/index/_native_text.c",
                "copilot_ls/index/_native_settle.c",
                "copilot_ls/index/_native_nodes.c",
                "copilot_ls/index/_native_module.c",
                str(local / "src" / "lib.c"),
            ],
            depends=["copilot_ls/index/_native.h"],
            include_dirs=[str(local / "include"), str(local / "src")],
            define_macros=[
                ("_POSIX_C_SOURCE", "200112L"),
                ("_DEFAULT_SOURCE", None),
                ("TREE_SITTER_HIDE_SYMBOLS", None),
            ],
            # The flags py-tree-sitter builds the same runtime with.
            extra_compile_args=["-std=c11", "-fvisibility=hidden", "-Wno-cast-function-type", *LTO],
            extra_link_args=LTO,
            optional=True,
        )
    ]


setup(
    packages=[*find_packages(include=["copilot_ls", "copilot_ls.*"]), "copilot_ls.grammars"],
    package_dir={"copilot_ls.grammars": "grammars"},
    package_data={"copilot_ls.grammars": ["*/*.scm"]},
    ext_modules=native_extensions(),
    cmdclass={"build_ext": BuildExt},
)
