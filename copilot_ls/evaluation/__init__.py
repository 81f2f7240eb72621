"""Evaluation: mask lines of a repository, complete them again, and score the answers.

`sites` chooses the lines, `harness` completes each one with and without cross-file context
through the same pipeline an editor uses, `metrics` scores the answers and `report` prints
them. Used by `copilot-ls eval`; no LSP types here.
"""
