"""Agents: the ``AgentProtocol``, an ``Agent`` base class, the swarm wire format, ``attach``.

A swarm called ``NAME`` uses these subjects (all messages are ``PubSubMessage``\\ s whose
payload is one of the versioned Structs below):

======================================  ===============  ========================================
subject                                 payload          sent by
======================================  ===============  ========================================
``agentkit.swarm.NAME.broadcast``       ``Broadcast``    ``AgentSwarm.broadcast``
``agentkit.swarm.NAME.ballot``          ``Ballot``       ``AgentSwarm.request_consensus``
``agentkit.swarm.NAME.votes``           ``BallotVote``   each agent, answering a ballot
``agentkit.swarm.NAME.work.AGENT_ID``   ``WorkItem``     ``AgentSwarm.distribute_work``
``agentkit.swarm.NAME.results``         ``WorkResult``   each agent, when a work item is done
======================================  ===============  ========================================

Any process connected to the same bus can host agents: :func:`attach` subscribes an agent so
it answers broadcasts, ballots and work (``agentkit worker`` does this for a factory).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import weakref
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

import msgspec

from agentkit.bus import PubSubMessage, new_message_id
from agentkit.exceptions import ConfigurationError
from agentkit.observability import telemetry
from agentkit.voting import AgentVote

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

    from agentkit.protocols import Bus, Subscription

__all__ = [
    "SWARM_WIRE_VERSION",
    "Agent",
    "AgentAttachment",
    "AgentProtocol",
    "Ballot",
    "BallotVote",
    "Broadcast",
    "WorkItem",
    "WorkResult",
    "attach",
    "swarm_subject",
    "validate_agent_id",
    "validate_swarm_name",
]

logger = logging.getLogger("agentkit.swarm")

#: Version of the swarm messages; a receiver skips (and logs) messages from a newer version.
SWARM_WIRE_VERSION = 1

SWARM_PREFIX = "agentkit.swarm"

#: Longest text (an option, an id) put on a span.
_MAX_SHOWN = 256

_SWARM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_BAD_AGENT_ID = re.compile(r"[\s*>]|^\.|\.$|\.\.")


def validate_swarm_name(name: str) -> str:
    """Return *name* if it can be one subject token; ``ConfigurationError`` otherwise."""
    if not isinstance(name, str) or not _SWARM_NAME.match(name):
        raise ConfigurationError(
            f"swarm name {name!r} must be 1-128 letters, digits, '_' or '-' (it becomes a"
            " subject token: agentkit.swarm.<name>.*)"
        )
    return name


def validate_agent_id(agent_id: str) -> str:
    """Return *agent_id* if it can end a subject (work is sent to ``...work.<agent_id>``)."""
    if not isinstance(agent_id, str) or not agent_id or _BAD_AGENT_ID.search(agent_id):
        raise ConfigurationError(
            f"agent id {agent_id!r} must be a non-empty name without whitespace, '*', '>' or"
            " empty dot-separated parts"
        )
    return agent_id


def swarm_subject(swarm_name: str, kind: str, agent_id: str | None = None) -> str:
    """The subject of *kind* (broadcast, ballot, votes, work, results) in a swarm."""
    subject = f"{SWARM_PREFIX}.{swarm_name}.{kind}"
    return subject if agent_id is None else f"{subject}.{agent_id}"


class Broadcast(msgspec.Struct, frozen=True, kw_only=True):
    """A message to every agent of a swarm."""

    swarm: str
    from_agent: str
    content: str
    data: Any = None
    version: int = SWARM_WIRE_VERSION


class Ballot(msgspec.Struct, frozen=True, kw_only=True):
    """A request for votes: agents answer with an :class:`AgentVote` before ``deadline``.

    ``options`` restricts what may be voted for (None: anything); ``members`` are the agents
    asked (empty: every agent of the swarm); ``deadline`` is a timestamp of the swarm's clock.
    """

    ballot_id: str
    swarm: str
    from_agent: str
    question: str
    context: dict[str, Any] = msgspec.field(default_factory=dict)
    options: tuple[str, ...] | None = None
    vote_type: str = "majority"
    members: tuple[str, ...] = ()
    deadline: float = 0.0
    reply_subject: str = ""
    version: int = SWARM_WIRE_VERSION


class BallotVote(msgspec.Struct, frozen=True, kw_only=True):
    """An agent's answer to a ballot."""

    ballot_id: str
    vote: AgentVote
    version: int = SWARM_WIRE_VERSION


