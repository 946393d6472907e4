"""ConflictResolver: escalation to a supervisor, plugin voting methods, quorums and recounts."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import msgspec
import pytest

from agentkit import (
    AgentVote,
    Conflict,
    ConflictResolver,
    ConflictType,
    PluginError,
    PluginManager,
    Resolution,
    ResolutionStatus,
    VoteCount,
    VoteType,
    hookimpl,
)
from agentkit.testing import VirtualClock

SPLIT = [AgentVote("alice", "approve"), AgentVote("bob", "reject")]


async def test_a_winner_needs_no_supervisor() -> None:
    """A clear vote resolves by itself and never calls the supervisor."""
    calls: list[Conflict] = []
    resolver = ConflictResolver(supervisor=calls.append)
    votes = [*SPLIT, AgentVote("carol", "approve")]
    resolution = await resolver.resolve_conflict("c1", ConflictType.DECISION, votes)
    assert resolution.status is ResolutionStatus.RESOLVED
    assert (resolution.winning_option, resolution.resolved_by) == ("approve", "vote")
    assert not resolution.escalated
    assert resolution.participants == ("alice", "bob", "carol")
    assert calls == []


async def test_without_a_supervisor_no_winner_is_no_consensus() -> None:
    """A tie without a supervisor ends NO_CONSENSUS with the top share as the score."""
    resolution = await ConflictResolver().resolve_conflict("c", ConflictType.DECISION, SPLIT)
    assert resolution.status is ResolutionStatus.NO_CONSENSUS
    assert resolution.winning_option is None
    assert resolution.resolved_by is None
    assert resolution.consensus_score == 0.5
    assert not resolution.resolved


async def test_the_supervisors_own_vote_decides_a_tie() -> None:
    """The supervisor's vote counts normally and, on a tie, decides."""
    resolver = ConflictResolver(supervisor_agent_id="bob")
    resolution = await resolver.resolve_conflict("c", ConflictType.DECISION, SPLIT)
    assert resolution.status is ResolutionStatus.RESOLVED
    assert resolution.winning_option == "reject"
    assert resolution.resolved_by == "supervisor"
    assert resolution.escalated
    assert resolution.supervisor_decision == "reject"
    assert resolution.tallies == {"approve": 1, "reject": 1}


async def test_the_supervisors_vote_wins_over_the_callback() -> None:
    """When the supervisor voted, its vote decides and the callback is not asked."""
    asked: list[Conflict] = []
    resolver = ConflictResolver(supervisor_agent_id="alice", supervisor=asked.append)
    resolution = await resolver.resolve_conflict("c", ConflictType.DECISION, SPLIT)
    assert resolution.winning_option == "approve"
    assert asked == []


async def test_an_async_supervisor_callback_decides() -> None:
    """Without the supervisor's vote, the awaited callback gets the conflict and decides."""
    seen: list[Conflict] = []

    async def supervise(conflict: Conflict) -> str:
        seen.append(conflict)
        return "escalate-to-human"

    resolver = ConflictResolver(supervisor_agent_id="supervisor-001", supervisor=supervise)
    resolution = await resolver.resolve_conflict("c9", "decision", SPLIT)
    assert resolution.status is ResolutionStatus.RESOLVED
    assert resolution.winning_option == "escalate-to-human"
    assert (resolution.resolved_by, resolution.escalated) == ("supervisor", True)
    (conflict,) = seen
    assert conflict.conflict_id == "c9"
    assert conflict.count.tallies == {"approve": 1, "reject": 1}
    assert conflict.votes == tuple(SPLIT)


async def test_a_sync_callback_is_a_supervisor_too() -> None:
    """A plain function works as the callback, even without a supervisor id."""
    resolver = ConflictResolver(supervisor=lambda conflict: "reject")
    resolution = await resolver.resolve_conflict("c", "decision", SPLIT)
    assert (resolution.winning_option, resolution.resolved_by) == ("reject", "supervisor")


@pytest.mark.parametrize("answer", [None, 42, ""])
async def test_a_supervisor_without_a_decision_escalates(answer: Any) -> None:
    """A callback that returns no option leaves the conflict ESCALATED."""
    resolver = ConflictResolver(supervisor_agent_id="sup", supervisor=lambda conflict: answer)
    resolution = await resolver.resolve_conflict("c", "decision", SPLIT)
    assert resolution.status is ResolutionStatus.ESCALATED
    assert resolution.escalated
    assert resolution.winning_option is None


