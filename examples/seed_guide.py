"""Every example of the seed guide (shared/seed/enterprise-features-guide.md), run for real.

The rule (DESIGN.md section 0): each block runs inside an ``async def`` with its imports
changed to agentkit, after a short prelude that only defines the names the guide leaves
undefined. The block bodies below are the guide's code, unchanged apart from the imports.
A block is added here with the issue that makes it work.

Run: ``python examples/seed_guide.py`` (exits non-zero if any block fails).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

# -- shared prelude: names the guide uses across blocks ----------------------------------------
shared: dict[str, Any] = {}


async def pubsub_messaging() -> None:
    """Guide section 1, "Pub-Sub Messaging"."""
    # imports changed: src.agents.pubsub -> agentkit
    from agentkit import InMemoryPubSub, MessagePriority, PubSubMessage

    # --- the guide's block, verbatim ---
    # Create pub-sub system
    pubsub = InMemoryPubSub()

    # Define message handler
    async def handle_message(msg: PubSubMessage):
        print(f"Received from {msg.from_agent}: {msg.payload}")

    # Subscribe to topic
    await pubsub.subscribe("alerts", handle_message)

    # Publish message
    msg = PubSubMessage(
        topic="alerts",
        from_agent="agent-001",
        payload={"alert": "System degradation detected"},
        priority=MessagePriority.HIGH
    )
    await pubsub.publish("alerts", msg)
    # --- end of the guide's block ---

    # publish() returns once the message is queued; let the handler run before moving on.
    await pubsub.drain()
    shared["pubsub"] = pubsub


BLOCKS: list[tuple[str, Callable[[], Awaitable[None]]]] = [
    ("Pub-Sub Messaging", pubsub_messaging),
]


async def main() -> int:
    """Run every block in order; return the number that failed."""
    failed = 0
    for title, block in BLOCKS:
        print(f"== {title}")
        try:
            await block()
        except Exception as exc:
            failed += 1
            print(f"!! {title} failed: {type(exc).__name__}: {exc}")
    return failed


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main()) else 0)