class WorkItem(msgspec.Struct, frozen=True, kw_only=True):
    """One task assigned to one agent; ``index`` is its place in the list given."""

    work_id: str
    swarm: str
    from_agent: str
    agent_id: str
    index: int
    task: Any = None
    reply_subject: str = ""
    version: int = SWARM_WIRE_VERSION


class WorkResult(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a work item: ``result`` when ``ok``, else ``error_type`` and ``error``."""

    work_id: str
    swarm: str
    agent_id: str
    index: int
    ok: bool
    result: Any = None
    error: str | None = None
    error_type: str | None = None
    version: int = SWARM_WIRE_VERSION


@runtime_checkable
class AgentProtocol(Protocol):
    """What a swarm member implements (subclass :class:`Agent`, or write your own).

    ``vote`` may return None to abstain; an exception in ``vote`` is logged and counts as an
    abstention. ``work``'s return value (anything msgpack encodes) is the work result; an
    exception becomes a failed :class:`WorkResult`.
    """

    @property
    def agent_id(self) -> str:
        """This agent's id, unique in its swarm."""
        ...

    async def handle(self, message: PubSubMessage) -> Any:
        """React to a broadcast (or any other message routed to the agent)."""
        ...

    async def vote(self, ballot: Ballot) -> AgentVote | None:
        """Answer *ballot*, or return None to abstain."""
        ...

    async def work(self, item: WorkItem) -> Any:
        """Do *item*'s task and return its result."""
        ...


class Agent:
    """A base class for agents: override ``vote``, ``work`` and ``handle`` as needed.

    By default an agent records broadcasts in ``received`` (the latest 100), abstains from
    votes, and fails work items with ``NotImplementedError``.
    """

    def __init__(self, agent_id: str) -> None:
        self._agent_id = validate_agent_id(agent_id)
        self.received: list[PubSubMessage] = []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._agent_id!r}>"

    @property
    def agent_id(self) -> str:
        """This agent's id."""
        return self._agent_id

    async def handle(self, message: PubSubMessage) -> Any:
        """Keep *message* in ``received`` (bounded to the latest 100)."""
        self.received.append(message)
        del self.received[:-100]
        return None

    async def vote(self, ballot: Ballot) -> AgentVote | None:
        """Abstain; subclasses decide."""
        return None

    async def work(self, item: WorkItem) -> Any:
        """Subclasses do the work; the base class cannot."""
        raise NotImplementedError(f"{type(self).__name__} does not implement work()")


StructT = TypeVar("StructT", bound=msgspec.Struct)


def _shown(text: str) -> str:
    """*text* cut to at most _MAX_SHOWN characters for a span attribute."""
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _describe_vote(span: Span, vote: AgentVote) -> None:
    """The vote's choice, confidence and weight on its span."""
    span.set_attribute("agentkit.vote.abstained", False)
    span.set_attribute("agentkit.vote.option", _shown(str(vote.option)))
    span.set_attribute("agentkit.vote.confidence", float(vote.confidence))
    if vote.weight is not None:
        span.set_attribute("agentkit.vote.weight", float(vote.weight))


def _vote_failed(span: Span, exc: BaseException) -> None:
    """An agent that could not vote (it raised, or answered something else): status ERROR."""
    from opentelemetry.trace import Status, StatusCode

    span.record_exception(exc)
    span.set_attribute("error.type", type(exc).__qualname__)
    span.set_attribute("agentkit.vote.abstained", True)
    span.set_status(Status(StatusCode.ERROR, _shown(str(exc))))


def read_payload(message: PubSubMessage, kind: type[StructT]) -> StructT | None:
    """The message's payload as *kind*, or None (logged) when it is not one or too new."""
    payload = message.payload
    try:
        value = payload if isinstance(payload, kind) else msgspec.convert(payload, kind)
    except msgspec.ValidationError as exc:
        logger.warning("ignored a message on %r: not a %s: %s", message.topic, kind.__name__, exc)
        return None
    version = getattr(value, "version", SWARM_WIRE_VERSION)
    if version > SWARM_WIRE_VERSION:
        logger.warning(
            "ignored a %s on %r: wire version %s is newer than this agentkit's (%s)",
            kind.__name__,
            message.topic,
            version,
            SWARM_WIRE_VERSION,
        )
        return None
    return value


