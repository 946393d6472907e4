"""``DistributedEngine``: the Enterprise Features Guide's facade over an executor.

The executor is local, or Ray through a plugin.
"""

from __future__ import annotations

import contextvars
import re
import types
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from agentkit.exceptions import (
    ConfigurationError,
    ExecutionError,
    MissingExtraError,
    TaskNotFoundError,
)
from agentkit.execution._types import ExecutionMode, TaskResult, TaskState, ray_available
from agentkit.protocols import ActorHandle, Clock, Executor

if TYPE_CHECKING:
    from agentkit.plugins import PluginManager

__all__ = ["DefaultTasks", "DistributedEngine", "default_tasks"]

F = TypeVar("F", bound=Callable[..., Any])

_MODE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_TASK_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")

_DEFAULT_TASKS: contextvars.ContextVar[Mapping[str, Callable[..., Any]]] = contextvars.ContextVar(
    "agentkit_default_tasks", default=types.MappingProxyType({})
)


class DefaultTasks:
    """The handle :func:`default_tasks` returns: undo the setting with :meth:`reset`, or use
    it as a context manager (``with default_tasks({...}):``) to undo it on leaving the block.
    """

    __slots__ = ("_reset", "_token")

    def __init__(self, token: contextvars.Token[Mapping[str, Callable[..., Any]]]) -> None:
        self._token = token
        self._reset = False

    @property
    def tasks(self) -> Mapping[str, Callable[..., Any]]:
        """The default tasks in force in the current context (read-only)."""
        return _DEFAULT_TASKS.get()

    def reset(self) -> None:
        """Put back the default tasks that were in force before; a second call does nothing.

        Raises:
            ConfigurationError: called from another context than the one that set them.
        """
        if self._reset:
            return
        try:
            _DEFAULT_TASKS.reset(self._token)
        except ValueError as exc:
            raise ConfigurationError(
                "default_tasks(...) was set in another context; reset it where it was set"
            ) from exc
        self._reset = True

    def __enter__(self) -> DefaultTasks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.reset()


def default_tasks(tasks: Mapping[str, Callable[..., Any]], /) -> DefaultTasks:
    """Name tasks that every ``DistributedEngine`` created later *in this context* starts with.

    The setting is a context variable: it holds for the calling coroutine (and tasks it
    starts), not for the whole process. Returns a :class:`DefaultTasks` handle: call its
    ``reset()`` or use it in a ``with`` block to undo the setting; usually there is no need.
    """
    return DefaultTasks(_DEFAULT_TASKS.set(types.MappingProxyType(dict(tasks))))


