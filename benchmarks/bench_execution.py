"""Execution beside raw Ray: per-task overhead and parallel_map over many small items.

Each figure is an agentkit side and an anchor doing the same work, **interleaved in rounds**
in one process (``_interleave``): medians, the spread over rounds and the per-round ratio are
printed (run with ``-s``) and ``conftest.py`` tables them. One local Ray (2 CPUs, no dashboard,
300 MB object store) serves the module; it is shut down when the pytest session ends.
Under ``--benchmark-disable`` each benchmark runs once on smaller counts (a smoke test).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from _interleave import Side, report, run_interleaved, timing
from _util import rounds

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


# -- 1. per-task overhead: DistributedEngine vs raw ray.get -------------------------------


def test_task_overhead(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    ray_module: Any,
    ray_engine: DistributedEngine,
) -> None:
    """submit_task + wait_for_task for 500 tiny tasks in RAY mode and the raw
    ``ray.get([f.remote(i) for i in range(500)])``, interleaved; every result correct."""
    remote_work = ray_module.remote(work)
    expected = [i + 1 for i in range(TASKS)]

    async def engine_run() -> int:
        ids = [await ray_engine.submit_task("work", i, 1) for i in range(TASKS)]
        results = [await ray_engine.wait_for_task(task_id) for task_id in ids]
        assert results == expected
        return len(results)

    async def raw_run() -> int:
        results = ray_module.get([remote_work.remote(i) for i in range(TASKS)])
        assert results == expected
        return len(results)

    times = run_interleaved(
        benchmark,
        bench_loop,
        {"engine": timing(engine_run, TASKS), "raw": timing(raw_run, TASKS)},
        rounds(10),
    )
    if times is not None:
        report(
            pytestconfig,
            OVERHEAD,
            Side("engine", "agentkit", "DistributedEngine(RAY) submit_task/wait_for_task", TASKS),
            Side("raw", "anchor", "raw ray.get([f.remote(i) ...])", TASKS),
            times,
            target=1 / 1.2,
            unit="task",
        )


# -- 2. parallel_map of 10,000 small items: LOCAL and RAY vs one Ray task per item --------


def test_parallel_map(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    ray_module: Any,
    ray_engine: DistributedEngine,
) -> None:
    """``parallel_map(lambda x: x + 1, items)`` in LOCAL and RAY mode and the naive Ray loop
    (one task per item), interleaved; each returns every result, in order."""
    items = list(range(ITEMS if benchmark.enabled else SMOKE_ITEMS))
    expected = [x + 1 for x in items]
    local = DistributedEngine()
    remote_work = ray_module.remote(work)
    offset = 1

    def mapping(engine: DistributedEngine) -> Any:
        async def run() -> int:
            results = await engine.parallel_map(lambda x: x + offset, items)
            assert results == expected
            return len(results)

        return run

    async def naive_run() -> int:
        results = ray_module.get([remote_work.remote(x) for x in items])
        assert results == expected
        return len(results)

    try:
        times = run_interleaved(
            benchmark,
            bench_loop,
            {
                "LOCAL": timing(mapping(local), len(items)),
                "RAY": timing(mapping(ray_engine), len(items)),
                "naive": timing(naive_run, len(items)),
            },
            rounds(3),
        )
    finally:
        bench_loop.run_until_complete(local.shutdown())
    if times is None:
        return
    naive = Side("naive", "anchor", "naive Ray loop, one task per item", len(items))
    for mode in ("LOCAL", "RAY"):
        report(
            pytestconfig,
            f"{MAP}, {mode}",
            Side(mode, "agentkit", f"DistributedEngine({mode}).parallel_map", len(items)),
            naive,
            times,
            unit="item",
        )
