"""``agentkit demo``: a short tour of the bus, on memory:// unless told otherwise."""

from __future__ import annotations

import asyncio
from typing import TextIO

from agentkit._connect import connect
from agentkit._messages import MessagePriority, PubSubMessage

__all__ = ["run"]


async def run(url: str | None = None, *, out: TextIO | None = None) -> int:
    """Run the demo against the bus at *url*; return an exit code."""

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    bus = await connect(url, retry_delay=0.01)
    say(f"agentkit demo on {type(bus).__name__}")
    received: list[str] = []
    gate = asyncio.Event()

    async def analyst(message: PubSubMessage) -> None:
        await gate.wait()  # hold the first message so the rest queue up by priority
        received.append(f"{message.priority.name:<8} {message.payload['alert']}")

    async def risk_scorer(message: PubSubMessage) -> dict[str, object]:
        amount = float(message.payload["amount"])
        return {"transaction": message.payload["id"], "risk": round(min(amount / 10_000, 1), 2)}

    def flaky_auditor(message: PubSubMessage) -> None:
        raise ConnectionError("audit store unreachable")

    try:
        await bus.subscribe("alerts.>", analyst)
        await bus.subscribe("risk.score", risk_scorer, queue="scorers")
        await bus.subscribe("audit.log", flaky_auditor, max_attempts=3)

        say("\n1. Priorities: five alerts published while the analyst is busy")
        for priority, alert in [
            (MessagePriority.NORMAL, "first alert (already being handled)"),
            (MessagePriority.LOW, "disk 71% full"),
            (MessagePriority.NORMAL, "login from a new device"),
            (MessagePriority.CRITICAL, "card testing attack on T-12345"),
            (MessagePriority.HIGH, "velocity limit hit on T-12346"),
        ]:
            await bus.publish(
                f"alerts.fraud.{priority.name.lower()}",
                PubSubMessage(
                    topic="alerts.fraud",
                    from_agent="monitor-001",
                    payload={"alert": alert},
                    priority=priority,
                ),
            )
        gate.set()
        await bus.drain()
        for line in received:
            say(f"   handled  {line}")

        say("\n2. Request/reply to a queue group of risk scorers")
        reply = await bus.request("risk.score", {"id": "T-12345", "amount": 8_700}, timeout=5)
        say(f"   reply    {reply.payload}")

        say("\n3. A handler that keeps failing: retried with backoff, then dead-lettered")
        await bus.publish("audit.log", {"event": "account blocked", "account": "A-77"})
        await bus.drain()
        for letter in bus.dead_letters():
            say(
                f"   dead letter {letter.dead_letter_id}: {letter.error_type}: {letter.error}"
                f" after {letter.attempts} attempts (payload {letter.message.payload})"
            )
        say(f"\n   history of alerts.fraud.critical: {len(bus.history('alerts.fraud.critical'))}")
        say("\nDone. Embed it: `bus = await agentkit.connect('memory://')` (see README.md).")
    finally:
        await bus.close()
    return 0