class DistributedEngine:
    """Runs named tasks, parallel maps and actors on an executor chosen by *mode*.

    The executor comes from the plugins' ``agentkit_make_executor`` hook.
    ``ExecutionMode.LOCAL`` gets core's :class:`~agentkit.LocalExecutor`, which runs in this
    process (coroutines on the loop, blocking functions in threads, a worker pool between
    *min_workers* and *max_workers* that follows the queue depth). ``ExecutionMode.RAY`` gets
    the ``ray`` plugin's ``agentkit_ray.RayExecutor`` (``pip install 'agentkit-kernel[ray]'``).

    Args:
        mode: an :class:`ExecutionMode` or its value (``"local"``, ``"ray"``), or the mode
            name of a third-party executor plugin (letters, digits, ``_``, ``-``).
        executor: use this executor instead of making one (any ``Executor``).
        plugins: the plugin manager asked for the executor (default: a new one).
        clock: the time source for retries and deadlines of a local executor.
        min_workers, max_workers, idle_timeout: the local worker pool.
        tasks: named tasks to register at once (on top of :func:`default_tasks`).
        executor_options: more keyword arguments for the executor (for Ray: ``address``,
            ``num_cpus``, ``object_store_memory``, ...).

    Raises:
        MissingExtraError: RAY mode without ray installed (the message has the pip line).
        ConfigurationError: an unknown mode, or no plugin provides one.
    """

    def __init__(
        self,
        mode: ExecutionMode | str = ExecutionMode.LOCAL,
        *,
        executor: Executor | None = None,
        plugins: PluginManager | None = None,
        clock: Clock | None = None,
        min_workers: int = 0,
        max_workers: int | None = None,
        idle_timeout: float = 30.0,
        tasks: Mapping[str, Callable[..., Any]] | None = None,
        **executor_options: Any,
    ) -> None:
        try:
            self.mode: ExecutionMode | str = ExecutionMode(mode)
        except ValueError:
            if not isinstance(mode, str) or not _MODE_NAME.fullmatch(mode):
                choices = ", ".join(repr(m.value) for m in ExecutionMode)
                raise ConfigurationError(
                    f"unknown execution mode {mode!r}; use one of {choices} or the mode name"
                    " of an executor plugin (letters, digits, '_', '-')"
                ) from None
            self.mode = mode  # an executor plugin's own mode
        self._tasks: dict[str, Callable[..., Any]] = {}
        for name, fn in {**_DEFAULT_TASKS.get(), **(tasks or {})}.items():
            self.register_task(name, fn)
        self._initialized = False
        self._closed = False
        if executor is not None:
            self.executor: Executor = executor
        else:
            if self.mode is ExecutionMode.LOCAL:
                executor_options = {
                    "min_workers": min_workers,
                    "max_workers": max_workers,
                    "idle_timeout": idle_timeout,
                    "clock": clock,
                    **executor_options,
                }
            elif clock is not None:
                executor_options["clock"] = clock
            self.executor = self._executor_from_plugins(plugins, executor_options)

    def _executor_from_plugins(
        self, plugins: PluginManager | None, options: dict[str, Any]
    ) -> Executor:
        if self.mode is ExecutionMode.RAY and not ray_available():
            raise MissingExtraError("ExecutionMode.RAY", "ray")
        if plugins is None:
            from agentkit.plugins import PluginManager

            plugins = PluginManager()
        made: Executor | None = plugins.hook.agentkit_make_executor(
            mode=str(self.mode), options=options
        )
        if made is None:
            info = plugins.plugin_info(str(self.mode))
            why = f"plugin {info.name!r} is {info.status}" if info else "no plugin answered"
            if info is not None and info.error:
                why += f" ({info.error})"
            if info is not None and info.install_hint:
                why += f"; {info.install_hint}"
            raise ConfigurationError(f"no executor for mode {str(self.mode)!r}: {why}")
        return made

    def __repr__(self) -> str:
        return f"DistributedEngine(mode={self.mode}, tasks={sorted(self._tasks)})"

    async def __aenter__(self) -> DistributedEngine:
        self.initialize()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    # -- lifecycle -------------------------------------------------------------------------

    def initialize(self) -> None:
        """Start the executor (for Ray: ``ray.init`` or join the cluster). Idempotent.

        Called on first use if you do not call it; call it yourself to pay the start-up
        cost (seconds for a local Ray) up front.
        """
        if self._closed:
            raise ExecutionError("the engine was shut down")
        if not self._initialized:
            start = getattr(self.executor, "start", None)
            if callable(start):
                start()
            self._initialized = True

    async def shutdown(self) -> None:
        """Cancel unfinished tasks and release the executor. Idempotent."""
        if not self._closed:
            self._closed = True
            await self.executor.shutdown()

    # -- named tasks -----------------------------------------------------------------------

    def register_task(self, name: str, fn: Callable[..., Any], *, replace: bool = False) -> None:
        """Make *fn* callable as ``submit_task(name, payload)``; it is called as ``fn(payload)``.

        Raises:
            ConfigurationError: a bad name, a non-callable, or a name taken by another function
                (pass ``replace=True`` to swap it).
        """
        if not isinstance(name, str) or not _TASK_NAME.match(name):
            raise ConfigurationError(
                f"task name {name!r} must be 1-128 letters, digits, '_', '.', ':' or '-'"
            )
        if not callable(fn):
            raise ConfigurationError(f"task {name!r} must be callable, got {type(fn).__name__}")
        existing = self._tasks.get(name)
        if existing is not None and existing is not fn and not replace:
            raise ConfigurationError(f"a different function is registered as {name!r}")
        self._tasks[name] = fn

    @overload
    def task(self, fn: F, /) -> F: ...

    @overload
    def task(self, name: str | None = None, /) -> Callable[[F], F]: ...

    def task(self, fn_or_name: Any = None, /) -> Any:
        """Register a function as a named task: ``@engine.task`` or ``@engine.task("name")``.

        Without a name the function's ``__name__`` is used. The function is returned as is.
        """
        if callable(fn_or_name):
            self.register_task(fn_or_name.__name__, fn_or_name)
            return fn_or_name

        def register(fn: F) -> F:
            self.register_task(fn_or_name or fn.__name__, fn)
            return fn

        return register

    @property
    def registered_tasks(self) -> list[str]:
        """The names of the registered tasks, sorted."""
        return sorted(self._tasks)

    async def submit_task(
        self,
        name: str,
        payload: Any = None,
        max_attempts: int = 3,
        *,
        timeout: float | None = None,
    ) -> str:
        """Start the task registered as *name* with ``fn(payload)``; return its id at once.

        A failed attempt is retried with exponential backoff until *max_attempts* in all.
        *timeout* is the task's own deadline (it then ends TIMED_OUT).

        Raises:
            TaskNotFoundError: nothing is registered as *name*.
        """
        fn = self._tasks.get(name)
        if fn is None:
            known = ", ".join(sorted(self._tasks)) or "none"
            raise TaskNotFoundError(f"no task registered as {name!r} (registered: {known})")
        self._ensure_open()
        return await self.executor.submit(
            fn, payload, max_attempts=max_attempts, timeout=timeout, name=name
        )

    async def wait_for_task(self, task_id: str, timeout_seconds: float | None = 30) -> Any:
        """The task's value, waiting at most *timeout_seconds*.

        Raises:
            TaskTimeoutError: not finished in time (a ``TimeoutError``); the task keeps running.
            TaskFailedError: every attempt raised; ``__cause__`` is the last error.
            TaskCancelledError: the task was cancelled.
            TaskNotFoundError: no task has this id.
        """
        return await self.executor.result(task_id, timeout=timeout_seconds)

    async def get_task_result(self, task_id: str, timeout_seconds: float | None = 30) -> TaskResult:
        """The task's full :class:`TaskResult` (state, value or error, attempts, where)."""
        return await self.executor.wait(task_id, timeout=timeout_seconds)

    def get_task_state(self, task_id: str) -> TaskState:
        """Where the task stands now."""
        return self.executor.state(task_id)

    async def cancel_task(self, task_id: str) -> bool:
        """Cancel the task unless it finished; return whether it was cancelled."""
        return await self.executor.cancel(task_id)

    # -- maps and actors -------------------------------------------------------------------

    async def parallel_map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], *, max_attempts: int = 1
    ) -> list[Any]:
        """``[fn(item) for item in items]`` in parallel, results in input order.

        Lambdas and closures work in both modes (Ray pickles them with cloudpickle). Small
        items are batched into chunks so the cost per item stays low.
        """
        self._ensure_open()
        return await self.executor.map(fn, items, max_attempts=max_attempts)

    async def create_actor(
        self,
        cls: type[Any],
        *args: Any,
        max_restarts: int = 0,
        max_task_retries: int = 0,
        **kwargs: Any,
    ) -> ActorHandle:
        """Start ``cls(*args, **kwargs)`` as a stateful worker; its methods are awaitable.

        With Ray, *max_restarts* restarts an actor whose process died and
        *max_task_retries* retries the call it was running (else the caller gets
        ``TaskFailedError``).
        """
        self._ensure_open()
        return await self.executor.create_actor(
            cls, *args, max_restarts=max_restarts, max_task_retries=max_task_retries, **kwargs
        )

    # -- stats -----------------------------------------------------------------------------

    def get_cluster_stats(self) -> dict[str, Any]:
        """Mode, resources, available resources, nodes and task counts, as a dict."""
        self._ensure_open()
        stats = dict(self.executor.stats())
        stats.pop("executor", None)
        return {
            "mode": str(self.mode),
            "resources": stats.pop("resources", {}),
            "available_resources": stats.pop("available_resources", {}),
            "nodes": stats.pop("nodes", 1),
            "tasks": stats.pop("tasks", {}),
            "registered_tasks": self.registered_tasks,
            **stats,
        }

    def _ensure_open(self) -> None:
        if self._closed:
            raise ExecutionError("the engine was shut down")
        if not self._initialized:
            self.initialize()