class AgentAttachment:
    """An agent subscribed to a swarm's subjects on a bus; ``detach()`` ends it."""

    def __init__(self, agent: AgentProtocol, bus: Bus, swarm_name: str) -> None:
        self.agent = agent
        self.bus = bus
        self.swarm_name = swarm_name
        self.subscriptions: list[Subscription] = []
        self.votes_cast = 0
        self.work_done = 0
        self._voting = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<AgentAttachment {self.agent.agent_id!r} swarm={self.swarm_name!r}>"

    @property
    def attached(self) -> bool:
        """True until ``detach``."""
        return bool(self.subscriptions)

    async def on_broadcast(self, message: PubSubMessage) -> Any:
        """Hand a broadcast to the agent."""
        return await self.agent.handle(message)

    async def on_ballot(self, message: PubSubMessage) -> None:
        """Ask the agent for a vote and send it to the ballot's reply subject."""
        ballot = read_payload(message, Ballot)
        agent_id = self.agent.agent_id
        if ballot is None or (ballot.members and agent_id not in ballot.members):
            return
        await self.answer(ballot)

    async def answer(self, ballot: Ballot) -> None:
        """Ask the agent for a vote on *ballot* and send it; one ballot at a time per agent.

        The caller checked that the agent is asked; a failure to send is logged. With
        OpenTelemetry tracing on, the vote is a span ``vote <swarm>`` (a child of the current
        span, the ballot's delivery), current while the agent decides and the vote is sent.
        """
        async with self._voting:
            try:
                tracer = telemetry.tracer
                if tracer is None:
                    await self._answer(ballot)
                else:
                    await self._answer_traced(ballot, tracer)
            except Exception:
                logger.exception(
                    "agent %r cannot send its vote on %s", self.agent.agent_id, ballot.ballot_id
                )

    async def _answer_traced(self, ballot: Ballot, tracer: Tracer) -> None:
        """``_answer`` inside the vote's span (tracing is on)."""
        from opentelemetry.trace import SpanKind, Status, StatusCode, use_span

        span = tracer.start_span(
            f"vote {self.swarm_name}",
            kind=SpanKind.INTERNAL,
            attributes={
                "agentkit.agent.id": self.agent.agent_id,
                "agentkit.swarm.name": self.swarm_name,
                "agentkit.consensus.id": _shown(ballot.ballot_id),
                "agentkit.voting.method": _shown(ballot.vote_type),
            },
        )
        with use_span(
            span, end_on_exit=True, record_exception=False, set_status_on_exception=False
        ):
            try:
                await self._answer(ballot, span)
            except BaseException as exc:
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, _shown(str(exc))))
                raise

    async def _answer(self, ballot: Ballot, span: Span | None = None) -> None:
        agent_id = self.agent.agent_id
        try:
            vote: Any = await self.agent.vote(ballot)
        except Exception as exc:
            logger.exception(
                "agent %r failed to vote on %s; abstaining", agent_id, ballot.ballot_id
            )
            if span is not None:
                _vote_failed(span, exc)
            return
        if vote is None:
            if span is not None:
                span.set_attribute("agentkit.vote.abstained", True)
            return
        if not isinstance(vote, AgentVote):
            logger.warning(
                "agent %r answered ballot %s with %r, not an AgentVote",
                agent_id,
                ballot.ballot_id,
                vote,
            )
            if span is not None:
                _vote_failed(span, TypeError(f"{type(vote).__name__} is not an AgentVote"))
            return
        if vote.agent_id != agent_id:
            # An agent votes for itself only.
            vote = msgspec.structs.replace(vote, agent_id=agent_id)
        if span is not None:
            _describe_vote(span, vote)
        answer = BallotVote(ballot_id=ballot.ballot_id, vote=vote)
        await self.bus.publish(
            ballot.reply_subject,
            PubSubMessage(
                topic=ballot.reply_subject,
                from_agent=agent_id,
                payload=answer,
                correlation_id=ballot.ballot_id,
            ),
        )
        self.votes_cast += 1

    async def on_work(self, message: PubSubMessage) -> None:
        """Run the agent on a work item and send the outcome to its reply subject."""
        item = read_payload(message, WorkItem)
        if item is None:
            return
        agent_id = self.agent.agent_id
        try:
            output = await self.agent.work(item)
        except Exception as exc:
            logger.warning("agent %r failed work item %s: %r", agent_id, item.work_id, exc)
            result = WorkResult(
                work_id=item.work_id,
                swarm=item.swarm,
                agent_id=agent_id,
                index=item.index,
                ok=False,
                error=str(exc) or type(exc).__name__,
                error_type=type(exc).__qualname__,
            )
        else:
            result = WorkResult(
                work_id=item.work_id,
                swarm=item.swarm,
                agent_id=agent_id,
                index=item.index,
                ok=True,
                result=output,
            )
        reply = PubSubMessage(
            topic=item.reply_subject,
            from_agent=agent_id,
            payload=result,
            correlation_id=item.work_id,
        )
        try:
            await self.bus.publish(item.reply_subject, reply)
        except Exception as exc:  # e.g. a result msgpack cannot encode
            logger.warning("agent %r cannot send the result of %s: %r", agent_id, item.work_id, exc)
            failure = msgspec.structs.replace(
                result, ok=False, result=None, error=str(exc), error_type=type(exc).__qualname__
            )
            await self.bus.publish(
                item.reply_subject, msgspec.structs.replace(reply, payload=failure)
            )
        self.work_done += 1

    async def detach(self) -> None:
        """Unsubscribe the agent (messages already queued are still handled)."""
        subscriptions, self.subscriptions = self.subscriptions, []
        for subscription in subscriptions:
            await subscription.unsubscribe()


