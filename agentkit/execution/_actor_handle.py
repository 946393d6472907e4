"""What every actor handle shares: awaitable methods by attribute, kill, the errors they raise."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from agentkit.exceptions import ConfigurationError, TaskFailedError
from agentkit.execution._task_table import describe_error

__all__ = ["ActorHandleBase", "validate_actor_class"]


def validate_actor_class(cls: Any) -> None:
    """Raise ``ConfigurationError`` unless *cls* is a class."""
    if not isinstance(cls, type):
        raise ConfigurationError(f"an actor needs a class, got {type(cls).__name__}")


class ActorHandleBase:
    """An actor whose methods are awaited: ``await handle.increment(2)``.

    Subclasses say how to find a method (:meth:`_method`) and how to call it
    (:meth:`_call`); after :meth:`kill` every call raises ``TaskFailedError`` unrun.
    """

    def __init__(self, actor_id: str) -> None:
        self._actor_id = actor_id
        self._killed = False

    @property
    def actor_id(self) -> str:
        """A unique id for this actor."""
        return self._actor_id

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if name.startswith("_"):
            raise AttributeError(name)
        method = self._method(name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self._killed:
                raise self._killed_error(name)
            return await self._call(name, method, args, kwargs)

        call.__name__ = name
        return call

    def _method(self, name: str) -> Any:
        """The actor's method *name*; ``AttributeError`` if there is none."""
        raise NotImplementedError

    async def _call(
        self, name: str, method: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Any:
        raise NotImplementedError

    def _killed_error(self, name: str) -> TaskFailedError:
        return TaskFailedError(f"actor {self._actor_id} was killed; {name}() not run")

    def _raised_error(self, name: str, error: BaseException) -> TaskFailedError:
        return TaskFailedError(f"actor {self._actor_id}: {name}() raised {describe_error(error)}")
