"""The seed guide's examples run against agentkit, as DESIGN.md section 0 promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).parents[1] / "examples" / "seed_guide.py"


def test_seed_guide_runs_every_block() -> None:
    """examples/seed_guide.py exits 0 and each block prints what the guide says it does."""
    result = subprocess.run(
        [sys.executable, str(GUIDE)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Received from agent-001: {'alert': 'System degradation detected'}" in result.stdout
    assert "failed" not in result.stdout
