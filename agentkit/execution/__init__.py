"""Execution: the :class:`DistributedEngine`, the local executor, and the executor kit.

Users take the engine from the package root. An executor plugin (agentkit-ray is one, built
as a third party would build one) implements :class:`agentkit.protocols.Executor` on this kit:
:class:`TaskTable` and :class:`TaskRecord` (task ids, states, attempts, results, waiting),
:class:`ActorHandleBase` and :func:`validate_actor_class`, :func:`validate_task_options`,
:func:`task_name`, :func:`describe_error`, :func:`new_task_id` and :func:`backoff_delay`; it
checks itself with :class:`agentkit.testing.ExecutorConformance` and is offered through the
``agentkit_make_executor`` hook.
"""

from __future__ import annotations

from agentkit.execution._actor_handle import ActorHandleBase, validate_actor_class
from agentkit.execution._engine import DefaultTasks, DistributedEngine, default_tasks
from agentkit.execution._local import LocalActorHandle, LocalExecutor
from agentkit.execution._task_table import (
    TaskRecord,
    TaskTable,
    describe_error,
    task_name,
    validate_task_options,
)
from agentkit.execution._types import (
    RAY_AVAILABLE,
    ExecutionMode,
    TaskAttempt,
    TaskResult,
    TaskState,
    backoff_delay,
    new_task_id,
    ray_available,
)

__all__ = [
    "ActorHandleBase",
    "DefaultTasks",
    "DistributedEngine",
    "ExecutionMode",
    "LocalActorHandle",
    "LocalExecutor",
    "RAY_AVAILABLE",
    "TaskAttempt",
    "TaskRecord",
    "TaskResult",
    "TaskState",
    "TaskTable",
    "backoff_delay",
    "default_tasks",
    "describe_error",
    "new_task_id",
    "ray_available",
    "task_name",
    "validate_actor_class",
    "validate_task_options",
]
