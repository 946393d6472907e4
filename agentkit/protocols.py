"""The contracts agentkit is built on.

Each protocol has a default in-process implementation in agentkit and a conformance suite in
:mod:`agentkit.testing`; anything that passes the suite is an implementation, whoever wrote it.

==============  =====================  ==========================================
protocol        default                other implementations
==============  =====================  ==========================================
``Bus``         ``InMemoryPubSub``     ``NatsPubSub``; plugins by URL scheme
``Resolver``    ``ConflictResolver``   plugins may add voting methods
``Registry``    ``ToolRegistry``       --
``Executor``    ``LocalExecutor``      ``agentkit_ray.RayExecutor``
``HealthCheck`` any callable           returns truthy or a ``HealthReport``
``Clock``       ``SystemClock``        ``agentkit.testing.VirtualClock``
==============  =====================  ==========================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from agentkit.bus import DeadLetter, PubSubMessage
    from agentkit.execution import TaskResult, TaskState

__all__ = [
    "ActorHandle",
    "Bus",
    "Clock",
    "Executor",
    "Handler",
    "HealthCheck",
    "Registry",
    "Resolver",
    "Subscription",
]

#: A bus handler: called with each message; its return value is the reply when the message
#: carries ``reply_to``. Sync handlers are called inline on the event loop.
Handler = Callable[["PubSubMessage"], Awaitable[Any] | Any]

#: A health check: sync or async, returns something truthy (healthy) or a ``HealthReport``.
#: A falsy result, an exception or a timeout counts as a failed check.
HealthCheck = Callable[[], Awaitable[Any] | Any]


@runtime_checkable
class Clock(Protocol):
    """The one time source for sleeps, deadlines and timestamps.

    Implementations: :class:`agentkit.SystemClock` (real time) and
    :class:`agentkit.testing.VirtualClock` (time moves only when a test says so).
    """

    def time(self) -> float:
        """Seconds since the epoch, for timestamps."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for deadlines and durations."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for *seconds* of this clock's time."""
        ...


@runtime_checkable
class Subscription(Protocol):
    """A live subscription returned by :meth:`Bus.subscribe`."""

    @property
    def subject(self) -> str:
        """The subject pattern (NATS syntax, may hold ``*`` and ``>``)."""
        ...

    @property
    def queue(self) -> str | None:
        """The queue group, or None: in a group each message goes to one member."""
        ...

    @property
    def pending(self) -> int:
        """Messages queued here and not yet handled (retries waiting included)."""
        ...

    async def unsubscribe(self) -> None:
        """Stop receiving; messages already queued are still handled before this returns."""
        ...


@runtime_checkable
class Bus(Protocol):
    """A message bus between agents.

    Contract (checked by :class:`agentkit.testing.BusConformance`):

    * Subjects follow NATS syntax; an invalid one raises ``InvalidSubjectError`` before
      anything is sent. Publishing to a wildcard subject is invalid.
    * ``publish`` returns once the message is queued for every matching subscription (or handed
      to the server), not after handlers ran. A payload that cannot be encoded raises
      ``MessageEncodeError``; one over the transport's limit ``MessageTooLargeError``; a full
      subscription queue makes ``publish`` wait, or raise ``BackpressureError`` after
      ``timeout``. After ``close`` every call raises ``BusClosedError``.
    * Each subscription hands messages to its handler highest priority first, FIFO within a
      priority, at most ``max_concurrency`` at a time. A handler that raises is retried after
      an exponential backoff up to ``max_attempts``, then dead-lettered; nothing is lost.
    * ``request`` raises ``NoRespondersError`` when nothing listens and ``RequestTimeoutError``
      when no reply comes in time. A handler's return value is the reply.
    """

    async def publish(
        self,
        topic: str,
        message: PubSubMessage | Any,
        /,
        *,
        timeout: float | None = None,
        durable: bool = False,
    ) -> PubSubMessage:
        """Send *message* (or a bare payload) to *topic*; return the message as sent."""
        ...

    async def subscribe(
        self,
        topic: str,
        handler: Handler,
        /,
        *,
        queue: str | None = None,
        max_concurrency: int = 1,
        max_attempts: int | None = None,
        durable: str | None = None,
    ) -> Subscription:
        """Call *handler* for every message on subjects matching *topic*."""
        ...

    async def request(
        self, topic: str, message: PubSubMessage | Any, /, *, timeout: float = 5.0
    ) -> PubSubMessage:
        """Send *message* and return the first reply."""
        ...

    def history(self, topic: str, /, *, limit: int | None = None) -> list[PubSubMessage]:
        """The latest messages published to *topic* through this bus, oldest first."""
        ...

    def dead_letters(self) -> list[DeadLetter]:
        """Messages whose handler kept failing, oldest first."""
        ...

    async def redrive(self, dead_letter_id: str | None = None, /) -> int:
        """Deliver dead letters again (one by id, or all); return how many."""
        ...

    async def drain(self) -> None:
        """Wait until every queued message has been handled (or dead-lettered)."""
        ...

    async def close(self) -> None:
        """Stop accepting messages, finish in-flight handlers, release the transport."""
        ...


