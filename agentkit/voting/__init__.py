"""Deciding together: votes, the voting methods and the conflict resolver.

Each method is a pure, deterministic function from votes to a :class:`VoteCount`; the
:class:`ConflictResolver` checks the votes once, counts them with a method (a plugin may add
more) and escalates to a supervisor when there is no winner. The package root re-exports what
the quick start uses; code that counts votes itself imports the methods from here.
"""

from __future__ import annotations

from agentkit.voting._resolver import (
    Conflict,
    ConflictResolver,
    SupervisorCallback,
    VotingMethod,
    resolution_attributes,
)
from agentkit.voting._votes import (
    VOTES_WIRE_VERSION,
    AgentVote,
    ConflictType,
    IRVRound,
    Resolution,
    ResolutionStatus,
    VoteCount,
    VoteType,
    round_tallies,
)
from agentkit.voting._voting import (
    DEFAULT_SUPERMAJORITY,
    VoteLimits,
    majority,
    ranked_choice,
    supermajority,
    unanimous,
    validate_votes,
    weighted,
)

__all__ = [
    "AgentVote",
    "Conflict",
    "ConflictResolver",
    "ConflictType",
    "DEFAULT_SUPERMAJORITY",
    "IRVRound",
    "Resolution",
    "ResolutionStatus",
    "SupervisorCallback",
    "VOTES_WIRE_VERSION",
    "VoteCount",
    "VoteLimits",
    "VoteType",
    "VotingMethod",
    "majority",
    "ranked_choice",
    "resolution_attributes",
    "round_tallies",
    "supermajority",
    "unanimous",
    "validate_votes",
    "weighted",
]
