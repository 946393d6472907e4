"""agentkit: agents that talk, vote, call tools and stay up in production.

The public API lives here; submodules whose names start with ``_`` are private.
"""

from __future__ import annotations

from agentkit._agent import Agent as Agent
from agentkit._agent import AgentAttachment as AgentAttachment
from agentkit._agent import AgentProtocol as AgentProtocol
from agentkit._agent import Ballot as Ballot
from agentkit._agent import BallotVote as BallotVote
from agentkit._agent import Broadcast as Broadcast
from agentkit._agent import WorkItem as WorkItem
from agentkit._agent import WorkResult as WorkResult
from agentkit._agent import attach as attach
from agentkit._bus_base import BusBase as BusBase
from agentkit._clock import SystemClock as SystemClock
from agentkit._connect import connect as connect
from agentkit._demo import run_demo as run_demo
from agentkit._engine import DistributedEngine as DistributedEngine
from agentkit._engine import default_tasks as default_tasks
from agentkit._execution import RAY_AVAILABLE as RAY_AVAILABLE
from agentkit._execution import ExecutionMode as ExecutionMode
from agentkit._execution import TaskAttempt as TaskAttempt
from agentkit._execution import TaskResult as TaskResult
from agentkit._execution import TaskState as TaskState
from agentkit._load_profiles import LoadProfile as LoadProfile
from agentkit._load_result import BreakingPoint as BreakingPoint
from agentkit._load_result import LatencySummary as LatencySummary
from agentkit._load_result import LoadTestResult as LoadTestResult
from agentkit._load_result import TimelinePoint as TimelinePoint
from agentkit._loadtest import LoadTester as LoadTester
from agentkit._local_executor import LocalActorHandle as LocalActorHandle
from agentkit._local_executor import LocalExecutor as LocalExecutor
from agentkit._memory_bus import InMemoryPubSub as InMemoryPubSub
from agentkit._messages import DeadLetter as DeadLetter
from agentkit._messages import MessagePriority as MessagePriority
from agentkit._messages import PubSubMessage as PubSubMessage
from agentkit._nats_bus import NatsPubSub as NatsPubSub
from agentkit._orchestrator import Decision as Decision
from agentkit._orchestrator import Orchestrator as Orchestrator
from agentkit._plugins import PluginInfo as PluginInfo
from agentkit._plugins import PluginManager as PluginManager
from agentkit._plugins import PluginStatus as PluginStatus
from agentkit._registry import ToolRegistry as ToolRegistry
from agentkit._subjects import subject_matches as subject_matches
from agentkit._subscription import BusSubscription as BusSubscription
from agentkit._swarm import AgentSwarm as AgentSwarm
from agentkit._swarm import Assignment as Assignment
from agentkit._swarm import IgnoredVote as IgnoredVote
from agentkit._swarm import WorkDistribution as WorkDistribution
from agentkit._tool import Tool as Tool
from agentkit._tool import ToolHints as ToolHints
from agentkit._tool import ToolResult as ToolResult
from agentkit._tool_export import from_openai_strict_arguments as from_openai_strict_arguments
from agentkit._tool_export import mcp_structured_content as mcp_structured_content
from agentkit._tool_export import openai_strict_schema as openai_strict_schema
from agentkit._tool_export import to_anthropic_tool as to_anthropic_tool
from agentkit._tool_export import to_mcp_tool as to_mcp_tool
from agentkit._tool_export import to_openai_tool as to_openai_tool
from agentkit._worker import run_worker as run_worker
from agentkit.exceptions import AgentkitError as AgentkitError
from agentkit.exceptions import APIResponseError as APIResponseError
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
from agentkit.exceptions import LimitExceededError as LimitExceededError
from agentkit.exceptions import MessageDecodeError as MessageDecodeError
from agentkit.exceptions import MessageEncodeError as MessageEncodeError
from agentkit.exceptions import MessageTooLargeError as MessageTooLargeError
from agentkit.exceptions import MissingExtraError as MissingExtraError
from agentkit.exceptions import NoHealthyComponentError as NoHealthyComponentError
from agentkit.exceptions import NoRespondersError as NoRespondersError
from agentkit.exceptions import NoVotesError as NoVotesError
from agentkit.exceptions import OpenAPIError as OpenAPIError
from agentkit.exceptions import OpenAPILimitError as OpenAPILimitError
from agentkit.exceptions import PatternError as PatternError
from agentkit.exceptions import PluginError as PluginError
from agentkit.exceptions import ReliabilityError as ReliabilityError
from agentkit.exceptions import RequestTimeoutError as RequestTimeoutError
from agentkit.exceptions import SandboxViolationError as SandboxViolationError
from agentkit.exceptions import TaskCancelledError as TaskCancelledError
from agentkit.exceptions import TaskFailedError as TaskFailedError
from agentkit.exceptions import TaskNotFoundError as TaskNotFoundError
from agentkit.exceptions import TaskTimeoutError as TaskTimeoutError
from agentkit.exceptions import ToolError as ToolError
from agentkit.exceptions import ToolInputError as ToolInputError
from agentkit.exceptions import ToolNotConfiguredError as ToolNotConfiguredError
from agentkit.exceptions import ToolNotFoundError as ToolNotFoundError
from agentkit.exceptions import ToolRegistrationError as ToolRegistrationError
from agentkit.exceptions import VoteLimitError as VoteLimitError
from agentkit.exceptions import VotingError as VotingError
from agentkit.hookspecs import hookimpl as hookimpl
from agentkit.protocols import ActorHandle as ActorHandle
from agentkit.protocols import Bus as Bus
from agentkit.protocols import Clock as Clock
from agentkit.protocols import Executor as Executor
from agentkit.protocols import Handler as Handler
from agentkit.protocols import HealthCheck as HealthCheck
from agentkit.protocols import Registry as Registry
from agentkit.protocols import Resolver as Resolver
from agentkit.protocols import Subscription as Subscription
from agentkit.reliability import BreakerStats as BreakerStats
from agentkit.reliability import CircuitBreaker as CircuitBreaker
from agentkit.reliability import CircuitState as CircuitState
from agentkit.reliability import ComponentHealth as ComponentHealth
from agentkit.reliability import FailoverEvent as FailoverEvent
from agentkit.reliability import FailoverKind as FailoverKind
from agentkit.reliability import FailoverManager as FailoverManager
from agentkit.reliability import HealthEvent as HealthEvent
from agentkit.reliability import HealthMonitor as HealthMonitor
from agentkit.reliability import HealthReport as HealthReport
from agentkit.reliability import HealthStatus as HealthStatus
from agentkit.voting import AgentVote as AgentVote
from agentkit.voting import Conflict as Conflict
from agentkit.voting import ConflictResolver as ConflictResolver
from agentkit.voting import ConflictType as ConflictType
from agentkit.voting import IRVRound as IRVRound
from agentkit.voting import Resolution as Resolution
from agentkit.voting import ResolutionStatus as ResolutionStatus
from agentkit.voting import VoteCount as VoteCount
from agentkit.voting import VoteType as VoteType

