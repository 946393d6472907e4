"""A separate process that handles a durable subscription and logs what it handled.

Usage: python tests/_durable_worker.py NATS_URL STREAM SUBJECT DURABLE OUTFILE DELAY
Each handled payload is appended to OUTFILE (one per line, flushed) before the handler
returns, so the parent test can kill this process mid-stream and see what it finished.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import agentkit


async def main(url: str, stream: str, subject: str, durable: str, out: str, delay: float) -> None:
    """Subscribe durably and handle messages until killed."""
    # A short ack_wait: what the killed worker had fetched but not acked comes back soon.
    bus = await agentkit.connect(
        url, stream=stream, dead_letter_stream=f"{stream}_DLQ", ack_wait=2.0
    )
    path = Path(out)

    async def handle(message: agentkit.PubSubMessage) -> None:
        await asyncio.sleep(delay)
        # Written synchronously on purpose: the line is on disk before the handler returns.
        with path.open("a") as handle_file:  # noqa: ASYNC230
            handle_file.write(f"{message.payload}\n")
            handle_file.flush()

    await bus.subscribe(subject, handle, durable=durable)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    url, stream, subject, durable, out, delay = sys.argv[1:7]
    asyncio.run(main(url, stream, subject, durable, out, float(delay)))