async def test_a_supervisor_id_without_callback_or_vote_escalates() -> None:
    """A supervisor that neither voted nor has a callback: ESCALATED."""
    resolver = ConflictResolver(supervisor_agent_id="supervisor-001")
    resolution = await resolver.resolve_conflict("c", "decision", SPLIT)
    assert resolution.status is ResolutionStatus.ESCALATED


async def test_a_failing_supervisor_callback_escalates_and_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A callback that raises is logged; the votes and tallies are kept, status ESCALATED."""

    def broken(conflict: Conflict) -> str:
        raise RuntimeError("supervisor offline")

    resolver = ConflictResolver(supervisor=broken)
    resolution = await resolver.resolve_conflict("c", "decision", SPLIT)
    assert resolution.status is ResolutionStatus.ESCALATED
    assert resolution.votes == tuple(SPLIT)
    assert "supervisor callback failed" in caplog.text


async def test_a_quorum_not_met_is_not_a_win() -> None:
    """With fewer votes than required_votes there is no winner, even a unanimous one."""
    resolver = ConflictResolver()
    resolution = await resolver.resolve_conflict(
        "c", "decision", [AgentVote("a", "x")], required_votes=2, abstentions=["b"]
    )
    assert resolution.status is ResolutionStatus.NO_CONSENSUS
    assert "1 of the 2 required votes" in resolution.reason
    assert resolution.abstentions == ("b",)
    empty = await resolver.resolve_conflict("c", "decision", [], required_votes=1)
    assert (empty.status, empty.tallies, empty.consensus_score) == (
        ResolutionStatus.NO_CONSENSUS,
        {},
        0.0,
    )


async def test_resolver_defaults_are_used() -> None:
    """default_vote_type, agent_weights, threshold and elimination_order apply when not given."""
    resolver = ConflictResolver(default_vote_type=VoteType.WEIGHTED, agent_weights={"expert": 3.0})
    votes = [
        AgentVote("expert", "approve", 0.5),
        AgentVote("n1", "reject"),
        AgentVote("n2", "reject"),
    ]
    resolution = await resolver.resolve_conflict("c", "decision", votes)
    assert resolution.vote_type == "weighted"
    assert resolution.winning_option == "reject"
    assert resolution.tallies == {"approve": 1.5, "reject": 2.0}
    assert resolution.agent_weights == {"expert": 3.0}
    strict = ConflictResolver(
        default_vote_type="supermajority", supermajority_threshold=Fraction(3, 4)
    )
    four = [AgentVote(f"a{i}", "x") for i in range(3)] + [AgentVote("b", "y")]
    assert (await strict.resolve_conflict("c", "decision", four)).winning_option == "x"
    assert (await strict.resolve_conflict("c", "decision", four)).threshold == "3/4"


async def test_timestamps_come_from_the_clock() -> None:
    """The resolution's timestamp is the injected clock's time."""
    clock = VirtualClock(epoch=1_000.0)
    resolution = await ConflictResolver(clock=clock).resolve_conflict("c", "decision", SPLIT)
    assert resolution.timestamp == 1_000.0


# -- plugins ------------------------------------------------------------------------------


class BordaPlugin:
    """A tiny plugin adding a Borda count and a method returning a full VoteCount."""

    @hookimpl
    def agentkit_register_voting_methods(self) -> Mapping[str, Any]:
        return {"borda": self.borda, "always_x": self.always_x, "broken": self.broken}

    @staticmethod
    def borda(votes: tuple[AgentVote, ...]) -> dict[str, float]:
        points: dict[str, float] = {}
        for vote in votes:
            for place, option in enumerate(reversed(vote.ballot)):
                points[option] = points.get(option, 0) + place + 1
        return points

    @staticmethod
    def always_x(votes: tuple[AgentVote, ...]) -> VoteCount:
        return VoteCount(winner="x", tallies={"x": 1.0}, consensus_score=1.0)

    @staticmethod
    def broken(votes: tuple[AgentVote, ...]) -> str:
        return "nonsense"


class ClashingPlugin:
    """Registers "borda" again and a reserved name; both are refused."""

    @hookimpl
    def agentkit_register_voting_methods(self) -> Mapping[str, Any]:
        return {"borda": lambda votes: {"clash": 1.0}, "majority": lambda votes: {}}


def plugin_manager(*plugins: object) -> PluginManager:
    """A real PluginManager (no entry points scanned) with *plugins* registered."""
    manager = PluginManager(entry_points=False)
    for index, plugin in enumerate(plugins):
        manager.pluggy_manager.register(plugin, name=f"test-plugin-{index}")
    return manager


async def test_a_plugin_voting_method_is_used_by_name() -> None:
    """vote_type may name a method a plugin added through agentkit_register_voting_methods."""
    resolver = ConflictResolver(plugins=plugin_manager(BordaPlugin()))
    assert "borda" in resolver.methods
    votes = [
        AgentVote("a", "x", ranking=("x", "y", "z")),
        AgentVote("b", "y", ranking=("y", "x", "z")),
        AgentVote("c", "z", ranking=("z", "x", "y")),
    ]
    resolution = await resolver.resolve_conflict("c", "decision", votes, "borda")
    assert resolution.vote_type == "borda"
    assert resolution.tallies == {"x": 7.0, "y": 6.0, "z": 5.0}
    assert resolution.winning_option == "x"
    assert resolution.consensus_score == pytest.approx(7 / 18)
    assert resolver.recount(resolution) == resolution
    forced = await resolver.resolve_conflict("c", "decision", votes, "always_x")
    assert forced.winning_option == "x"


async def test_a_plugin_method_returning_garbage_is_a_plugin_error() -> None:
    """A method that returns neither a VoteCount nor tallies raises PluginError."""
    resolver = ConflictResolver(plugins=plugin_manager(BordaPlugin()))
    with pytest.raises(PluginError, match="'broken' returned 'nonsense'"):
        await resolver.resolve_conflict("c", "decision", SPLIT, "broken")


async def test_clashing_plugin_methods_keep_the_first(caplog: pytest.LogCaptureFixture) -> None:
    """A second plugin naming the same method, or a built-in name, is refused and logged."""
    resolver = ConflictResolver(plugins=plugin_manager(BordaPlugin(), ClashingPlugin()))
    votes = [AgentVote("a", "x", ranking=("x", "y")), AgentVote("b", "y", ranking=("y", "x"))]
    resolution = await resolver.resolve_conflict("c", "decision", votes, "borda")
    assert "clash" not in resolution.tallies
    assert "another plugin registered it first" in caplog.text
    assert "reserved" in caplog.text
    assert (await resolver.resolve_conflict("c", "decision", votes, "majority")).tallies


# -- recount ------------------------------------------------------------------------------


@pytest.mark.parametrize("vote_type", list(VoteType))
async def test_recount_reproduces_the_resolution(vote_type: VoteType) -> None:
    """Recounting a resolution's recorded ballots gives the same resolution, for every method."""
    votes = [
        AgentVote("a", "x", 0.9, ranking=("x", "y")),
        AgentVote("b", "y", 0.4, ranking=("y", "z")),
        AgentVote("c", "z", 0.7, ranking=("z", "y")),
        AgentVote("d", "y", 0.2),
    ]
    resolver = ConflictResolver(agent_weights={"a": 0.5}, elimination_order=["z"])
    resolution = await resolver.resolve_conflict("c", "decision", votes, vote_type)
    assert resolver.recount(resolution) == resolution
    # Even a default resolver recounts it: the parameters travel with the resolution.
    wire = msgspec.msgpack.encode(resolution)
    received = msgspec.msgpack.decode(wire, type=Resolution)
    assert ConflictResolver().recount(received) == resolution


