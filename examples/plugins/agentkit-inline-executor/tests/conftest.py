"""Test setup: use the installed agentkit_inline, or this checkout's src/ when not installed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("agentkit_inline") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
