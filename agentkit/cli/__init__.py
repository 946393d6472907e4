"""The ``agentkit`` command line: ``main`` is the console script's entry point."""

from __future__ import annotations

from agentkit.cli._main import main

__all__ = ["main"]