async def attach(
    agent: AgentProtocol, bus: Bus, swarm_name: str, *, max_concurrency: int = 1
) -> AgentAttachment:
    """Subscribe *agent* to swarm *swarm_name* on *bus*: it then answers broadcasts, ballots
    and work sent to it, from this or any other process on the same bus.

    *max_concurrency* bounds how many work items the agent runs at once.
    """
    validate_swarm_name(swarm_name)
    agent_id = validate_agent_id(agent.agent_id)
    attachment = AgentAttachment(agent, bus, swarm_name)
    try:
        attachment.subscriptions.append(
            await bus.subscribe(swarm_subject(swarm_name, "broadcast"), attachment.on_broadcast)
        )
        attachment.subscriptions.append(await _BallotDesk.join(attachment))
        attachment.subscriptions.append(
            await bus.subscribe(
                swarm_subject(swarm_name, "work", agent_id),
                attachment.on_work,
                max_concurrency=max_concurrency,
            )
        )
    except BaseException:
        await attachment.detach()
        raise
    logger.debug("agent %r attached to swarm %r", agent_id, swarm_name)
    return attachment


class _BallotDesk:
    """The one ballot subscription of a swarm's agents attached to one bus in this process.

    A ballot names its members; each agent decoding its own copy and scanning that list would
    make a round cost O(members) per agent. The desk decodes each ballot once, turns its
    members into a set once, and asks each local member to vote, concurrently (a task per
    vote still pending after its first step; one ballot at a time per agent). Its handler
    returns when every local vote on the ballot is sent, so ``bus.drain()`` covers the votes.
    """

    #: Ballots handled at once by one desk (each agent still answers one at a time).
    CONCURRENT_BALLOTS = 64
    #: Votes started in one step of the event loop before the desk lets other work run.
    VOTES_PER_STEP = 256
    _desks: ClassVar[weakref.WeakKeyDictionary[Any, dict[str, _BallotDesk]]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, bus: Bus, swarm_name: str) -> None:
        self.bus = bus
        self.swarm_name = swarm_name
        self.attachments: list[AgentAttachment] = []
        self.subscription: Subscription | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def join(cls, attachment: AgentAttachment) -> Subscription:
        """Add *attachment* to its bus's desk for its swarm; its handle leaves the desk."""
        bus, name = attachment.bus, attachment.swarm_name
        try:
            desks = cls._desks.setdefault(bus, {})
        except TypeError:  # a bus that cannot be weakly referenced: a subscription per agent
            return await bus.subscribe(swarm_subject(name, "ballot"), attachment.on_ballot)
        desk = desks.get(name)
        if desk is None:
            desk = desks[name] = cls(bus, name)
        async with desk._lock:
            if desk.subscription is None:
                desk.subscription = await bus.subscribe(
                    swarm_subject(name, "ballot"),
                    desk.on_ballot,
                    max_concurrency=cls.CONCURRENT_BALLOTS,
                )
            desk.attachments.append(attachment)
        return _DeskSeat(desk, attachment)

    async def leave(self, attachment: AgentAttachment) -> None:
        """Remove *attachment*; the last one out unsubscribes the desk."""
        async with self._lock:
            if attachment in self.attachments:
                self.attachments.remove(attachment)
            if self.attachments or self.subscription is None:
                return
            subscription, self.subscription = self.subscription, None
            desks = self._desks.get(self.bus)
            if desks is not None and desks.get(self.swarm_name) is self:
                del desks[self.swarm_name]
        await subscription.unsubscribe()

    async def on_ballot(self, message: PubSubMessage) -> None:
        """Ask every local member of the ballot to vote; return when all votes are sent."""
        ballot = read_payload(message, Ballot)
        if ballot is None:
            return
        asked = self.attachments
        if ballot.members:
            members = frozenset(ballot.members)
            asked = [each for each in asked if each.agent.agent_id in members]
        pending = []
        # Traced, each vote runs in a context of its own: its span is current in it alone.
        traced = telemetry.tracer is not None
        for index, attachment in enumerate(asked, 1):
            rest = _start_eagerly(
                attachment.answer(ballot), contextvars.copy_context() if traced else None
            )
            if rest is not None:
                pending.append(rest)
            if not index % self.VOTES_PER_STEP:
                # Thousands of local agents: let the loop in between, as separate
                # subscriptions would.
                await asyncio.sleep(0)
        if pending:
            await asyncio.gather(*pending)