@runtime_checkable
class Resolver(Protocol):
    """Decides between agents' votes (see ``ConflictResolver``)."""

    async def resolve_conflict(
        self,
        conflict_id: str,
        conflict_type: Any,
        votes: Sequence[Any],
        vote_type: Any = None,
    ) -> Any:
        """Count *votes* by *vote_type* and return a resolution that can be recounted."""
        ...


@runtime_checkable
class Registry(Protocol):
    """Holds tools and runs them with validated arguments (see ``ToolRegistry``)."""

    def register_tool(self, tool: Any, executor: Callable[..., Any] | None = None) -> None:
        """Add *tool*; an explicit *executor* wins over the tool's own function."""
        ...

    def get_tool(self, name: str) -> Any:
        """The tool called *name*; ``ToolNotFoundError`` (a ``KeyError``) when there is none."""
        ...

    def list_tools(self) -> list[Any]:
        """Every registered tool, sorted by name."""
        ...

    async def execute_tool(
        self, name: str, params: Mapping[str, Any], timeout: float | None = None
    ) -> Any:
        """Validate *params*, run the tool, and return a result that reports failures."""
        ...


@runtime_checkable
class ActorHandle(Protocol):
    """A stateful worker made by :meth:`Executor.create_actor`.

    Every public method of the actor's class is reachable as an attribute whose call returns
    an awaitable: ``await handle.increment(2)``. Calls to one actor run one at a time, in the
    order they were made, so the actor's state needs no locking.
    """

    @property
    def actor_id(self) -> str:
        """A unique id for this actor."""
        ...

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        """The actor's method *name*, as an async callable."""
        ...

    async def kill(self) -> None:
        """Stop the actor for good (no restart); later calls raise ``TaskFailedError``."""
        ...


@runtime_checkable
class Executor(Protocol):
    """Runs callables somewhere (this process, a Ray cluster) and reports their outcome.

    Contract (checked by :class:`agentkit.testing.ExecutorConformance`):

    * ``submit`` returns a task id at once; the task moves PENDING -> RUNNING -> one final
      state (SUCCEEDED, FAILED, CANCELLED, TIMED_OUT). A task that raises is run again up to
      ``max_attempts`` times in all, with exponential backoff; each attempt is recorded in its
      ``TaskResult``. ``timeout`` is the task's own deadline, counted from submission: when it
      passes the task is stopped and ends TIMED_OUT. ``max_attempts``, ``timeout`` and ``name``
      are the executor's options; every other keyword goes to *fn*.
    * ``wait``/``result`` with a ``timeout`` raise ``TaskTimeoutError`` (a ``TimeoutError``)
      when the task has not finished in time and leave it running. ``result`` returns the
      value or raises ``TaskFailedError`` (``__cause__`` = the last error),
      ``TaskCancelledError`` or ``TaskTimeoutError``. An unknown id raises
      ``TaskNotFoundError`` (a ``KeyError``).
    * ``map`` returns results in input order and raises ``TaskFailedError`` if any item
      failed. Functions may be lambdas and closures.
    * Actors keep their state between calls; calls to one actor run one at a time.
    * After ``shutdown`` every submission raises ``ExecutionError``.
    """

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
        """Start ``fn(*args, **kwargs)``; return a task id at once."""
        ...

    async def wait(self, task_id: str, /, *, timeout: float | None = None) -> TaskResult:
        """Wait until the task is final and return its ``TaskResult`` (never its error)."""
        ...

    async def result(self, task_id: str, /, *, timeout: float | None = None) -> Any:
        """Wait for the task's value; a timeout raises and leaves the task running."""
        ...

    def state(self, task_id: str, /) -> TaskState:
        """Where the task stands now."""
        ...

    async def cancel(self, task_id: str, /) -> bool:
        """Cancel the task if it has not finished; return whether it was cancelled."""
        ...

    async def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], /, *, max_attempts: int = 1
    ) -> list[Any]:
        """``[fn(item) for item in items]``, run in parallel, results in input order."""
        ...

    async def create_actor(
        self,
        cls: type[Any],
        /,
        *args: Any,
        max_restarts: int = 0,
        max_task_retries: int = 0,
        **kwargs: Any,
    ) -> ActorHandle:
        """Start ``cls(*args, **kwargs)`` as an actor; return its handle.

        *max_restarts*: how often a dead actor is started again (its constructor runs
        again, so its state starts over). *max_task_retries*: how often a call interrupted by
        the actor's death is retried on the restarted actor; with 0 the caller gets
        ``TaskFailedError``.
        """
        ...

    def stats(self) -> Mapping[str, Any]:
        """Resources, workers and task counts by state."""
        ...

    async def shutdown(self) -> None:
        """Stop accepting work, cancel what has not finished and release workers."""
        ...
