"""Interleaved rounds: every side of a figure runs once per round, in one process, in turn.

Drift on the shared machine (another job starting, the CPU clocking down) then hits every
side alike instead of whichever ran last. Each side is a callable that does one round of
its work (setup untimed, inside) and returns the seconds its timed part took; the order
rotates every round and a ``gc.collect()`` runs before each timed run. :func:`report` records
the medians for the conftest's table and prints them with the spread over the rounds and the
per-round ratio.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from _util import RESULTS_KEY

__all__ = ["Side", "interleave", "interleave_async", "report", "run_interleaved", "timing"]


@dataclass(frozen=True)
class Side:
    """One side of a figure: *role* ``"agentkit"`` or ``"anchor"``, *operations* per round."""

    key: str
    role: str
    label: str
    operations: int


def _orders(keys: Sequence[str], rounds: int) -> list[list[str]]:
    return [
        list(keys[index % len(keys) :]) + list(keys[: index % len(keys)]) for index in range(rounds)
    ]


def interleave(
    runs: dict[str, Callable[[], float]], rounds: int, *, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds of each side per round, the sides alternating (*warmup* untimed rounds first)."""
    times: dict[str, list[float]] = {key: [] for key in runs}
    for index, order in enumerate(_orders(list(runs), warmup + rounds)):
        for key in order:
            gc.collect()
            seconds = runs[key]()
            if index >= warmup:
                times[key].append(seconds)
    return times


async def interleave_async(
    runs: dict[str, Callable[[], Awaitable[float]]], rounds: int, *, warmup: int = 1
) -> dict[str, list[float]]:
    """:func:`interleave` for sides that are coroutines (run on the current loop)."""
    times: dict[str, list[float]] = {key: [] for key in runs}
    for index, order in enumerate(_orders(list(runs), warmup + rounds)):
        for key in order:
            gc.collect()
            await asyncio.sleep(0)
            seconds = await runs[key]()
            if index >= warmup:
                times[key].append(seconds)
    return times


def timing(run: Callable[[], Awaitable[int]], expected: int) -> Callable[[], Awaitable[float]]:
    """A side that times *run*, which must report *expected* operations done."""

    async def timed() -> float:
        started = time.perf_counter()
        done = await run()
        elapsed = time.perf_counter() - started
        assert done == expected, f"expected {expected} operations, got {done}"
        return elapsed

    return timed


def run_interleaved(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    runs: dict[str, Callable[[], Awaitable[float]]],
    rounds: int,
) -> dict[str, list[float]] | None:
    """Interleave *runs* on *loop* inside one pytest-benchmark run; None when benchmarks are
    disabled (then every side ran once, untimed, and checked its work)."""
    enabled = bool(benchmark.enabled)
    measured: dict[str, dict[str, list[float]]] = {}

    def run_all() -> None:
        measured["times"] = loop.run_until_complete(
            interleave_async(runs, rounds if enabled else 1, warmup=1 if enabled else 0)
        )

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    if "times" not in measured:
        run_all()
    return measured["times"] if enabled else None


def report(
    config: pytest.Config,
    figure: str,
    agentkit: Side,
    anchor: Side | None,
    times: dict[str, list[float]],
    *,
    target: float | None = None,
    unit: str = "op",
) -> dict[str, float]:
    """Record both sides of *figure* for the table and print medians, spread and ratio.

    Returns the median µs per operation of each side by key. The ratio is speed over speed
    (anchor time / agentkit time), of the medians and per round (min-max).
    """
    medians: dict[str, float] = {}
    per_op: dict[str, list[float]] = {}
    for side in (agentkit, anchor):
        if side is None:
            continue
        values = [seconds / side.operations * 1e6 for seconds in times[side.key]]
        per_op[side.key] = values
        median = statistics.median(values)
        medians[side.key] = median
        entry: dict[str, Any] = {
            "name": f"{figure} [{side.key}]",
            "figure": figure,
            "role": side.role,
            "label": side.label,
            "unit": "req/s",
            "rate": 1e6 / median,
            "requests_per_s": 1e6 / median,
            "us_per_request": median,
            "median_s": median / 1e6,
            "spread_us": (min(values), max(values)),
            "rounds": len(values),
        }
        if target is not None and side.role == "agentkit":
            entry["target_ratio"] = target
        config.stash.setdefault(RESULTS_KEY, []).append(entry)
        print(
            f"\n{figure}: {side.label}: median {median:,.2f} µs/{unit} "
            f"(rounds {min(values):,.2f}-{max(values):,.2f}, n={len(values)})",
            end="",
        )
    if anchor is not None:
        ours, theirs = per_op[agentkit.key], per_op[anchor.key]
        ratios = [their / our for our, their in zip(ours, theirs, strict=True)]
        ratio = medians[anchor.key] / medians[agentkit.key]
        print(
            f"\n{figure}: speed ratio agentkit/anchor {ratio:.2f}x "
            f"(per round {min(ratios):.2f}-{max(ratios):.2f})"
            + (f", target >= {target:.2f}x" if target is not None else ""),
            end="",
        )
    print()
    return medians
