"""agentkit: agents that talk, vote, call tools and stay up in production.

The package root re-exports what the quick start and the Enterprise Features Guide use. Each
concept is a subpackage with its own public face (``agentkit.bus``, ``agentkit.agents``,
``agentkit.voting``, ``agentkit.tools``, ``agentkit.execution``, ``agentkit.reliability``,
``agentkit.plugins``, ``agentkit.loadtest``); backend and plugin authors import the kit they
build on from there. Modules whose names start with ``_`` are private.
"""

from __future__ import annotations

from agentkit._clock import SystemClock as SystemClock
from agentkit._version import __version__ as __version__
from agentkit.agents import Agent as Agent
from agentkit.agents import AgentAttachment as AgentAttachment
from agentkit.agents import AgentProtocol as AgentProtocol
from agentkit.agents import AgentSwarm as AgentSwarm
from agentkit.agents import Assignment as Assignment
from agentkit.agents import Ballot as Ballot
from agentkit.agents import BallotVote as BallotVote
from agentkit.agents import Broadcast as Broadcast
from agentkit.agents import Decision as Decision
from agentkit.agents import IgnoredVote as IgnoredVote
from agentkit.agents import Orchestrator as Orchestrator
from agentkit.agents import WorkDistribution as WorkDistribution
from agentkit.agents import WorkItem as WorkItem
from agentkit.agents import WorkResult as WorkResult
from agentkit.agents import attach as attach
from agentkit.agents import run_worker as run_worker
from agentkit.bus import DeadLetter as DeadLetter
from agentkit.bus import InMemoryPubSub as InMemoryPubSub
from agentkit.bus import MessagePriority as MessagePriority
from agentkit.bus import NatsPubSub as NatsPubSub
from agentkit.bus import PubSubMessage as PubSubMessage
from agentkit.bus import connect as connect
from agentkit.bus import subject_matches as subject_matches
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
from agentkit.exceptions import LimitExceededError as LimitExceededError
from agentkit.exceptions import MessageDecodeError as MessageDecodeError
from agentkit.exceptions import MessageEncodeError as MessageEncodeError
from agentkit.exceptions import MessageTooLargeError as MessageTooLargeError
from agentkit.exceptions import MissingExtraError as MissingExtraError
from agentkit.exceptions import NoHealthyComponentError as NoHealthyComponentError
from agentkit.exceptions import NoRespondersError as NoRespondersError
from agentkit.exceptions import NoVotesError as NoVotesError
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
from agentkit.execution import RAY_AVAILABLE as RAY_AVAILABLE
from agentkit.execution import DefaultTasks as DefaultTasks
from agentkit.execution import DistributedEngine as DistributedEngine
from agentkit.execution import ExecutionMode as ExecutionMode
from agentkit.execution import LocalActorHandle as LocalActorHandle
from agentkit.execution import LocalExecutor as LocalExecutor
from agentkit.execution import TaskAttempt as TaskAttempt
from agentkit.execution import TaskResult as TaskResult
from agentkit.execution import TaskState as TaskState
from agentkit.execution import default_tasks as default_tasks
from agentkit.hookspecs import hookimpl as hookimpl
from agentkit.loadtest import BreakingPoint as BreakingPoint
from agentkit.loadtest import LatencySummary as LatencySummary
from agentkit.loadtest import LoadProfile as LoadProfile
from agentkit.loadtest import LoadTester as LoadTester
from agentkit.loadtest import LoadTestResult as LoadTestResult
from agentkit.loadtest import TimelinePoint as TimelinePoint
from agentkit.plugins import PluginInfo as PluginInfo
from agentkit.plugins import PluginManager as PluginManager
from agentkit.plugins import PluginStatus as PluginStatus
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
from agentkit.tools import Tool as Tool
from agentkit.tools import ToolHints as ToolHints
from agentkit.tools import ToolRegistry as ToolRegistry
from agentkit.tools import ToolResult as ToolResult
from agentkit.tools import to_anthropic_tool as to_anthropic_tool
from agentkit.tools import to_mcp_tool as to_mcp_tool
from agentkit.tools import to_openai_tool as to_openai_tool
from agentkit.tools import tool as tool
from agentkit.voting import AgentVote as AgentVote
from agentkit.voting import Conflict as Conflict
from agentkit.voting import ConflictResolver as ConflictResolver
from agentkit.voting import ConflictType as ConflictType
from agentkit.voting import IRVRound as IRVRound
from agentkit.voting import Resolution as Resolution
from agentkit.voting import ResolutionStatus as ResolutionStatus
from agentkit.voting import VoteCount as VoteCount
from agentkit.voting import VoteType as VoteType

__all__ = [
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
    "BusClosedError",
    "BusError",
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
    "DefaultTasks",
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
    "hookimpl",
    "run_worker",
    "subject_matches",
    "to_anthropic_tool",
    "to_mcp_tool",
    "to_openai_tool",
    "tool",
]
