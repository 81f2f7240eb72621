"""Package layout only; everything else is in pyproject.toml.

The tree-sitter query files live in the top-level `grammars/` folder and ship inside the
package as `copilot_ls.grammars` (read with importlib.resources). `pyproject.toml` alone can map
that folder but not combine the mapping with package discovery, hence this file.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["copilot_ls", "copilot_ls.*"]), "copilot_ls.grammars"],
    package_dir={"copilot_ls.grammars": "grammars"},
    package_data={"copilot_ls.grammars": ["*/*.scm"]},
)
