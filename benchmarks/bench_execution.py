"""Execution beside raw Ray: per-task overhead and parallel_map over many small items.

Each figure is an agentkit benchmark and an anchor doing the same work in the same run;
``conftest.py`` prints them paired with the ratio. One local Ray (2 CPUs, no dashboard,
300 MB object store) serves the module; it is shut down when the pytest session ends.
Under ``--benchmark-disable`` each benchmark runs once on smaller counts (a smoke test).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from _util import measure, record, rounds

from agentkit import DistributedEngine, ExecutionMode

pytestmark = [pytest.mark.ray, pytest.mark.timeout(600)]

#: Tasks per round of the overhead figure.
TASKS = 500
#: Items per round of the map figure (the smoke test maps fewer).
ITEMS = 10_000
SMOKE_ITEMS = 1_000

OVERHEAD = "Ray per-task overhead"
MAP = "parallel_map of small items"


def work(x: int) -> int:
    """The unit of work: tiny, so what is measured is the cost of running a task."""
    return x + 1


@pytest.fixture(scope="module")
def ray_module(pytestconfig: pytest.Config) -> Any:
    """The session's local Ray (started here if needed, shut down when the session ends)."""
    import sys

    from agentkit.testing._executor_suite import ensure_local_ray

    ray, started = ensure_local_ray(num_cpus=2, object_store_mb=300)
    if started:
        pytestconfig.add_cleanup(ray.shutdown)
    # Workers cannot import this module (benchmarks/ is not a package): ship it by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # Start the worker processes before any figure is timed, so neither side pays for it.
    warm = ray.remote(work)
    ray.get([warm.remote(i) for i in range(2 * TASKS)])
    return ray


@pytest.fixture(scope="module")
def ray_engine(ray_module: Any, bench_loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """A RAY-mode engine on the module's Ray, with ``work`` registered."""
    engine = DistributedEngine(mode=ExecutionMode.RAY)
    engine.initialize()
    engine.register_task("work", work)
    yield engine
    bench_loop.run_until_complete(engine.shutdown())


class Work:
    """A round: an async callable doing the work, counting what completed."""

    def __init__(self, run: Any) -> None:
        self._run = run

    async def run(self) -> int:
        count: int = await self._run()
        return count

    async def close(self) -> None:
        return None


def _make(run: Any) -> Any:
    async def make_round() -> Work:
        return Work(run)

    return make_round


# -- 1. per-task overhead: DistributedEngine vs raw ray.get -------------------------------


def test_engine_tasks(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    ray_engine: DistributedEngine,
) -> None:
    """submit_task + wait_for_task for 500 tiny tasks in RAY mode; every result correct."""

    async def run() -> int:
        ids = [await ray_engine.submit_task("work", i, 1) for i in range(TASKS)]
        results = [await ray_engine.wait_for_task(task_id) for task_id in ids]
        assert results == [i + 1 for i in range(TASKS)]
        return len(results)

    measure(benchmark, bench_loop, _make(run), expected=TASKS, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=OVERHEAD,
        role="agentkit",
        label="DistributedEngine(RAY) submit_task/wait_for_task",
        operations=TASKS,
        unit="tasks",
        target=1 / 1.2,
    )


def test_raw_ray_tasks(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    ray_module: Any,
) -> None:
    """The anchor: ``ray.get([f.remote(i) for i in range(500)])`` for the same function."""
    remote_work = ray_module.remote(work)

    async def run() -> int:
        results = ray_module.get([remote_work.remote(i) for i in range(TASKS)])
        assert results == [i + 1 for i in range(TASKS)]
        return len(results)

    measure(benchmark, bench_loop, _make(run), expected=TASKS, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=OVERHEAD,
        role="anchor",
        label="raw ray.get([f.remote(i) ...])",
        operations=TASKS,
        unit="tasks",
    )


# -- 2. parallel_map of 10,000 small items: LOCAL and RAY vs one Ray task per item --------


def _items(benchmark: Any) -> list[int]:
    return list(range(ITEMS if benchmark.enabled else SMOKE_ITEMS))


@pytest.mark.parametrize("mode", [ExecutionMode.LOCAL, ExecutionMode.RAY], ids=str)
def test_engine_parallel_map(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    ray_engine: DistributedEngine,
    mode: ExecutionMode,
) -> None:
    """``parallel_map(lambda x: x + 1, items)`` returns every result, in order."""
    items = _items(benchmark)
    engine = ray_engine if mode is ExecutionMode.RAY else DistributedEngine()
    offset = 1

    async def run() -> int:
        results = await engine.parallel_map(lambda x: x + offset, items)
        assert results == [x + 1 for x in items]
        return len(results)

    try:
        measure(benchmark, bench_loop, _make(run), expected=len(items), rounds=rounds(5))
    finally:
        if engine is not ray_engine:
            bench_loop.run_until_complete(engine.shutdown())
    record(
        benchmark,
        pytestconfig,
        figure=MAP,
        role="agentkit",
        label=f"DistributedEngine({mode.name}).parallel_map",
        operations=len(items),
        unit="tasks",
    )


def test_naive_ray_map(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    ray_module: Any,
) -> None:
    """The anchor: one Ray task per item, ``ray.get([f.remote(x) for x in items])``."""
    items = _items(benchmark)
    remote_work = ray_module.remote(work)

    async def run() -> int:
        results = ray_module.get([remote_work.remote(x) for x in items])
        assert results == [x + 1 for x in items]
        return len(results)

    measure(benchmark, bench_loop, _make(run), expected=len(items), rounds=rounds(3))
    record(
        benchmark,
        pytestconfig,
        figure=MAP,
        role="anchor",
        label="naive Ray loop, one task per item",
        operations=len(items),
        unit="tasks",
    )
