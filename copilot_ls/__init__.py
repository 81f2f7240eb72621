"""copilot-ls: a local coding copilot served over the Language Server Protocol."""

__version__ = "0.1.0"
