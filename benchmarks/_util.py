"""Shared pieces of the benchmarks: timed rounds, a counting handler, result recording."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pytest

__all__ = [
    "RESULTS_KEY",
    "Counter",
    "Figure",
    "NothingToClose",
    "Round",
    "measure",
    "record",
    "release",
    "rounds",
    "run_figure",
]

#: Key under which the figures of this run are kept on ``config.stash``.
RESULTS_KEY = pytest.StashKey[list[dict[str, Any]]]()


def rounds(default: int) -> int:
    """Timed rounds per benchmark: *default*, or ``AGENTKIT_BENCH_ROUNDS`` when set."""
    return int(os.environ.get("AGENTKIT_BENCH_ROUNDS", default))


class Counter:
    """An async handler that counts calls and resolves ``done`` at the *expected*-th."""

    __slots__ = ("done", "expected", "seen")

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.seen = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def handle(self, message: object) -> None:
        """Count *message*; the same work for every backend and anchor."""
        self.seen += 1
        if self.seen == self.expected:
            self.done.set_result(None)


class Round(Protocol):
    """One timed round: built untimed, ``run`` timed, ``close`` untimed and idempotent."""

    async def run(self) -> int:
        """Do the measured work; return how many operations completed."""

    async def close(self) -> None:
        """Release what the round holds."""


class NothingToClose:
    """Base of a round that holds nothing to release: ``close`` does nothing."""

    async def close(self) -> None:
        """Nothing to release."""


def measure(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    make_round: Callable[[], Awaitable[Round]],
    *,
    expected: int,
    rounds: int,
) -> None:
    """Time ``run`` of a fresh round per pedantic round (one untimed warm-up round).

    Setup and teardown stay outside the timing. With ``--benchmark-disable`` the work runs
    once; either way every round must complete *expected* operations.
    """
    made: list[Round] = []
    completed: list[int] = []

    def setup() -> tuple[tuple[Round], dict[str, Any]]:
        work = loop.run_until_complete(make_round())
        made.append(work)
        return (work,), {}

    def target(work: Round) -> None:
        completed.append(loop.run_until_complete(work.run()))

    def teardown(work: Round) -> None:
        loop.run_until_complete(work.close())

    try:
        benchmark.pedantic(
            target, setup=setup, teardown=teardown, rounds=rounds, warmup_rounds=1, iterations=1
        )
    finally:
        # pytest-benchmark skips teardown when disabled; close() is idempotent.
        for work in made:
            loop.run_until_complete(work.close())
    assert completed, "the benchmark never ran"
    assert all(count == expected for count in completed), (
        f"expected {expected} operations per round, got {completed}"
    )


def record(
    benchmark: Any,
    config: pytest.Config,
    *,
    figure: str,
    role: str,
    label: str,
    operations: int,
    unit: str = "msgs/s",
    target: float | None = None,
) -> None:
    """Put this benchmark's median rate in ``extra_info`` and on the run's results.

    *figure* pairs an agentkit benchmark (*role* ``"agentkit"``) with its anchor (*role*
    ``"anchor"``); *target* is the agentkit/anchor ratio the agentkit side should reach.
    """
    info: dict[str, Any] = {"figure": figure, "role": role, "label": label, "unit": unit}
    if target is not None:
        info["target_ratio"] = target
    if benchmark.enabled and benchmark.stats is not None:
        median = benchmark.stats.stats.median
        rate = operations / median
        info["median_s"] = median
        info["rate"] = rate
        if unit == "msgs/s":
            info["msgs_per_s"] = rate
        else:
            info["requests_per_s"] = rate
            info["us_per_request"] = median / operations * 1e6
    benchmark.extra_info.update(info)
    config.stash.setdefault(RESULTS_KEY, []).append({"name": benchmark.name, **info})


@dataclass(frozen=True)
class Figure:
    """How one benchmark is timed and reported: one side (*role*) of a paired *figure*.

    Every round must complete *operations*; the rate is per operation. *default_rounds* goes
    through :func:`rounds` at run time, so ``AGENTKIT_BENCH_ROUNDS`` still overrides it.
    """

    figure: str
    role: str
    label: str
    operations: int
    default_rounds: int = 10
    unit: str = "msgs/s"
    target: float | None = None


def run_figure(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    config: pytest.Config,
    make_round: Callable[[], Awaitable[Round]],
    spec: Figure,
) -> None:
    """:func:`measure` fresh rounds of *make_round*, then :func:`record` them as *spec* says."""
    measure(
        benchmark,
        loop,
        make_round,
        expected=spec.operations,
        rounds=rounds(spec.default_rounds),
    )
    record(
        benchmark,
        config,
        figure=spec.figure,
        role=spec.role,
        label=spec.label,
        operations=spec.operations,
        unit=spec.unit,
        target=spec.target,
    )


async def release(owner: object, *names: str) -> None:
    """Close what *owner* holds under each of *names* (None, one closable, or a list), once.

    The attribute is emptied (None, or ``[]`` for a list) before closing, so a second call,
    as :func:`measure` makes after pytest-benchmark's teardown, closes nothing twice.
    """
    for name in names:
        held = getattr(owner, name, None)
        setattr(owner, name, [] if isinstance(held, list) else None)
        for item in held if isinstance(held, list) else [held]:
            if item is not None:
                await item.close()