def _start_eagerly(
    coro: Coroutine[Any, None, None], context: contextvars.Context | None = None
) -> asyncio.Future[None] | None:
    """Run *coro* now up to its first suspension: None if it finished, else a task for the rest.

    Most votes are decided without waiting (or after one wait); running them in the caller's
    step saves a task and a trip through the event loop per vote, which is most of what a
    vote costs. (``asyncio.eager_task_factory`` does this from Python 3.12 on.) With
    *context*, every step of *coro* runs in it (as a task made with that context would), so
    context variables it sets (the current span) stay its own.
    """
    try:
        yielded = coro.send(None) if context is None else context.run(coro.send, None)
    except StopIteration:
        return None
    except BaseException:
        coro.close()
        raise
    if context is None:
        return asyncio.ensure_future(_resume(coro, yielded))
    return asyncio.get_running_loop().create_task(_resume(coro, yielded), context=context)


async def _resume(coro: Coroutine[Any, None, None], yielded: Any) -> None:
    """Drive *coro* on from a suspension that yielded *yielded*, as its own task would."""
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)  # a bare yield: the loop's turn
            else:
                # The future *coro* waits for (cancelling this task cancels it too). Like a
                # task, take it over: a future still marked as awaited refuses a second await.
                yielded._asyncio_future_blocking = False
                await yielded
        except BaseException:  # noqa: S110
            # *coro* reads the future's outcome (its error, or the cancellation) itself.
            pass
        try:
            yielded = coro.send(None)
        except StopIteration:
            return


class _DeskSeat:
    """An attachment's place at a :class:`_BallotDesk`, held like a subscription."""

    def __init__(self, desk: _BallotDesk, attachment: AgentAttachment) -> None:
        self.desk = desk
        self.attachment = attachment

    @property
    def subject(self) -> str:
        return swarm_subject(self.desk.swarm_name, "ballot")

    @property
    def queue(self) -> str | None:
        return None

    @property
    def pending(self) -> int:
        subscription = self.desk.subscription
        return 0 if subscription is None else subscription.pending

    async def unsubscribe(self) -> None:
        await self.desk.leave(self.attachment)


def new_id(prefix: str) -> str:
    """A fresh id for a ballot or work item."""
    return f"{prefix}-{new_message_id()}"
