"""Hook implementations of the ``ray`` plugin: the ``"ray"`` executor and its health check.

This module is imported when the plugin is activated, so it must stay cheap: ray is imported
inside the hooks, never here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentkit.hookspecs import hookimpl

if TYPE_CHECKING:
    from agentkit.protocols import Executor
    from agentkit.reliability import HealthProbe, HealthReport
    from agentkit_ray._executor import RayExecutor

__all__ = ["RAY_CHECK_TIMEOUT", "agentkit_health_checks", "agentkit_make_executor"]


@hookimpl
def agentkit_make_executor(mode: str, options: Mapping[str, Any]) -> Executor | None:
    """Return a :class:`~agentkit_ray.RayExecutor` for mode ``"ray"``, None for any other mode.

    *options* are the ``RayExecutor`` keyword arguments (``address``, ``num_cpus``, ...). The
    executor is not started here: ray is imported when it starts.
    """
    if mode != "ray":
        return None
    from agentkit_ray._executor import RayExecutor

    return RayExecutor(**options)


#: How long the Ray cluster check may take (it asks the GCS for the node table), in seconds.
RAY_CHECK_TIMEOUT = 10.0


@hookimpl
def agentkit_health_checks(executor: Executor | None) -> list[HealthProbe] | None:
    """Probe ``ray`` for a :class:`~agentkit_ray.RayExecutor`: its cluster and live nodes.

    An executor not started yet is healthy (it starts on first use); a shut-down one, a Ray
    that is no longer initialized or a cluster without a live node is not. Other executors
    get no probe here.
    """
    from agentkit.reliability import HealthProbe
    from agentkit_ray._executor import RayExecutor

    if not isinstance(executor, RayExecutor):
        return None
    return [
        HealthProbe("ray", _RayCheck(executor), kind="executor", timeout_seconds=RAY_CHECK_TIMEOUT)
    ]


class _RayCheck:
    """Asks Ray, in a thread (its calls block), how many nodes are alive."""

    def __init__(self, executor: RayExecutor) -> None:
        self.executor = executor
        self._asking: asyncio.Future[Any] | None = None

    def __repr__(self) -> str:
        return f"<Ray cluster check {self.executor!r}>"

    async def __call__(self) -> HealthReport:
        from agentkit.reliability import HealthReport

        executor = self.executor
        where = executor.address or "this machine"
        if executor._closed:
            return HealthReport(False, "the executor was shut down", error_type="ExecutionError")
        ray = executor._ray
        if ray is None:
            return HealthReport(True, f"not started yet (starts Ray at {where} on first use)")
        if self._asking is not None and not self._asking.done():
            # A thread cannot be cancelled: while the last question still hangs, ask no other.
            return HealthReport(
                False,
                "the previous Ray check still waits for the cluster",
                error_type="TimeoutError",
            )
        self._asking = asyncio.ensure_future(asyncio.to_thread(_alive_nodes, ray))
        initialized, alive, total, cpus = await asyncio.shield(self._asking)
        details = {"address": where, "alive_nodes": alive, "nodes": total, "cpus": cpus}
        if not initialized:
            return HealthReport(
                False, "Ray is not initialized", details, error_type="ExecutionError"
            )
        if alive == 0:
            return HealthReport(False, "no Ray node is alive", details, error_type="ExecutionError")
        return HealthReport(True, f"{alive} of {total} Ray nodes alive at {where}", details)


def _alive_nodes(ray: Any) -> tuple[bool, int, int, float]:
    if not ray.is_initialized():
        return False, 0, 0, 0.0
    nodes = ray.nodes()
    alive = sum(1 for node in nodes if node.get("Alive"))
    cpus = float(ray.cluster_resources().get("CPU", 0.0))
    return True, alive, len(nodes), cpus
