"""DistributedEngine, the guide's facade, in LOCAL and RAY mode."""

from __future__ import annotations

import asyncio
import contextvars
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

import agentkit.execution
import agentkit.execution._engine
from agentkit import (
    ConfigurationError,
    DistributedEngine,
    ExecutionError,
    ExecutionMode,
    LocalExecutor,
    MissingExtraError,
    PluginManager,
    TaskFailedError,
    TaskNotFoundError,
    TaskState,
    TaskTimeoutError,
    hookimpl,
)
from agentkit.testing import VirtualClock

MODES = [
    pytest.param(ExecutionMode.LOCAL, id="local"),
    pytest.param(ExecutionMode.RAY, id="ray", marks=[pytest.mark.ray, pytest.mark.timeout(120)]),
]


def audit_task(payload: dict[str, Any]) -> dict[str, Any]:
    """The guide's named task: report on the payload."""
    return {"agent_id": payload["agent_id"], "words": len(payload["prompt"].split())}


@pytest.fixture(params=MODES)
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[DistributedEngine]:
    """An initialised engine in each mode (RAY mode joins the session's Ray)."""
    if request.param is ExecutionMode.RAY:
        ray = request.getfixturevalue("ray_cluster")
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    async with DistributedEngine(mode=request.param, backoff_base=0.01) as engine:
        yield engine


async def test_guide_flow(engine: DistributedEngine) -> None:
    """The guide's example: submit a named task, wait for it, map a lambda, read the stats."""
    engine.register_task("audit_task", audit_task)
    task_id = await engine.submit_task(
        "audit_task", {"agent_id": "agent-001", "prompt": "Analyze this"}, max_attempts=3
    )
    result = await engine.wait_for_task(task_id, timeout_seconds=30)
    assert result == {"agent_id": "agent-001", "words": 2}
    assert await engine.parallel_map(lambda x: x * x, list(range(100))) == [
        x * x for x in range(100)
    ]
    stats = engine.get_cluster_stats()
    assert stats["mode"] == str(engine.mode)
    assert stats["resources"]["CPU"] >= 1
    assert "available_resources" in stats
    assert stats["nodes"] == 1
    assert stats["tasks"]["succeeded"] >= 2
    assert stats["registered_tasks"] == ["audit_task"]


async def test_decorator_registers_tasks(engine: DistributedEngine) -> None:
    """``@engine.task`` and ``@engine.task("name")`` register functions under a name."""

    @engine.task
    def double(payload: int) -> int:
        return payload * 2

    @engine.task("triple-it")
    async def triple(payload: int) -> int:
        return payload * 3

    assert double(2) == 4
    assert engine.registered_tasks == ["double", "triple-it"]
    first = await engine.submit_task("double", 5)
    second = await engine.submit_task("triple-it", 5)
    assert await engine.wait_for_task(first) == 10
    assert await engine.wait_for_task(second) == 15


async def test_closures_work(engine: DistributedEngine) -> None:
    """A closure over local state works as a map function and as a registered task."""
    base = {"greeting": "hello"}
    engine.register_task("greet", lambda name: f"{base['greeting']} {name}")
    task_id = await engine.submit_task("greet", "ray")
    assert await engine.wait_for_task(task_id) == "hello ray"
    assert await engine.parallel_map(lambda n: f"{base['greeting']}{n}", [1, 2]) == [
        "hello1",
        "hello2",
    ]


