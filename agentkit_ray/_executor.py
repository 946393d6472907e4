"""The Ray executor: agentkit tasks as Ray remote functions, actors as Ray actors.

ray is imported only when a :class:`RayExecutor` starts, never when this module is imported.

Tracing: with tracing on in the driver (see :mod:`agentkit.observability`), each task's span
context travels with every attempt as a small dict of W3C headers (a reserved keyword
argument the worker-side wrapper takes off before calling the function), and the worker runs
the function inside a span ``ray.task <name>`` whose parent is the driver's ``task <name>``
span, provided the worker process has a tracer provider of its own: give Ray a
``worker_process_setup_hook`` that sets the global one (``runtime_env=`` of
:class:`RayExecutor` or of ``ray.init``). A worker without one runs the function untraced.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import inspect
import itertools
import logging
import os
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from agentkit import SystemClock
from agentkit.exceptions import (
    ConfigurationError,
    ExecutionError,
    MissingExtraError,
    TaskFailedError,
)
from agentkit.execution import (
    ActorHandleBase,
    TaskRecord,
    TaskState,
    TaskTable,
    describe_error,
    new_task_id,
    task_name,
    validate_actor_class,
    validate_task_options,
)
from agentkit.observability import extract_context, inject_context, telemetry
from agentkit.protocols import Clock

__all__ = ["RayActorHandle", "RayExecutor"]

_logger = logging.getLogger(__name__)

#: Object store cap when agentkit starts a local Ray: a quarter of the RAM, at most 2 GiB.
_MAX_OBJECT_STORE = 2 * 1024**3
#: Items per map chunk, at most; a chunk is one Ray task.
_MAX_CHUNK = 4096
#: The keyword argument that carries a traced task's context to the worker (taken off there).
_TRACE_KEY = "__agentkit_trace__"


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise MissingExtraError("the Ray executor", "ray") from exc
    return ray


@functools.cache
def _where() -> str:
    """Where this worker process runs: ``ray:<node id prefix>:<pid>`` (cached per process)."""
    import ray

    return f"ray:{ray.get_runtime_context().get_node_id()[:12]}:{os.getpid()}"


def _run_in_worker(fn: Callable[..., Any]) -> Callable[..., tuple[Any, str]]:
    """Wrap *fn* for a Ray worker: await what it returns if awaitable, say where it ran."""

    def run(*args: Any, **kwargs: Any) -> tuple[Any, str]:
        trace = kwargs.pop(_TRACE_KEY, None)
        if trace is not None:
            return _traced(trace, call, args, kwargs)
        return call(*args, **kwargs)

    def call(*args: Any, **kwargs: Any) -> tuple[Any, str]:
        value = fn(*args, **kwargs)
        if inspect.isawaitable(value):
            value = asyncio.run(_awaited(value))
        return value, _where()

    run.__name__ = run.__qualname__ = call.__name__ = call.__qualname__ = task_name(fn)
    return run


def _run_chunk_in_worker(fn: Callable[[Any], Any]) -> Callable[[list[Any]], tuple[Any, str]]:
    """Wrap *fn* to map a whole chunk of items in one Ray task."""

    def run(items: list[Any], **kwargs: Any) -> tuple[Any, str]:
        trace = kwargs.pop(_TRACE_KEY, None)
        if trace is not None:
            return _traced(trace, call, (items,), {})
        return call(items)

    def call(items: list[Any]) -> tuple[list[Any], str]:
        values = [fn(item) for item in items]
        if any(inspect.isawaitable(value) for value in values):
            values = asyncio.run(_awaited_all(values))
        return values, _where()

    run.__name__ = run.__qualname__ = call.__name__ = call.__qualname__ = f"map:{task_name(fn)}"
    return run


def _traced(
    trace: Mapping[str, Any],
    call: Callable[..., tuple[Any, str]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[Any, str]:
    """Run *call* in a span ``ray.task <name>`` under the driver's context in *trace*.

    Without a tracer provider in this worker process the call runs untraced.
    """
    telemetry.refresh()
    tracer = telemetry.tracer
    if tracer is None:
        return call(*args, **kwargs)
    from opentelemetry.trace import SpanKind, Status, StatusCode

    with tracer.start_as_current_span(
        f"ray.task {trace['name']}",
        context=extract_context(trace["headers"]),
        kind=SpanKind.INTERNAL,
        attributes={
            "agentkit.executor": "ray",
            "agentkit.task.id": trace["task_id"],
            "agentkit.task.name": trace["name"],
            "agentkit.task.attempt": trace["attempt"],
            "agentkit.task.where": _where(),
        },
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            return call(*args, **kwargs)
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__name__)
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


async def _awaited(value: Awaitable[Any]) -> Any:
    return await value


async def _awaited_all(values: list[Any]) -> list[Any]:
    return [await value if inspect.isawaitable(value) else value for value in values]


def _default_object_store() -> int | None:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return int(min(_MAX_OBJECT_STORE, total // 4))


class _RayTask(TaskRecord):
    """The Ray executor's record of one task: the record plus its Ray function and ref."""

    __slots__ = ("attempt_started", "ref", "remote", "started_at")

    def __init__(
        self,
        task_id: str,
        name: str,
        remote: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        max_attempts: int,
        submitted_at: float,
        done: asyncio.Future[None],
    ) -> None:
        super().__init__(task_id, name, args, kwargs, max_attempts, submitted_at, done)
        self.remote = remote
        self.ref: Any = None
        self.attempt_started = self.started_at = 0.0

    def forget_payload(self) -> None:
        super().forget_payload()
        self.remote = self.ref = None


