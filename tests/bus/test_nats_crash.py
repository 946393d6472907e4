"""Durable delivery across subscriber crashes: worker processes SIGKILLed while messages flow.

Every published message must end handled (written by a worker's handler) or in the
dead-letter stream: 0 lost. Duplicates are allowed (at-least-once) and are counted and printed.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import agentkit
from agentkit import NatsPubSub
from agentkit.bus._messages import decode_dead_letter
from agentkit.testing import NatsServer

pytestmark = [pytest.mark.nats]

WORKER = Path(__file__).with_name("_durable_worker.py")


@pytest.fixture
def server() -> Iterator[NatsServer]:
    """A nats-server of this test's own."""
    with NatsServer() as nats_server:
        yield nats_server


class Workers:
    """Worker processes sharing one durable name, started, killed and replaced by the test."""

    def __init__(
        self,
        url: str,
        stream: str,
        subject: str,
        out: Path,
        *,
        delay: float,
        max_concurrency: int,
        fail_every: int = 0,
    ) -> None:
        self.args = [
            sys.executable,
            str(WORKER),
            url,
            stream,
            subject,
            "crashy",
            str(out),
            str(delay),
            str(max_concurrency),
            str(fail_every),
        ]
        self.running: list[subprocess.Popen[str]] = []
        self.all: list[subprocess.Popen[str]] = []
        self.kills = 0

    def _spawn(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        return process

    async def start(self) -> None:
        """Start one more worker and wait until it subscribed."""
        process = await asyncio.to_thread(self._spawn)
        self.running.append(process)
        self.all.append(process)

    async def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a random running worker (no chance to ack or clean up)."""
        while not self.running:  # noqa: ASYNC110 - every worker killed: wait for a replacement
            await asyncio.sleep(0.05)
        victim = self.running.pop(rng.randrange(len(self.running)))
        victim.kill()
        await asyncio.to_thread(victim.wait, 10)
        self.kills += 1

    def stop_all(self) -> None:
        """Kill every worker this test started (teardown)."""
        for process in self.all:
            process.kill()
            process.wait(timeout=10)
        self.running.clear()


def _handled(out: Path) -> Counter[int]:
    return Counter(int(line) for line in out.read_text().splitlines() if line)


async def _dead_lettered(bus: NatsPubSub) -> Counter[int]:
    """Payloads of every dead letter stored in the bus's dead-letter stream."""
    info = await bus._js.stream_info(bus.dead_letter_stream)
    payloads: Counter[int] = Counter()
    if not info.state.messages:
        return payloads
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        stored = await bus._js.get_msg(bus.dead_letter_stream, sequence)
        payloads[decode_dead_letter(stored.data).message.payload] += 1
    return payloads


async def _settled(bus: NatsPubSub, out: Path, total: int, timeout: float) -> None:
    """Wait until every id is handled or dead-lettered and the consumer holds nothing."""
    async with asyncio.timeout(timeout):
        while True:
            done = set(_handled(out)) | set(await _dead_lettered(bus))
            info = await bus._js.consumer_info(bus.stream, "crashy")
            if len(done) == total and not info.num_pending and not info.num_ack_pending:
                return
            await asyncio.sleep(0.2)


@pytest.mark.timeout(120)
async def test_ten_sigkills_while_5000_messages_flow_lose_nothing(
    server: NatsServer, tmp_path: Path
) -> None:
    """Two workers, one SIGKILLed at random ten times and replaced: every id handled or dead."""
    total, kills, concurrency = 5_000, 10, 2
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    stream = f"C{uuid.uuid4().hex[:8]}"
    subject = "crash.jobs"
    out = tmp_path / "handled.txt"
    out.touch()
    started = time.monotonic()
    bus = await agentkit.connect(server.url, stream=stream, dead_letter_stream=f"{stream}_DLQ")
    assert isinstance(bus, NatsPubSub)
    await bus._ensure_streams()
    # Every 997th payload always fails: those must end in the dead-letter stream.
    workers = Workers(
        server.url, stream, subject, out, delay=0.01, max_concurrency=concurrency, fail_every=997
    )

    async def publish(first: int, count: int) -> None:
        for n in range(first, first + count):
            await bus.publish(subject, n, durable=True)
            if n % 10 == 9:
                await asyncio.sleep(0.002)

    chunk = total // kills
    try:
        await workers.start()
        await workers.start()
        replacements = []
        for index in range(kills):
            # Each kill lands at a random point while a chunk is published and handled;
            # the replacement starts while the next chunk flows to the surviving worker.
            publisher = asyncio.create_task(publish(index * chunk, chunk))
            await asyncio.sleep(rng.uniform(0.05, 0.8))
            await workers.kill_one(rng)
            replacements.append(asyncio.create_task(workers.start()))
            await publisher
        await asyncio.gather(*replacements)
        print(
            f"\nkills done after {time.monotonic() - started:.1f} s, handled {len(_handled(out))}"
        )
        await _settled(bus, out, total, timeout=90)
        handled = _handled(out)
        dead = await _dead_lettered(bus)
    finally:
        workers.stop_all()
        await bus.close(timeout=5)
    failing = {n for n in range(total) if n % 997 == 996}
    lost = set(range(total)) - set(handled) - set(dead)
    duplicates = sum(handled.values()) - len(handled)
    print(
        f"\ncrash test (seed {seed}): {workers.kills} SIGKILLs, {total} messages, lost"
        f" {len(lost)}, duplicate runs {duplicates}, dead-lettered {sum(dead.values())},"
        f" {time.monotonic() - started:.1f} s"
    )
    assert workers.kills == kills
    assert lost == set()
    # A kill can repeat only what that worker's handlers had finished but not yet acked.
    assert duplicates <= kills * 2 * concurrency
    assert set(dead) == failing
    assert not failing & set(handled)


@pytest.mark.timeout(120)
async def test_backlog_of_3000_survives_a_sigkill_and_is_never_prefetched(
    server: NatsServer, tmp_path: Path
) -> None:
    """A worker facing 3,000 backlogged messages holds few at a time; killed, nothing is lost."""
    total, concurrency = 3_000, 2
    stream = f"B{uuid.uuid4().hex[:8]}"
    subject = "backlog.jobs"
    out = tmp_path / "handled.txt"
    out.touch()
    started = time.monotonic()
    bus = await agentkit.connect(server.url, stream=stream, dead_letter_stream=f"{stream}_DLQ")
    assert isinstance(bus, NatsPubSub)
    workers = Workers(server.url, stream, subject, out, delay=0.01, max_concurrency=concurrency)
    try:
        for n in range(total):
            await bus.publish(subject, n, durable=True)
        await workers.start()
        held: list[int] = []
        for _ in range(15):
            await asyncio.sleep(0.1)
            info = await bus._js.consumer_info(stream, "crashy")
            held.append(info.num_ack_pending)
        await workers.kill_one(random.Random(0))
        await workers.start()
        await _settled(bus, out, total, timeout=90)
        handled = _handled(out)
        dead = await _dead_lettered(bus)
    finally:
        workers.stop_all()
        await bus.close(timeout=5)
    lost = set(range(total)) - set(handled) - set(dead)
    duplicates = sum(handled.values()) - len(handled)
    print(
        f"\nbacklog test: {total} messages, 1 SIGKILL, lost {len(lost)}, duplicate runs"
        f" {duplicates}, most held at once {max(held)}, {time.monotonic() - started:.1f} s"
    )
    # Fetches go only into free handler slots; a late answer to one pull may add as many.
    assert max(held) <= 2 * concurrency
    assert lost == set()
    assert duplicates <= 2 * concurrency
    assert not dead
