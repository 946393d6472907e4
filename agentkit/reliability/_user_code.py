"""Running user code (checks, listeners, handlers) so that nothing it does kills or stalls us.

User code may raise anything, ``BaseException`` included, return objects whose dunder methods
raise, hang, or catch its cancellation and go on. The helpers here turn all of that into
values: :func:`guarded` runs an awaitable in a task of its own and reports how it ended,
:func:`wait_done` waits for tasks at most a bounded time on any clock, and :func:`describe` /
:func:`error_text` make short texts of hostile objects without ever raising. Only the
exceptions that mean "stop the process" (:data:`STOP_PROCESS`) and our own cancellation
propagate.
"""

from __future__ import annotations

import asyncio
import dataclasses
import reprlib
from collections.abc import Awaitable, Collection
from typing import Any

from agentkit._clock import SystemClock
from agentkit.protocols import Clock

__all__ = [
    "MAX_MESSAGE_CHARS",
    "STOP_PROCESS",
    "Outcome",
    "clip",
    "describe",
    "error_text",
    "guarded",
    "own_cancellation",
    "type_name",
    "wait_done",
]

# The exceptions that mean "stop the process"; everything else from user code is contained.
STOP_PROCESS = (KeyboardInterrupt, SystemExit)

# Messages are for people: a 1 MB repr or exception text is cut to this.
MAX_MESSAGE_CHARS = 500

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 200


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """How a piece of user code ended: its value, or what it raised."""

    value: object = None
    error: BaseException | None = None


async def guarded(awaitable: Awaitable[Any]) -> Outcome:
    """Await user code in its own task; whatever it raises becomes the outcome.

    Only our own cancellation of this task and the exceptions that stop the process propagate.
    """
    try:
        return Outcome(value=await awaitable)
    except BaseException as exc:
        if isinstance(exc, STOP_PROCESS) or own_cancellation(exc):
            raise
        return Outcome(error=exc)


def own_cancellation(exc: BaseException) -> bool:
    """Whether *exc* is the current task being cancelled (not user code raising one itself)."""
    if not isinstance(exc, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def wait_done(clock: Clock, futures: Collection[asyncio.Future[Any]], seconds: float) -> bool:
    """Wait until every one of *futures* is done or *seconds* of *clock* time passed.

    Returns whether all are done. Nothing is cancelled here; a cancellation of the caller
    propagates.
    """
    pending = [future for future in futures if not future.done()]
    if not pending:
        return True
    if isinstance(clock, SystemClock):
        await asyncio.wait(pending, timeout=seconds)
    else:
        waiter = asyncio.ensure_future(asyncio.wait(pending))
        timer = asyncio.ensure_future(clock.sleep(seconds))
        try:
            await asyncio.wait((waiter, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            timer.cancel()
    return all(future.done() for future in futures)


def describe(value: object) -> str:
    """A short repr of *value* that never raises (a hostile ``__repr__`` is not called twice)."""
    try:
        return clip(_REPR.repr(value))
    except STOP_PROCESS:
        raise
    except BaseException:
        return f"<{type_name(value)} object>"


def error_text(exc: BaseException) -> str:
    """``Type: message`` for *exc*, clipped; a message that cannot be made is left out."""
    try:
        message = str(exc)
    except STOP_PROCESS:
        raise
    except BaseException:
        message = "<message cannot be shown>"
    name = type_name(exc)
    return clip(f"{name}: {message}" if message else name)


def type_name(value: object) -> str:
    try:
        name = type(value).__qualname__
    except STOP_PROCESS:
        raise
    except BaseException:
        return "object"
    return name if type(name) is str else "object"


def clip(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return text[: MAX_MESSAGE_CHARS - 1] + "…"
