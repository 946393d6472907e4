"""Routing at scale: publishing to fresh subjects with 1 to 10,000 wildcard subscriptions.

Per-entity subjects (``orders.<id>.created``) always miss the route cache, so each publish
pays for matching. One ``InMemoryPubSub`` per size holds N wildcard subscriptions of three
shapes (``svc<i>.*.created``, ``svc<i>.>``, ``*.svc<i>.created``); each publish goes to a
subject never seen before that matches exactly one of them, so the work other than matching
(building, encoding, queueing one message) is the same at every size. Beside the bus (the
subscription index) runs the routing it replaced, a linear scan with ``subject_matches``
over every subscription (a subclass restoring the old ``_route``), up to 1,000 subscriptions.

Timed: the ``publish`` calls of a round (``publish`` returns once the message is queued for
every matching subscription); the handlers then run untimed and must have seen every
message. The sides (every size of both) are **interleaved in rounds** in one process, the
order rotating each round, a ``gc.collect()`` before each timed run. Printed: each side's
median µs per publish, the spread over rounds, and the growth factor over the cost at one
subscription (of the medians, and per round min-max). Run with
``pytest benchmarks/bench_routing.py --benchmark-only -s``; under ``--benchmark-disable``
each side runs once and must deliver every message.
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
PUBLISHES = 2_000
LINEAR_PUBLISHES = 200
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

    def __init__(self, bus: InMemoryPubSub, size: int, publishes: int) -> None:
        self.bus = bus
        self.size = size
        self.publishes = publishes
        self.seen = 0
        self.subscriptions: list[BusSubscription] = []

    def handle(self, message: PubSubMessage) -> None:
        """Count a delivery."""
        self.seen += 1

    async def open(self) -> Side:
        for number in range(self.size):
            self.subscriptions.append(await self.bus.subscribe(_pattern(number), self.handle))
        return self

    async def timed_round(self) -> float:
        """Seconds for the publishes of one round; then wait (untimed) until all handled."""
        subjects = [_fresh_subject(index % self.size) for index in range(self.publishes)]
        assert all(
            sum(subject_matches(_pattern(number), subject) for number in range(self.size)) == 1
            for subject in subjects[: min(self.publishes, 3)]
        )
        before = self.seen
        publish = self.bus.publish
        gc.collect()
        started = time.perf_counter()
        for index, subject in enumerate(subjects):
            await publish(subject, index)
        seconds = time.perf_counter() - started
        deadline = time.monotonic() + ROUND_TIMEOUT
        while self.seen - before < self.publishes:
            assert time.monotonic() < deadline, "the handlers fell behind"
            await asyncio.sleep(0)
        assert self.seen - before == self.publishes
        return seconds


async def _interleaved(timed_rounds: int, *, warm_up: bool) -> dict[str, list[float]]:
    """µs per publish of each side per round; the order of the sides rotates every round."""
    sides: dict[str, Side] = {}
    for size in SIZES:
        sides[f"index/{size}"] = await Side(InMemoryPubSub(), size, PUBLISHES).open()
    for size in LINEAR_SIZES:
        sides[f"linear/{size}"] = await Side(LinearScanPubSub(), size, LINEAR_PUBLISHES).open()
    names = list(sides)
    try:
        if warm_up:
            for name in names:
                await sides[name].timed_round()
        per_publish: dict[str, list[float]] = {name: [] for name in names}
        for index in range(timed_rounds):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                side = sides[name]
                seconds = await side.timed_round()
                per_publish[name].append(seconds / side.publishes * 1e6)
    finally:
        for side in sides.values():
            await side.bus.close()
    return per_publish


def _report(config: pytest.Config, node: str, micros: dict[str, list[float]]) -> None:
    """Print per-publish medians, spreads and growth factors; record the paired figures."""
    for kind in ("index", "linear"):
        base = micros[f"{kind}/1"]
        base_median = statistics.median(base)
        label = "subscription index" if kind == "index" else "linear scan (previous _route)"
        for size in SIZES if kind == "index" else LINEAR_SIZES:
            values = micros[f"{kind}/{size}"]
            median = statistics.median(values)
            growth = sorted(v / b for v, b in zip(values, base, strict=True))
            print(
                f"{FIGURE}, {label}, {size:,} subscriptions: median {median:.2f} µs/publish"
                f" (rounds {min(values):.2f}-{max(values):.2f}); growth over 1 subscription"
                f" {median / base_median:.2f}x (per round {growth[0]:.2f}-{growth[-1]:.2f}x)"
            )
    for size, role in ((1, "anchor"), (1_000, "agentkit"), (10_000, "agentkit")):
        median = statistics.median(micros[f"index/{size}"])
        info: dict[str, Any] = {
            "name": f"{node}[{size}]",
            "figure": FIGURE,
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
    timed_rounds = rounds(10) if enabled else 1
    measured: dict[str, dict[str, list[float]]] = {}

    def run_all() -> None:
        # The interleaving happens inside; pytest-benchmark times the whole session once.
        measured["micros"] = bench_loop.run_until_complete(
            _interleaved(timed_rounds, warm_up=enabled)
        )

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    micros = measured["micros"]
    assert all(len(values) == timed_rounds for values in micros.values())
    if enabled:
        _report(request.config, request.node.name, micros)
