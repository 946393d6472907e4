"""agentkit: agents that talk, vote, call tools and stay up in production.

The public API lives here; submodules whose names start with ``_`` are private.
"""

from __future__ import annotations

from agentkit._bus_base import BusBase as BusBase
from agentkit._clock import SystemClock as SystemClock
from agentkit._connect import connect as connect
from agentkit._memory_bus import InMemoryPubSub as InMemoryPubSub
from agentkit._messages import DeadLetter as DeadLetter
from agentkit._messages import MessagePriority as MessagePriority
from agentkit._messages import PubSubMessage as PubSubMessage
from agentkit._nats_bus import NatsPubSub as NatsPubSub
from agentkit._plugins import PluginInfo as PluginInfo
from agentkit._plugins import PluginManager as PluginManager
from agentkit._plugins import PluginStatus as PluginStatus
from agentkit._subjects import subject_matches as subject_matches
from agentkit._subscription import BusSubscription as BusSubscription
from agentkit._tool import Tool as Tool
from agentkit._tool import ToolHints as ToolHints
from agentkit._tool import ToolResult as ToolResult
from agentkit.exceptions import AgentkitError as AgentkitError
from agentkit.exceptions import BackpressureError as BackpressureError
from agentkit.exceptions import BusClosedError as BusClosedError
from agentkit.exceptions import BusError as BusError
from agentkit.exceptions import CircuitOpenError as CircuitOpenError
from agentkit.exceptions import ConfigurationError as ConfigurationError
from agentkit.exceptions import ConnectionLostError as ConnectionLostError
from agentkit.exceptions import DeadLetterNotFoundError as DeadLetterNotFoundError
from agentkit.exceptions import DuplicateVoteError as DuplicateVoteError
from agentkit.exceptions import ExecutionError as ExecutionError
from agentkit.exceptions import InvalidSubjectError as InvalidSubjectError
from agentkit.exceptions import InvalidVoteError as InvalidVoteError
from agentkit.exceptions import MessageDecodeError as MessageDecodeError
from agentkit.exceptions import MessageEncodeError as MessageEncodeError
from agentkit.exceptions import MessageTooLargeError as MessageTooLargeError
from agentkit.exceptions import MissingExtraError as MissingExtraError
from agentkit.exceptions import NoHealthyComponentError as NoHealthyComponentError
from agentkit.exceptions import NoRespondersError as NoRespondersError
from agentkit.exceptions import NoVotesError as NoVotesError
from agentkit.exceptions import PluginError as PluginError
from agentkit.exceptions import ReliabilityError as ReliabilityError
from agentkit.exceptions import RequestTimeoutError as RequestTimeoutError
from agentkit.exceptions import SandboxViolationError as SandboxViolationError
from agentkit.exceptions import TaskCancelledError as TaskCancelledError
from agentkit.exceptions import TaskFailedError as TaskFailedError
from agentkit.exceptions import TaskNotFoundError as TaskNotFoundError
from agentkit.exceptions import TaskTimeoutError as TaskTimeoutError
from agentkit.exceptions import ToolError as ToolError
from agentkit.exceptions import ToolNotConfiguredError as ToolNotConfiguredError
from agentkit.exceptions import ToolNotFoundError as ToolNotFoundError
from agentkit.exceptions import ToolRegistrationError as ToolRegistrationError
from agentkit.exceptions import VotingError as VotingError
from agentkit.hookspecs import hookimpl as hookimpl
from agentkit.protocols import Bus as Bus
from agentkit.protocols import Clock as Clock
from agentkit.protocols import Executor as Executor
from agentkit.protocols import Handler as Handler
from agentkit.protocols import HealthCheck as HealthCheck
from agentkit.protocols import Registry as Registry
from agentkit.protocols import Resolver as Resolver
from agentkit.protocols import Subscription as Subscription

__version__ = "0.1.0"

__all__ = [
    "AgentkitError",
    "BackpressureError",
    "Bus",
    "BusBase",
    "BusClosedError",
    "BusError",
    "BusSubscription",
    "CircuitOpenError",
    "Clock",
    "ConfigurationError",
    "ConnectionLostError",
    "DeadLetter",
    "DeadLetterNotFoundError",
    "DuplicateVoteError",
    "ExecutionError",
    "Executor",
    "Handler",
    "HealthCheck",
    "InMemoryPubSub",
    "InvalidSubjectError",
    "InvalidVoteError",
    "MessageDecodeError",
    "MessageEncodeError",
    "MessagePriority",
    "MessageTooLargeError",
    "MissingExtraError",
    "NatsPubSub",
    "NoHealthyComponentError",
    "NoRespondersError",
    "NoVotesError",
    "PluginError",
    "PluginInfo",
    "PluginManager",
    "PluginStatus",
    "PubSubMessage",
    "Registry",
    "ReliabilityError",
    "RequestTimeoutError",
    "Resolver",
    "SandboxViolationError",
    "Subscription",
    "SystemClock",
    "TaskCancelledError",
    "TaskFailedError",
    "TaskNotFoundError",
    "TaskTimeoutError",
    "Tool",
    "ToolError",
    "ToolHints",
    "ToolNotConfiguredError",
    "ToolNotFoundError",
    "ToolRegistrationError",
    "ToolResult",
    "VotingError",
    "__version__",
    "connect",
    "hookimpl",
    "subject_matches",
]
