"""RayExecutor on a real local Ray: the executor conformance suite plus Ray specifics."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentkit import ConfigurationError, PluginManager
from agentkit.testing import ExecutorConformance
from agentkit.testing._executor_suite import ExecutorFactory, within
from agentkit_ray import RayExecutor

pytestmark = [pytest.mark.ray, pytest.mark.timeout(120)]


class TestRayExecutor(ExecutorConformance):
    """RayExecutor keeps the Executor contract."""

    @pytest.fixture
    async def make_executor(self, ray_cluster: Any) -> AsyncIterator[ExecutorFactory]:
        """A factory of Ray executors on the session's Ray, shut down at teardown."""
        made: list[RayExecutor] = []

        async def factory() -> RayExecutor:
            executor = RayExecutor(backoff_base=0.01)
            executor.start()
            made.append(executor)
            return executor

        yield factory
        for executor in made:
            await executor.shutdown()


@pytest.fixture
async def ray_executor(ray_cluster: Any) -> AsyncIterator[RayExecutor]:
    """A Ray executor on the session's Ray; this module's functions are shipped by value.

    Ray workers cannot import test modules (``tests`` is not a package on their path), so
    module-level functions here must be pickled by value, as a user's ``__main__`` would be.
    """
    ray_cluster.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    executor = RayExecutor(backoff_base=0.01)
    executor.start()
    yield executor
    await executor.shutdown()


def _pid_of_worker(_: Any = None) -> int:
    return os.getpid()


async def test_tasks_run_in_ray_worker_processes(ray_executor: RayExecutor) -> None:
    """A task runs in another process, and its result says which node and pid."""
    task_id = await ray_executor.submit(_pid_of_worker)
    pid = await within(ray_executor.result(task_id))
    assert pid != os.getpid()
    outcome = await ray_executor.wait(task_id)
    assert outcome.where.startswith("ray:")
    assert outcome.where.endswith(f":{pid}")


async def test_map_batches_small_items(ray_executor: RayExecutor) -> None:
    """Mapping 1,000 items runs a handful of Ray tasks, not one per item."""
    before = ray_executor.stats()["tasks"]["submitted"]
    values = await within(ray_executor.map(lambda x: x + 1, range(1000)))
    assert values == list(range(1, 1001))
    launched = ray_executor.stats()["tasks"]["submitted"] - before
    assert 1 <= launched <= 16


async def test_map_chunk_size_is_honoured(ray_executor: RayExecutor) -> None:
    """An explicit chunk_size gives ceil(items / chunk_size) Ray tasks."""
    before = ray_executor.stats()["tasks"]["submitted"]
    assert await within(ray_executor.map(str, range(10), chunk_size=3)) == [
        str(n) for n in range(10)
    ]
    assert ray_executor.stats()["tasks"]["submitted"] - before == 4


def test_stats_come_from_ray(ray_executor: RayExecutor) -> None:
    """stats() reports Ray's own resources, available resources and live nodes."""
    stats = ray_executor.stats()
    assert stats["executor"] == "ray"
    assert stats["resources"]["CPU"] == 2
    assert "CPU" in stats["available_resources"] or stats["available_resources"] is not None
    assert stats["nodes"] == 1
    assert len(stats["node_ids"]) == 1


async def test_joined_ray_is_left_running(ray_cluster: Any) -> None:
    """An executor that found Ray running does not shut it down."""
    executor = RayExecutor()
    executor.start()
    await executor.shutdown()
    assert ray_cluster.is_initialized()


def test_plugin_hook_makes_a_ray_executor() -> None:
    """The ray entry-point plugin answers agentkit_make_executor("ray") with a RayExecutor."""
    manager = PluginManager()
    executor = manager.hook.agentkit_make_executor(mode="ray", options={"num_cpus": 1})
    assert isinstance(executor, RayExecutor)
    assert executor.num_cpus == 1
    assert manager.hook.agentkit_make_executor(mode="spark", options={}) is None


@pytest.mark.parametrize(
    "options",
    [{"num_cpus": 0}, {"worker_retries": -1}, {"map_chunk_size": 0}, {"address": " "}],
)
def test_bad_options(options: dict[str, Any]) -> None:
    """Impossible RayExecutor settings raise ConfigurationError before Ray is touched."""
    with pytest.raises(ConfigurationError):
        RayExecutor(**options)


def test_importing_the_plugin_does_not_import_ray() -> None:
    """``import agentkit_ray`` and the plugin module leave ray unimported."""
    code = (
        "import sys, agentkit, agentkit_ray, agentkit_ray._plugin; "
        "print('ray' in sys.modules, agentkit.RAY_AVAILABLE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["False", "True"]
