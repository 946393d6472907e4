"""Every error agentkit raises, under one root.

Hierarchy::

    AgentkitError
    ├── ConfigurationError (ValueError)          bad arguments, settings or URLs
    │   └── MissingExtraError (ImportError)       an optional extra is not installed
    ├── LimitExceededError (ValueError)           an input over a documented size, depth or count
    ├── PatternError (ValueError)                 a regular expression the safe engine refuses
    ├── PluginError                               a plugin failed to load or clashed
    ├── BusError                                  the message bus
    │   ├── InvalidSubjectError (ValueError)      a subject that breaks NATS syntax
    │   ├── MessageEncodeError (TypeError)        a payload msgpack cannot encode
    │   ├── MessageDecodeError (ValueError)       bytes that are not an agentkit message
    │   ├── MessageTooLargeError (ValueError)     over the server's max_payload
    │   ├── BackpressureError (TimeoutError)      a subscription queue stayed full
    │   ├── BusClosedError (RuntimeError)         the bus was closed
    │   ├── ConnectionLostError (ConnectionError) the transport is gone
    │   ├── NoRespondersError                     a request nobody listens to
    │   ├── RequestTimeoutError (TimeoutError)    a request got no reply in time
    │   └── DeadLetterNotFoundError (KeyError)    redrive of an unknown dead letter
    ├── VotingError (ValueError)                  votes that cannot be counted
    │   ├── NoVotesError                          nothing to count
    │   ├── DuplicateVoteError                    one agent voted twice
    │   ├── InvalidVoteError                      confidence out of range, bad ranking, ...
    │   └── VoteLimitError (ValueError)           over a vote limit; also a LimitExceededError
    ├── ToolError                                 the tool registry
    │   ├── ToolNotFoundError (KeyError)          no tool by that name
    │   ├── ToolRegistrationError (ValueError)    bad name or schema, or the name is taken
    │   ├── ToolNotConfiguredError                a tool's outside service is not configured
    │   ├── ToolInputError (ValueError)           arguments a tool cannot work with
    │   └── SandboxViolationError (PermissionError) a path or address the tool may not use
    ├── ExecutionError                            executors and the distributed engine
    │   ├── TaskNotFoundError (KeyError)          no task by that id
    │   ├── TaskTimeoutError (TimeoutError)       a task's result did not come in time
    │   ├── TaskCancelledError                    the task was cancelled
    │   └── TaskFailedError                       the task failed on every attempt
    └── ReliabilityError                          breakers, health, failover
        ├── CircuitOpenError                      the circuit rejected the call
        └── NoHealthyComponentError               every component of a chain is unhealthy

Third-party errors (nats-py, ray, httpx) are translated where they enter agentkit, so callers
only ever catch these.
"""

from __future__ import annotations

__all__ = [
    "AgentkitError",
    "BackpressureError",
    "BusClosedError",
    "BusError",
    "CircuitOpenError",
    "ConfigurationError",
    "ConnectionLostError",
    "DeadLetterNotFoundError",
    "DuplicateVoteError",
    "ExecutionError",
    "InvalidSubjectError",
    "InvalidVoteError",
    "LimitExceededError",
    "MessageDecodeError",
    "MessageEncodeError",
    "MessageTooLargeError",
    "MissingExtraError",
    "NoHealthyComponentError",
    "NoRespondersError",
    "NoVotesError",
    "PatternError",
    "PluginError",
    "ReliabilityError",
    "RequestTimeoutError",
    "SandboxViolationError",
    "TaskCancelledError",
    "TaskFailedError",
    "TaskNotFoundError",
    "TaskTimeoutError",
    "ToolError",
    "ToolInputError",
    "ToolNotConfiguredError",
    "ToolNotFoundError",
    "ToolRegistrationError",
    "VoteLimitError",
    "VotingError",
]


class AgentkitError(Exception):
    """Root of every error raised by agentkit."""


class ConfigurationError(AgentkitError, ValueError):
    """An argument, setting or URL that agentkit cannot work with."""


