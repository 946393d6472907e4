"""Routing at scale: publishing to fresh subjects with 1 to 10,000 wildcard subscriptions.

Per-entity subjects (``orders.<id>.created``) always miss the route cache, so each publish
pays for matching. One ``InMemoryPubSub`` per size holds N wildcard subscriptions of three
shapes (``svc<i>.*.created``, ``svc<i>.>``, ``*.svc<i>.created``); publish number k goes to a
subject never seen before that matches exactly subscription k mod N, so every publish builds,
encodes and queues one message at every size. Beside the bus (the subscription index) runs
the routing it replaced, a linear scan with ``subject_matches`` over every subscription (a
subclass restoring the old ``_route``), up to 1,000 subscriptions.

Three ways of publishing, each timed over the ``publish`` calls of a round:

* **burst**: publishes back to back, handlers run afterwards (untimed). With one subscription
  only the first message of a round wakes its worker; with N, each of the first N does, so
  at 1,000 and more every publish also pays a worker wake-up (and touches a subscription
  cold in the CPU cache) that the 1-subscription case does not.
* **paced**: the publisher yields to the event loop after each publish, as a service handling
  one request at a time does; every message then wakes its worker and is handled at every
  size (the constant loop cost dilutes the ratio).
* **hot**: burst, but publish k matches subscription k mod 3 whatever N is: the per-entity
  case (many services' wildcard subscriptions, traffic for a few), where delivery costs the
  same at every size and only matching can grow.

The sides are **interleaved in rounds** in one process (short rounds, many of them), the
order rotating each round, one ``gc.collect()`` before each round. Each side's publishes are
timed in CPU time (``time.process_time``: one thread that never waits, so the rest of the
wall time is other processes holding the CPU of the shared machine) and wall time. Printed:
each side's median µs per publish, the spread over rounds (min-max), and the growth factor
over the cost at one subscription (of the medians, and per round min-max); the table gets
the CPU-time figures. Run with ``pytest benchmarks/bench_routing.py
--benchmark-only -s``; under ``--benchmark-disable`` each side runs once and must deliver
every message.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import time
from typing import Any

import pytest
from _util import RESULTS_KEY, rounds

from agentkit import InMemoryPubSub, PubSubMessage, subject_matches
from agentkit.bus import BusSubscription

SIZES = (1, 10, 100, 1_000, 10_000)
#: The linear scan costs about 1-3 µs per subscription per publish: stop it at 1,000.
LINEAR_SIZES = (1, 10, 100, 1_000)
PUBLISHES = 500
LINEAR_PUBLISHES = 50
#: Mode -> (yield after each publish, rotate over at most this many subscriptions).
MODES: dict[str, tuple[bool, int | None]] = {
    "burst": (False, None),
    "paced": (True, None),
    "hot": (False, 3),
}
FIGURE = "publish to fresh subjects"
#: Cost at 1,000 and 10,000 subscriptions at most 2x the cost at 1: a speed ratio >= 0.5.
TARGET = 0.5
ROUND_TIMEOUT = 60.0

_fresh = itertools.count()


class LinearScanPubSub(InMemoryPubSub):
    """The routing the index replaced: every subscription tested with subject_matches."""

    def _route(self, topic: str) -> Any:
        route = self._routes.get(topic)
        if route is None:
            plain = tuple(
                subscription
                for subscription in self._subscriptions
                if subscription.queue is None and subject_matches(subscription.subject, topic)
            )
            if len(self._routes) >= 10_000:
                self._routes.clear()
            route = self._routes[topic] = (plain, ())
        return route


def _pattern(number: int) -> str:
    return (f"svc{number}.*.created", f"svc{number}.>", f"*.svc{number}.created")[number % 3]


def _fresh_subject(number: int) -> str:
    """A subject never published before that matches the subscription *number* only."""
    if number % 3 == 2:
        return f"e{next(_fresh)}.svc{number}.created"
    return f"svc{number}.e{next(_fresh)}.created"


class Side:
    """One bus with *size* wildcard subscriptions, built once, published to each round."""

    def __init__(
        self,
        bus: InMemoryPubSub,
        size: int,
        publishes: int,
        *,
        paced: bool = False,
        targets: int | None = None,
    ) -> None:
        self.bus = bus
        self.size = size
        self.publishes = publishes
        self.paced = paced
        #: How many subscriptions the publishes rotate over (all of them by default).
        self.targets = size if targets is None else min(size, targets)
        self.seen = 0
        self.subscriptions: list[BusSubscription] = []

    def handle(self, message: PubSubMessage) -> None:
        """Count a delivery."""
        self.seen += 1

    async def open(self) -> Side:
        for number in range(self.size):
            self.subscriptions.append(await self.bus.subscribe(_pattern(number), self.handle))
        # Checked here, not per round: walking every pattern just before the timed publishes
        # would leave the CPU caches colder for the larger sizes (measured: +35% at 10,000).
        for target in {0, 1, 2, self.size - 1} & set(range(self.targets)):
            subject = _fresh_subject(target)
            matching = [n for n in range(self.size) if subject_matches(_pattern(n), subject)]
            assert matching == [target], (subject, matching)
        return self

    async def timed_round(self) -> tuple[float, float]:
        """Wall and CPU seconds of one round's publishes; then wait (untimed) until handled."""
        subjects = [_fresh_subject(index % self.targets) for index in range(self.publishes)]
        before = self.seen
        publish = self.bus.publish
        started, started_cpu = time.perf_counter(), time.process_time()
        if self.paced:
            for index, subject in enumerate(subjects):
                await publish(subject, index)
                await asyncio.sleep(0)
        else:
            for index, subject in enumerate(subjects):
                await publish(subject, index)
        seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        deadline = time.monotonic() + ROUND_TIMEOUT
        while self.seen - before < self.publishes:
            assert time.monotonic() < deadline, "the handlers fell behind"
            await asyncio.sleep(0)
        assert self.seen - before == self.publishes
        return seconds, cpu