class RayExecutor(TaskTable[_RayTask]):
    """Runs agentkit tasks on Ray: locally (``ray.init(num_cpus=...)``) or at an address.

    Args:
        address: None starts (or joins) a Ray on this machine; ``"auto"`` joins the cluster
            this machine belongs to; ``"ray://host:10001"`` connects through Ray Client.
        num_cpus: CPUs a local Ray may use (ignored with an address).
        object_store_memory: bytes for a local object store; by default a quarter of the RAM,
            at most 2 GiB, so a small machine keeps memory for everything else.
        include_dashboard, log_to_driver, namespace, runtime_env: passed to ``ray.init``.
        worker_retries: how often Ray itself re-runs a task whose worker process died
            (Ray's ``max_retries``); application errors are retried by ``max_attempts``.
        backoff_base, backoff_max: the exponential backoff between attempts, in seconds.
        map_chunk_size: items per Ray task in :meth:`map`; by default about four chunks per
            CPU, so per-task overhead does not dominate small items.
        keep_finished: how many finished tasks :meth:`wait` can still find.
        clock: the time source for backoff and deadlines.
        init_options: anything else for ``ray.init``.

    If Ray is already initialised in this process the executor uses it and leaves it running
    at :meth:`shutdown`; a Ray it started itself is shut down there. :meth:`cancel`, a task's
    deadline and :meth:`shutdown` interrupt a running task with ``ray.cancel``.

    With tracing on, each task has a span ``task <name>`` in the driver and each attempt a
    child span ``ray.task <name>`` in its worker (see the module's notes on worker providers).
    """

    executor_kind = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        num_cpus: int | None = None,
        object_store_memory: int | None = None,
        include_dashboard: bool = False,
        log_to_driver: bool = True,
        namespace: str | None = None,
        runtime_env: Mapping[str, Any] | None = None,
        worker_retries: int = 3,
        backoff_base: float = 0.1,
        backoff_max: float = 30.0,
        map_chunk_size: int | None = None,
        keep_finished: int = 10_000,
        clock: Clock | None = None,
        init_options: Mapping[str, Any] | None = None,
    ) -> None:
        if num_cpus is not None and num_cpus < 1:
            raise ConfigurationError(f"num_cpus must be >= 1, got {num_cpus}")
        if worker_retries < 0 or backoff_base < 0 or backoff_max < 0 or keep_finished < 0:
            raise ConfigurationError("worker_retries, backoff and keep_finished must be >= 0")
        if map_chunk_size is not None and map_chunk_size < 1:
            raise ConfigurationError(f"map_chunk_size must be >= 1, got {map_chunk_size}")
        if address is not None and not address.strip():
            raise ConfigurationError("address must be None, 'auto', 'ray://host:port' or host:port")
        super().__init__(
            clock=clock or SystemClock(),
            keep_finished=keep_finished,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
        )
        self.address = address
        self.num_cpus = num_cpus
        self.object_store_memory = object_store_memory
        self.worker_retries = worker_retries
        self.map_chunk_size = map_chunk_size
        self._init_options: dict[str, Any] = {
            "include_dashboard": include_dashboard,
            "log_to_driver": log_to_driver,
            **({"namespace": namespace} if namespace else {}),
            **({"runtime_env": dict(runtime_env)} if runtime_env else {}),
            **dict(init_options or {}),
        }
        self._ray: Any = None
        self._owns_ray = False
        self._remotes: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._actors: list[RayActorHandle] = []
        self._actor_ids = itertools.count(1)
        self._inbox: collections.deque[tuple[_RayTask, Any, concurrent.futures.Future[Any]]] = (
            collections.deque()
        )
        self._wakeup_pending = False

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, started={self._ray is not None})"

    async def __aenter__(self) -> RayExecutor:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Import ray and start or join it (idempotent; called on first use otherwise).

        Raises:
            MissingExtraError: ray is not installed.
            ExecutionError: Ray could not be started or reached.
        """
        self._check_open()
        if self._ray is not None:
            return
        ray = _import_ray()
        if not ray.is_initialized():
            options = dict(self._init_options)
            if self.address is None:
                if self.num_cpus is not None:
                    options.setdefault("num_cpus", self.num_cpus)
                store = self.object_store_memory or _default_object_store()
                if store:
                    options.setdefault("object_store_memory", store)
            else:
                options["address"] = self.address
            try:
                ray.init(**options)
            except Exception as exc:
                where = self.address or "this machine"
                raise ExecutionError(f"could not start or reach Ray at {where}: {exc}") from exc
            self._owns_ray = True
        self._ray = ray

    async def shutdown(self) -> None:
        """Cancel unfinished tasks, kill this executor's actors, stop a Ray it started."""
        if not self._close_table():
            return
        for actor in self._actors:
            await actor.kill()
        self._actors.clear()
        if self._ray is not None and self._owns_ray:
            self._ray.shutdown()
        self._remotes.clear()

    # -- tasks -----------------------------------------------------------------------------

    def _remote(self, fn: Callable[..., Any]) -> Any:
        """The Ray remote function for *fn*, made (and exported to the cluster) once per fn."""
        try:
            remote = self._remotes.get(fn)
        except TypeError:  # not weak-referenceable: no cache
            remote = None
        if remote is None:
            remote = self._ray.remote(max_retries=self.worker_retries, retry_exceptions=False)(
                _run_in_worker(fn)
            )
            with contextlib.suppress(TypeError):
                self._remotes[fn] = remote
        return remote

    async def submit(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        max_attempts: int = 1,
        timeout: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Run ``fn(*args, **kwargs)`` as a Ray task; return its id at once.

        *fn* and its arguments are pickled with cloudpickle, so lambdas and closures work.
        """
        validate_task_options(fn, max_attempts, timeout)
        self.start()
        return self._launch(
            self._remote(fn), name or task_name(fn), args, kwargs, max_attempts, timeout
        )

    def _launch(
        self,
        remote: Any,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        max_attempts: int,
        timeout: float | None,
    ) -> str:
        self._check_open()
        task = _RayTask(
            new_task_id(),
            name,
            remote,
            args,
            kwargs,
            max_attempts,
            self.clock.monotonic(),
            asyncio.get_running_loop().create_future(),
        )
        self._add(task)
        self._start_attempt(task)
        self._arm_deadline(task, timeout)
        return task.task_id

    def _run_again(self, task: _RayTask) -> None:
        self._start_attempt(task)

    def _start_attempt(self, task: _RayTask) -> None:
        task.attempt_started = self.clock.monotonic()
        task.started_at = self.clock.time()
        # Ray does not tell the driver when a task starts; RUNNING means "handed to Ray".
        self._set_state(task, TaskState.RUNNING)
        kwargs = task.kwargs
        if task.span is not None:
            kwargs = {**kwargs, _TRACE_KEY: _trace_payload(task)}
        ref = task.remote.remote(*task.args, **kwargs)
        task.ref = ref
        # A callback, not a coroutine per task: Ray calls it from its own thread, and
        # completions are handed to the loop in batches (see _from_ray).
        ref.future().add_done_callback(functools.partial(self._from_ray, task, ref))

    def _from_ray(self, task: _RayTask, ref: Any, future: concurrent.futures.Future[Any]) -> None:
        """Runs in Ray's thread: queue the completion, wake the loop once per batch."""
        self._inbox.append((task, ref, future))
        if not self._wakeup_pending:
            self._wakeup_pending = True
            try:
                task.done.get_loop().call_soon_threadsafe(self._drain_inbox)
            except RuntimeError:  # the loop is closed: nobody waits any more
                self._wakeup_pending = False

    def _drain_inbox(self) -> None:
        self._wakeup_pending = False
        inbox = self._inbox
        while inbox:
            task, ref, future = inbox.popleft()
            if task.ref is ref and not task.state.is_final:
                self._attempt_done(task, future)

    def _attempt_done(self, task: _RayTask, future: concurrent.futures.Future[Any]) -> None:
        exc = future.exception()
        if exc is None:
            value, where = future.result()
            self._record_attempt(task, task.started_at, task.attempt_started, None, where)
            self._finish(task, TaskState.SUCCEEDED, value=value)
            return
        error = _cause(self._ray, exc)
        self._record_attempt(
            task, task.started_at, task.attempt_started, describe_error(error), "ray"
        )
        self._attempt_failed(task, error)

    async def map(
        self,
        fn: Callable[[Any], Any],
        items: Iterable[Any],
        /,
        *,
        max_attempts: int = 1,
        chunk_size: int | None = None,
    ) -> list[Any]:
        """``[fn(item) for item in items]`` on the cluster, in chunks, in input order.

        Raises:
            TaskFailedError: a chunk failed on every attempt.
        """
        validate_task_options(fn, max_attempts, None)
        values = list(items)
        if not values:
            return []
        self.start()
        size = chunk_size or self.map_chunk_size or self._chunk_size(len(values))
        remote = self._ray.remote(max_retries=self.worker_retries, retry_exceptions=False)(
            _run_chunk_in_worker(fn)
        )
        name = f"map:{task_name(fn)}"
        ids = [
            self._launch(remote, name, (values[start : start + size],), {}, max_attempts, None)
            for start in range(0, len(values), size)
        ]
        return await self._collect(ids)

    def _chunk_size(self, count: int) -> int:
        cpus = max(1, int(self._ray.cluster_resources().get("CPU", 1)))
        return max(1, min(_MAX_CHUNK, -(-count // (cpus * 4))))

    # -- actors ----------------------------------------------------------------------------

    async def create_actor(
        self,
        cls: type[Any],
        /,
        *args: Any,
        max_restarts: int = 0,
        max_task_retries: int = 0,
        **kwargs: Any,
    ) -> RayActorHandle:
        """Start ``cls(*args, **kwargs)`` as a Ray actor (one call at a time).

        *max_restarts* is Ray's: a dead actor is started again (state starts over).
        *max_task_retries* re-runs a call interrupted by the actor's death on the restarted
        actor; with 0 the caller gets ``TaskFailedError``.
        """
        validate_actor_class(cls)
        if max_restarts < -1 or max_task_retries < -1:
            raise ConfigurationError("max_restarts and max_task_retries must be >= -1")
        self.start()
        self._check_open()
        actor_class = self._ray.remote(cls).options(
            max_restarts=max_restarts, max_task_retries=max_task_retries, max_concurrency=1
        )
        handle = RayActorHandle(
            f"actor-{cls.__name__}-{next(self._actor_ids)}",
            actor_class.remote(*args, **kwargs),
            self._ray,
        )
        self._actors.append(handle)
        return handle

    # -- stats -----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Cluster resources, available resources and nodes from Ray, plus task counts."""
        self.start()
        ray = self._ray
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        return {
            "executor": "ray",
            "address": self.address or "local",
            "resources": dict(ray.cluster_resources()),
            "available_resources": dict(ray.available_resources()),
            "nodes": len(nodes),
            "node_ids": sorted(node["NodeID"] for node in nodes),
            "actors": len(self._actors),
            "tasks": self._task_counts(),
        }

    # -- internals -------------------------------------------------------------------------

    def _abort(self, task: _RayTask) -> None:
        """``ray.cancel`` the attempt in flight, if any."""
        if task.ref is not None and self._ray is not None:
            try:
                self._ray.cancel(task.ref, recursive=True)
            except Exception as exc:  # already finished, or the cluster is gone
                _logger.debug("ray.cancel(%s) failed: %s", task.task_id, exc)


def _trace_payload(task: _RayTask) -> dict[str, Any]:
    """What a traced attempt carries to its worker: the span's W3C headers, name, id, attempt."""
    from opentelemetry import trace

    headers: dict[str, str] = {}
    inject_context(headers, trace.set_span_in_context(task.span))
    return {
        "headers": headers,
        "name": task.name,
        "task_id": task.task_id,
        "attempt": len(task.attempts) + 1,
    }


def _cause(ray: Any, exc: BaseException) -> BaseException:
    """The application's own exception inside a ``RayTaskError``, else *exc* itself."""
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BaseException):
            return cause
    return exc


class RayActorHandle(ActorHandleBase):
    """A Ray actor whose methods are awaited: ``await handle.increment(2)``.

    Ray's errors are translated: an exception raised by the method, or the actor dying
    during or before the call (after any ``max_task_retries``), raises ``TaskFailedError``
    with Ray's error as ``__cause__``.
    """

    def __init__(self, actor_id: str, actor: Any, ray: Any) -> None:
        super().__init__(actor_id)
        self._actor = actor
        self._ray = ray

    @property
    def ray_handle(self) -> Any:
        """Ray's own ``ActorHandle``, for what this wrapper does not cover."""
        return self._actor

    def __repr__(self) -> str:
        return f"RayActorHandle({self._actor_id!r})"

    def _method(self, name: str) -> Any:
        return getattr(self._actor, name)

    async def _call(
        self, name: str, method: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Any:
        # Killed handles never get here: ray.kill is asynchronous, so a call made right
        # after it could still run on the actor.
        try:
            return await method.remote(*args, **kwargs)
        except self._ray.exceptions.RayActorError as exc:
            raise TaskFailedError(
                f"actor {self._actor_id} died during or before {name}(): {exc}"
            ) from exc
        except self._ray.exceptions.RayTaskError as exc:
            error = _cause(self._ray, exc)
            raise self._raised_error(name, error) from error

    async def kill(self) -> None:
        """Kill the actor for good (no restart); later calls raise ``TaskFailedError``."""
        self._killed = True
        try:
            self._ray.kill(self._actor, no_restart=True)
        except Exception as exc:  # already dead, or the cluster is gone
            _logger.debug("ray.kill(%s) failed: %s", self._actor_id, exc)
