"""Tests that agentkit finds this package as the executor plugin ``inline``."""

from __future__ import annotations

import importlib.metadata

import pytest

from agentkit import DistributedEngine, PluginManager

try:
    importlib.metadata.distribution("agentkit-inline-executor")
    INSTALLED = True
except importlib.metadata.PackageNotFoundError:
    INSTALLED = False

pytestmark = pytest.mark.skipif(not INSTALLED, reason="agentkit-inline-executor is not installed")


async def test_engine_runs_tasks_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin is active and DistributedEngine(mode="inline") runs a named task with it."""
    monkeypatch.delenv("AGENTKIT_DISABLE_PLUGINS", raising=False)
    manager = PluginManager()
    info = manager.plugin_info("inline")
    assert info is not None
    assert info.status == "active", info.error
    async with DistributedEngine(mode="inline", plugins=manager) as engine:
        engine.register_task("double", lambda x: 2 * x)
        task_id = await engine.submit_task("double", 21)
        assert await engine.wait_for_task(task_id) == 42
        assert engine.get_cluster_stats()["mode"] == "inline"
