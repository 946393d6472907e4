"""A separate process that handles a durable subscription and logs what it handled.

Usage: python tests/bus/_durable_worker.py NATS_URL STREAM SUBJECT DURABLE OUTFILE DELAY
[MAX_CONCURRENCY [FAIL_EVERY]]

Each handled payload is appended to OUTFILE (one line, one ``write`` on an ``O_APPEND``
descriptor, so the kernel has it before the handler returns and a SIGKILL cannot tear a line)
so the parent test can kill this process mid-stream and see what it finished. With FAIL_EVERY
> 0, the handler raises for every payload ``n`` with ``n % FAIL_EVERY == FAIL_EVERY - 1``: those
messages must end in the dead-letter stream.
"""

from __future__ import annotations

import asyncio
import os
import sys

import agentkit


async def main(
    url: str,
    stream: str,
    subject: str,
    durable: str,
    out: str,
    delay: float,
    max_concurrency: int,
    fail_every: int,
) -> None:
    """Subscribe durably and handle messages until killed."""
    # A short ack_wait: what the killed worker had fetched but not acked comes back soon.
    # NatsPubSub directly, not agentkit.connect: no plugin discovery, so a replacement
    # worker is up in well under a second.
    bus = await agentkit.NatsPubSub(
        url,
        stream=stream,
        dead_letter_stream=f"{stream}_DLQ",
        ack_wait=2.0,
        retry_delay=0.05,
        max_retry_delay=0.2,
    ).connect()
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def handle(message: agentkit.PubSubMessage) -> None:
        await asyncio.sleep(delay)
        if fail_every and message.payload % fail_every == fail_every - 1:
            raise ValueError(f"payload {message.payload} always fails")
        os.write(fd, f"{message.payload}\n".encode())

    await bus.subscribe(subject, handle, durable=durable, max_concurrency=max_concurrency)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    url, stream, subject, durable, out, delay = sys.argv[1:7]
    concurrency = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    fail_every = int(sys.argv[8]) if len(sys.argv) > 8 else 0
    asyncio.run(main(url, stream, subject, durable, out, float(delay), concurrency, fail_every))