async def _interleaved(
    timed_rounds: int, *, warm_up: bool
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU µs per publish of each side per round; the order rotates every round."""
    sides: dict[str, Side] = {}
    for mode, (paced, targets) in MODES.items():
        for size in SIZES:
            side = Side(InMemoryPubSub(), size, PUBLISHES, paced=paced, targets=targets)
            sides[f"{mode}/index/{size}"] = await side.open()
    for size in LINEAR_SIZES:
        side = Side(LinearScanPubSub(), size, LINEAR_PUBLISHES)
        sides[f"burst/linear/{size}"] = await side.open()
    names = list(sides)
    try:
        if warm_up:
            for name in names:
                await sides[name].timed_round()
        wall: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        for index in range(timed_rounds):
            shift = index % len(names)
            # One collection per round, not per side: with 30,000 subscriptions alive it
            # takes longer than a side's publishes.
            gc.collect()
            for name in names[shift:] + names[:shift]:
                side = sides[name]
                seconds, cpu_seconds = await side.timed_round()
                wall[name].append(seconds / side.publishes * 1e6)
                cpu[name].append(cpu_seconds / side.publishes * 1e6)
    finally:
        for side in sides.values():
            await side.bus.close()
    return wall, cpu


def _growth(values: list[float], base: list[float]) -> str:
    """Median cost over the 1-subscription median, and the per-round ratios (min-max)."""
    per_round = sorted(value / first for value, first in zip(values, base, strict=True))
    ratio = statistics.median(values) / statistics.median(base)
    return f"{ratio:.2f}x (per round {per_round[0]:.2f}-{per_round[-1]:.2f}x)"


def _report(
    config: pytest.Config, node: str, wall: dict[str, list[float]], cpu: dict[str, list[float]]
) -> None:
    """Print per-publish medians, spreads and growth factors; record the paired figures.

    The table gets CPU time: the work is one thread that never waits, so wall time beyond
    it is time other processes on the shared machine held the CPU.
    """
    for mode, kind in (*((mode, "index") for mode in MODES), ("burst", "linear")):
        label = "subscription index" if kind == "index" else "linear scan (previous _route)"
        for size in SIZES if kind == "index" else LINEAR_SIZES:
            key, base = f"{mode}/{kind}/{size}", f"{mode}/{kind}/1"
            print(
                f"{FIGURE} ({mode}), {label}, {size:,}: CPU median"
                f" {statistics.median(cpu[key]):.2f} µs/publish (rounds {min(cpu[key]):.2f}-"
                f"{max(cpu[key]):.2f}), growth {_growth(cpu[key], cpu[base])}; wall median"
                f" {statistics.median(wall[key]):.2f} µs, growth {_growth(wall[key], wall[base])}"
            )
    for mode in MODES:
        for size, role in ((1, "anchor"), (1_000, "agentkit"), (10_000, "agentkit")):
            median = statistics.median(cpu[f"{mode}/index/{size}"])
            info: dict[str, Any] = {
                "name": f"{node}[{mode}-{size}]",
                "figure": f"{FIGURE} ({mode}, CPU time)",
                "role": role,
                "label": f"{size:,} wildcard subscription{'s' if size > 1 else ''}",
                "unit": "msgs/s",
                "rate": 1e6 / median,
                "msgs_per_s": 1e6 / median,
                "median_s": median / 1e6,
            }
            if role == "agentkit":
                info["target_ratio"] = TARGET
            config.stash.setdefault(RESULTS_KEY, []).append(info)


@pytest.mark.timeout(900)
def test_publish_to_fresh_subjects_scales_with_subscriptions(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """Per-publish cost to fresh subjects at 1 to 10,000 wildcard subscriptions, interleaved."""
    enabled = bool(benchmark.enabled)
    timed_rounds = rounds(30) if enabled else 1
    measured: dict[str, tuple[dict[str, list[float]], dict[str, list[float]]]] = {}

    def run_all() -> None:
        # The interleaving happens inside; pytest-benchmark times the whole session once.
        measured["times"] = bench_loop.run_until_complete(
            _interleaved(timed_rounds, warm_up=enabled)
        )

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    wall, cpu = measured["times"]
    assert all(len(values) == timed_rounds for values in [*wall.values(), *cpu.values()])
    if enabled:
        _report(request.config, request.node.name, wall, cpu)