async def test_failing_task_reports_every_attempt(engine: DistributedEngine) -> None:
    """A task failing every time raises TaskFailedError after max_attempts attempts."""
    engine.register_task("broken", lambda payload: 1 // payload)
    task_id = await engine.submit_task("broken", 0, max_attempts=2)
    with pytest.raises(TaskFailedError) as caught:
        await engine.wait_for_task(task_id)
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    outcome = await engine.get_task_result(task_id)
    assert outcome.state is TaskState.FAILED
    assert len(outcome.attempts) == 2


async def test_wait_timeout_leaves_task_running(engine: DistributedEngine) -> None:
    """wait_for_task's timeout raises TaskTimeoutError; the task runs on and can be cancelled."""
    engine.register_task("nap", _nap)
    task_id = await engine.submit_task("nap", 30.0)
    with pytest.raises(TaskTimeoutError):
        await engine.wait_for_task(task_id, timeout_seconds=0.1)
    assert not engine.get_task_state(task_id).is_final
    assert await engine.cancel_task(task_id)
    assert engine.get_task_state(task_id) is TaskState.CANCELLED


def _nap(seconds: float) -> str:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return "rested"


async def test_actor_keeps_state(engine: DistributedEngine) -> None:
    """An actor made by the engine keeps its state between awaited calls."""

    class Tally:
        def __init__(self, start: int) -> None:
            self.total = start

        def add(self, amount: int) -> int:
            self.total += amount
            return self.total

    tally = await engine.create_actor(Tally, 5)
    assert await tally.add(1) == 6
    assert await tally.add(4) == 10


async def test_unknown_and_bad_task_names(engine: DistributedEngine) -> None:
    """Submitting an unregistered name raises TaskNotFoundError; bad names are refused."""
    with pytest.raises(TaskNotFoundError, match="nothing-here"):
        await engine.submit_task("nothing-here", {})
    with pytest.raises(ConfigurationError):
        engine.register_task("has space", audit_task)
    with pytest.raises(ConfigurationError):
        engine.register_task("fine", "not callable")  # type: ignore[arg-type]
    engine.register_task("audit_task", audit_task)
    engine.register_task("audit_task", audit_task)  # the same function again: fine
    with pytest.raises(ConfigurationError, match="different function"):
        engine.register_task("audit_task", _nap)
    engine.register_task("audit_task", _nap, replace=True)


async def test_local_pool_settings_reach_the_executor() -> None:
    """min_workers/max_workers configure the local worker pool."""
    async with DistributedEngine(min_workers=1, max_workers=3) as engine:
        assert isinstance(engine.executor, LocalExecutor)
        assert await engine.parallel_map(abs, [-1, -2]) == [1, 2]
        stats = engine.get_cluster_stats()
        assert stats["max_workers"] == 3
        assert stats["workers"] >= 1


async def test_engine_after_shutdown() -> None:
    """After shutdown the engine refuses work; shutdown twice is harmless."""
    engine = DistributedEngine(mode="local")
    engine.register_task("audit_task", audit_task)
    await engine.shutdown()
    await engine.shutdown()
    with pytest.raises(ExecutionError):
        await engine.submit_task("audit_task", {})
    with pytest.raises(ExecutionError):
        engine.initialize()


def test_mode_no_plugin_answers() -> None:
    """A well-formed mode no executor plugin answers raises ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match="no executor for mode 'spark'"):
        DistributedEngine(mode="spark")


@pytest.mark.parametrize("mode", ["", "9lives", "a b", "x" * 65, "über", 3, None])
def test_malformed_mode(mode: Any) -> None:
    """A mode that is not a plugin mode name raises ConfigurationError listing the modes."""
    with pytest.raises(ConfigurationError, match="'local', 'ray'"):
        DistributedEngine(mode=mode)


def test_ray_mode_without_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ray installed, RAY mode raises MissingExtraError with the pip line."""
    monkeypatch.setattr(agentkit.execution._engine, "ray_available", lambda: False)
    with pytest.raises(MissingExtraError, match=r"pip install 'agentkit-kernel\[ray\]'"):
        DistributedEngine(mode=ExecutionMode.RAY)


def test_ray_mode_with_the_plugin_disabled() -> None:
    """With the ray plugin disabled, RAY mode says which plugin is inactive and why."""
    plugins = PluginManager(disabled=["ray"])
    with pytest.raises(ConfigurationError, match="plugin 'ray' is inactive"):
        DistributedEngine(mode=ExecutionMode.RAY, plugins=plugins)


def test_ray_mode_comes_from_the_plugin_hook() -> None:
    """RAY mode's executor is the ray plugin's answer to agentkit_make_executor."""
    from agentkit_ray import RayExecutor

    engine = DistributedEngine(mode=ExecutionMode.RAY, num_cpus=2)
    assert isinstance(engine.executor, RayExecutor)
    assert engine.executor.num_cpus == 2


def test_local_mode_comes_from_the_core_hook() -> None:
    """LOCAL mode's executor is core's hook answer, built with the engine's pool options."""
    clock = VirtualClock()
    engine = DistributedEngine(
        plugins=PluginManager(entry_points=False), max_workers=2, idle_timeout=5.0, clock=clock
    )
    assert isinstance(engine.executor, LocalExecutor)
    assert (engine.executor.max_workers, engine.executor.idle_timeout) == (2, 5.0)
    assert engine.executor.clock is clock


def test_a_plugin_answering_local_mode_comes_before_core() -> None:
    """A plugin's agentkit_make_executor answer for "local" wins over core's."""
    mine = LocalExecutor(max_workers=1)

    class LocalOverride:
        @hookimpl
        def agentkit_make_executor(self, mode: str, options: dict[str, Any]) -> Any:
            return mine if mode == "local" else None

    plugins = PluginManager(entry_points=False)
    plugins.pluggy_manager.register(LocalOverride(), name="local-override")
    assert DistributedEngine(plugins=plugins).executor is mine


def test_import_agentkit_does_not_import_ray() -> None:
    """RAY_AVAILABLE is known after ``import agentkit`` without ray being imported."""
    code = "import sys, agentkit; print(agentkit.RAY_AVAILABLE, 'ray' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["True", "False"]


async def test_engine_runs_coroutine_tasks_concurrently() -> None:
    """LOCAL mode runs coroutine tasks on the loop, side by side."""
    started = asyncio.Event()
    release = asyncio.Event()

    async def first(_: object) -> str:
        started.set()
        await release.wait()
        return "first"

    async def second(_: object) -> str:
        await started.wait()
        release.set()
        return "second"

    async with DistributedEngine() as engine:
        engine.register_task("first", first)
        engine.register_task("second", second)
        ids = [await engine.submit_task("first", None), await engine.submit_task("second", None)]
        assert [await engine.wait_for_task(task_id, 5) for task_id in ids] == ["first", "second"]


def other_task(payload: Any) -> Any:
    """A second named task for the default_tasks tests."""
    return payload


async def test_default_tasks_handle_resets() -> None:
    """default_tasks returns a handle whose reset() puts back what was there; a second reset
    does nothing."""
    handle = agentkit.execution.default_tasks({"audit_task": audit_task})
    assert DistributedEngine().registered_tasks == ["audit_task"]
    assert dict(handle.tasks) == {"audit_task": audit_task}
    handle.reset()
    handle.reset()
    assert DistributedEngine().registered_tasks == []


async def test_default_tasks_as_context_manager_nests() -> None:
    """Nested ``with default_tasks(...)`` blocks each undo only their own setting."""
    with agentkit.execution.default_tasks({"audit_task": audit_task}):
        with agentkit.execution.default_tasks({"other_task": other_task}):
            assert DistributedEngine().registered_tasks == ["other_task"]
        assert DistributedEngine().registered_tasks == ["audit_task"]
    assert DistributedEngine().registered_tasks == []


async def test_default_tasks_reset_elsewhere_is_a_configuration_error() -> None:
    """Resetting from another context than the one that set the tasks is a ConfigurationError."""
    handle = agentkit.execution.default_tasks({"audit_task": audit_task})

    async def elsewhere() -> None:
        handle.reset()

    with pytest.raises(ConfigurationError, match="another context"):
        await asyncio.create_task(elsewhere(), context=contextvars.Context())
    handle.reset()
    assert DistributedEngine().registered_tasks == []
