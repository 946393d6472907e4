"""The guide's examples run against agentkit, every block for real."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import agentkit

GUIDE = Path(__file__).parents[1] / "examples" / "enterprise_features_guide.py"


def test_the_guide_runs_every_block() -> None:
    """The guide runner exits 0 and each block prints what the guide says it does."""
    result = subprocess.run(
        [sys.executable, str(GUIDE)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Received from agent-001: {'alert': 'System degradation detected'}" in result.stdout
    # Agent Swarms: the analysts really receive, vote and work over the bus.
    assert "analyst-003 received: Investigate transaction T-12345" in result.stdout
    assert (
        "Consensus decision: block (resolved, consensus 100.0%, votes from analyst-001,"
        " analyst-002)" in result.stdout
    )
    assert "Work: 10 of 10 tasks done (analyst-001 4, analyst-002 3, analyst-003 3)" in (
        result.stdout
    )
    # Conflict Resolution: weighted by confidence "reject" wins 1.1 to 0.95.
    assert "Decision: reject\nConsensus: 53.7%" in result.stdout
    assert "With agent_weights={'expert-001': 2.0}: approve (63.3%)" in result.stdout
    assert "built-in tools in 6 categories" in result.stdout
    # Plugin System: ./plugins/weather (plugin.json name "weather_tools") is active, its tool runs.
    assert "\nweather_tools: active\n" in result.stdout
    assert "\ntools: active\n" in result.stdout  # the built-ins already registered are kept
    assert "install_plugin('weather_tools') -> True" in result.stdout
    assert "weather_beaufort(9.0 m/s): {'force': 5, 'description': 'fresh breeze'}" in result.stdout
    assert "text_summarize: success=True output={'summary': 'Long document...'" in result.stdout
    # OpenAPI Auto-Discovery: one tool, prefixed, in the Built-in Tools block's registry.
    assert "Registered 1 tools from OpenAPI spec" in result.stdout
    assert "extract_tools: ['myapi_list_users']; in the registry: 'List all users'" in (
        result.stdout
    )
    # Migration Guide, "Adding Tools": the imported tool calls a real API on 127.0.0.1.
    assert (
        "list_users: success=True output=[{'id': 1, 'name': 'Ann'}, {'id': 2, 'name': 'Bo'}]"
        in result.stdout
    )
    assert "active component: primary" in result.stdout
    assert "active component after the primary went down: backup (failover)" in result.stdout
    assert (
        "10 calls: external_service reached 5 times, circuit open, 5 calls served from cache"
        in result.stdout
    )
    audit = (
        "audit_task result: {'agent_id': 'agent-001', 'words': 2, 'flagged': [], 'approved': True}"
    )
    assert f"[LOCAL] {audit}" in result.stdout
    assert "[LOCAL] parallel_map: 100 results, sum 328350" in result.stdout
    assert "Resources: {'CPU': " in result.stdout
    if agentkit.RAY_AVAILABLE:
        assert f"[RAY] {audit}" in result.stdout
        assert "[RAY] parallel_map: 100 results, sum 328350" in result.stdout
        assert "[RAY] cluster: nodes=1" in result.stdout
    # Load Testing: 1000 real request/replies, done long before the 30 s ramp would end.
    assert "Throughput: " in result.stdout
    assert " req/s\nLatency p95: " in result.stdout
    assert "ms\nError rate: 0.0%\n" in result.stdout
    assert "Load test: 1000 requests, 1000 answered by the scorer" in result.stdout
    assert "!! " not in result.stdout  # the line main() prints for a failed block