class MissingExtraError(ConfigurationError, ImportError):
    """An optional dependency is missing; the message holds the exact ``pip install`` line."""

    def __init__(self, feature: str, extra: str) -> None:
        self.feature = feature
        self.extra = extra
        self.install_line = f"pip install 'agentkit-kernel[{extra}]'"
        super().__init__(f"{feature} needs the '{extra}' extra: {self.install_line}")


class LimitExceededError(AgentkitError, ValueError):
    """An input over a documented limit (size, depth, count); the message names the option."""


class PatternError(AgentkitError, ValueError):
    """A regular expression that is invalid or that the linear-time engine (RE2) refuses."""


class PluginError(AgentkitError):
    """A plugin failed to import, to register, or clashed with another plugin."""


class BusError(AgentkitError):
    """Base for message-bus errors."""


class InvalidSubjectError(BusError, ValueError):
    """A subject that is empty, holds whitespace or an empty token, or a wildcard in a publish."""


class MessageEncodeError(BusError, TypeError):
    """A message whose payload cannot be encoded as msgpack; nothing was sent."""


class MessageDecodeError(BusError, ValueError):
    """Bytes that do not decode to an agentkit message."""


class MessageTooLargeError(BusError, ValueError):
    """An encoded message larger than the transport's maximum payload; nothing was sent."""


class BackpressureError(BusError, TimeoutError):
    """A subscription queue stayed full past the publish timeout."""


class BusClosedError(BusError, RuntimeError):
    """The bus was closed; open a new one."""


class ConnectionLostError(BusError, ConnectionError):
    """The transport could not be reached or the connection is gone."""


class NoRespondersError(BusError):
    """A request was sent to a subject that no subscription listens to."""


class RequestTimeoutError(BusError, TimeoutError):
    """A request got no reply before its timeout."""


class DeadLetterNotFoundError(BusError, KeyError):
    """No dead letter has the given id (already redriven, purged or evicted)."""


class VotingError(AgentkitError, ValueError):
    """Votes that cannot be counted."""


class NoVotesError(VotingError):
    """A conflict was given no votes."""


class DuplicateVoteError(VotingError):
    """One agent voted more than once in the same conflict."""


class InvalidVoteError(VotingError):
    """A vote with confidence outside [0, 1], a ranking not led by its option, or the like."""


class VoteLimitError(VotingError, LimitExceededError):
    """Votes over a documented limit (count, ranking length, weight); the message names it."""


class ToolError(AgentkitError):
    """Base for tool-registry errors."""


class ToolNotFoundError(ToolError, KeyError):
    """No tool is registered under that name."""

    def __str__(self) -> str:
        # KeyError would print the repr of its argument; keep the message readable.
        return str(self.args[0]) if self.args else ""


class ToolRegistrationError(ToolError, ValueError):
    """A tool with a bad name or schema, or a different tool under a name already taken."""


class ToolNotConfiguredError(ToolError):
    """A tool that needs an outside service (translation, search) has none configured."""


class ToolInputError(ToolError, ValueError):
    """Arguments a tool cannot work with: a date it cannot parse, a schema that is invalid."""


class SandboxViolationError(ToolError, PermissionError):
    """A tool was asked for a path outside its sandbox or a forbidden network address."""


class ExecutionError(AgentkitError):
    """Base for executor and distributed-engine errors."""


class TaskNotFoundError(ExecutionError, KeyError):
    """No task has that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class TaskTimeoutError(ExecutionError, TimeoutError):
    """A task's result did not arrive in time; the task itself keeps running."""


class TaskCancelledError(ExecutionError):
    """The task was cancelled before it finished."""


class TaskFailedError(ExecutionError):
    """The task raised on every attempt; ``__cause__`` is the last error."""


class ReliabilityError(AgentkitError):
    """Base for circuit-breaker, health and failover errors."""


class CircuitOpenError(ReliabilityError):
    """The circuit breaker is open (or half-open and full) and rejected the call."""


class NoHealthyComponentError(ReliabilityError):
    """Every component of a failover chain is unhealthy."""