async def test_recount_reuses_the_supervisors_recorded_decision() -> None:
    """A callback's decision is recorded and reused; the callback is not asked again."""
    asked: list[Conflict] = []

    def supervise(conflict: Conflict) -> str:
        asked.append(conflict)
        return "approve"

    resolver = ConflictResolver(supervisor=supervise)
    resolution = await resolver.resolve_conflict("c", "decision", SPLIT)
    assert resolver.recount(resolution) == resolution
    assert len(asked) == 1


async def test_recount_exposes_an_altered_record() -> None:
    """Changing a recorded ballot makes the recount differ from the record."""
    resolver = ConflictResolver()
    votes = [AgentVote("a", "x"), AgentVote("b", "x"), AgentVote("c", "y")]
    resolution = await resolver.resolve_conflict("c", "decision", votes)
    forged = msgspec.structs.replace(resolution, votes=(AgentVote("a", "y"), *resolution.votes[1:]))
    recounted = resolver.recount(forged)
    assert recounted.winning_option == "y"
    assert recounted != forged


def test_voting_package_is_the_public_face_of_voting() -> None:
    """agentkit.voting exports every name it lists, and the root re-exports the same objects."""
    import agentkit
    from agentkit import voting

    for name in voting.__all__:
        assert hasattr(voting, name), name
    shared = set(voting.__all__) & set(agentkit.__all__)
    assert {"AgentVote", "ConflictResolver", "Resolution", "VoteType"} <= shared
    for name in shared:
        assert getattr(agentkit, name) is getattr(voting, name)
    assert voting.majority([agentkit.AgentVote("a", "x")]).winner == "x"