__version__ = "0.1.0"

__all__ = [
    "APIResponseError",
    "ActorHandle",
    "Agent",
    "AgentAttachment",
    "AgentProtocol",
    "AgentSwarm",
    "AgentVote",
    "AgentkitError",
    "Assignment",
    "BackpressureError",
    "Ballot",
    "BallotVote",
    "BreakerStats",
    "BreakingPoint",
    "Broadcast",
    "Bus",
    "BusBase",
    "BusClosedError",
    "BusError",
    "BusSubscription",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "Clock",
    "ComponentHealth",
    "ConfigurationError",
    "Conflict",
    "ConflictResolver",
    "ConflictType",
    "ConnectionLostError",
    "DeadLetter",
    "DeadLetterNotFoundError",
    "Decision",
    "DistributedEngine",
    "DuplicateVoteError",
    "ExecutionError",
    "ExecutionMode",
    "Executor",
    "FailoverEvent",
    "FailoverKind",
    "FailoverManager",
    "Handler",
    "HealthCheck",
    "HealthEvent",
    "HealthMonitor",
    "HealthReport",
    "HealthStatus",
    "IRVRound",
    "IgnoredVote",
    "InMemoryPubSub",
    "InvalidSubjectError",
    "InvalidVoteError",
    "LatencySummary",
    "LimitExceededError",
    "LoadProfile",
    "LoadTestResult",
    "LoadTester",
    "LocalActorHandle",
    "LocalExecutor",
    "MessageDecodeError",
    "MessageEncodeError",
    "MessagePriority",
    "MessageTooLargeError",
    "MissingExtraError",
    "NatsPubSub",
    "NoHealthyComponentError",
    "NoRespondersError",
    "NoVotesError",
    "OpenAPIError",
    "OpenAPILimitError",
    "Orchestrator",
    "PatternError",
    "PluginError",
    "PluginInfo",
    "PluginManager",
    "PluginStatus",
    "PubSubMessage",
    "RAY_AVAILABLE",
    "Registry",
    "ReliabilityError",
    "RequestTimeoutError",
    "Resolution",
    "ResolutionStatus",
    "Resolver",
    "SandboxViolationError",
    "Subscription",
    "SystemClock",
    "TaskAttempt",
    "TaskCancelledError",
    "TaskFailedError",
    "TaskNotFoundError",
    "TaskResult",
    "TaskState",
    "TaskTimeoutError",
    "TimelinePoint",
    "Tool",
    "ToolError",
    "ToolHints",
    "ToolInputError",
    "ToolNotConfiguredError",
    "ToolNotFoundError",
    "ToolRegistrationError",
    "ToolRegistry",
    "ToolResult",
    "VoteCount",
    "VoteLimitError",
    "VoteType",
    "VotingError",
    "WorkDistribution",
    "WorkItem",
    "WorkResult",
    "__version__",
    "attach",
    "connect",
    "default_tasks",
    "from_openai_strict_arguments",
    "hookimpl",
    "mcp_structured_content",
    "openai_strict_schema",
    "run_demo",
    "run_worker",
    "subject_matches",
    "to_anthropic_tool",
    "to_mcp_tool",
    "to_openai_tool",
]
