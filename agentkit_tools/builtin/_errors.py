"""Typed errors for the built-in tools: bad input becomes an agentkit error, bugs pass."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from agentkit.exceptions import AgentkitError, LimitExceededError, ToolInputError

__all__ = ["typed_errors"]


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, AgentkitError):
        return exc
    if isinstance(exc, RecursionError):
        return LimitExceededError(
            "the input is nested too deeply to process; flatten it or raise ToolLimits.max_depth"
        )
    if isinstance(exc, MemoryError | OverflowError):
        return LimitExceededError(
            f"the input or result is too large to process ({type(exc).__name__}); use smaller "
            "values or raise the matching ToolLimits option"
        )
    if isinstance(exc, ValueError):
        return ToolInputError(str(exc) or type(exc).__name__)
    return exc


def typed_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """*function* raising agentkit errors only for bad input.

    A plain ``ValueError`` becomes :class:`ToolInputError`; ``RecursionError``, ``MemoryError``
    and ``OverflowError`` become :class:`LimitExceededError`. Other exceptions (bugs) pass.
    """
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await function(*args, **kwargs)
            except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
                translated = _translate(exc)
                if translated is exc:
                    raise
                raise translated from exc

        return run_async

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
            translated = _translate(exc)
            if translated is exc:
                raise
            raise translated from exc

    return run
