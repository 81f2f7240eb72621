"""context stage of the copilot-ls data path (see pipeline.py for the order)."""
