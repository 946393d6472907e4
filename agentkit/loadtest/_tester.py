"""The load tester: closed-model virtual users and open-model arrival schedules on one Clock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import inspect
import math
import os
import platform
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from agentkit._clock import SYSTEM_CLOCK, wait_for
from agentkit.exceptions import ConfigurationError
from agentkit.loadtest._profiles import (
    LoadProfile,
    closed_concurrency,
    open_scheduled_count,
    open_start_offset,
    stress_levels,
)
from agentkit.loadtest._result import (
    BreakingPoint,
    IntervalHistogram,
    LatencyRecorder,
    LoadTestResult,
    TimelinePoint,
)
from agentkit.loadtest._thresholds import Threshold, evaluate_thresholds, parse_thresholds
from agentkit.protocols import Clock

__all__ = ["LoadTester"]

#: A worker yields to the event loop after this many requests that never suspended.
_BURST = 32
#: Seconds between controller ticks (closed model) and progress redraws.
_TICK = 0.1
_PROGRESS_EVERY = 0.25
_NEVER = sys.maxsize
#: The timeline holds at most this many points: a longer run doubles the seconds per point.
MAX_TIMELINE_POINTS = 600
# A timeline row: [requests, errors, latency sum (us), latency max (us), in flight, target users,
#                  latency buckets {bucket: count}, raw latency buckets or None, raw max (us)]
_REQUESTS, _ERRORS, _SUM, _MAX, _FLYING, _USERS, _HIST, _RAW, _RAW_MAX = range(9)
_INTERVAL_BITS = 8


class LoadTester:
    """Drives a target callable under a :class:`LoadProfile` and measures it.

    Every sleep and timestamp goes through *clock* (the system clock by default), so a test
    on :class:`agentkit.testing.VirtualClock` measures exact, virtual latencies.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SYSTEM_CLOCK

    def __repr__(self) -> str:
        return f"LoadTester(clock={self._clock!r})"

    async def run_load_test(
        self,
        target: Callable[[], Any],
        profile: LoadProfile | str = LoadProfile.RAMP_UP,
        total_requests: int | None = 1000,
        concurrent_requests: int = 50,
        ramp_up_seconds: float = 30.0,
        duration_seconds: float | None = None,
        rate: float | None = None,
        *,
        timeout: float | None = None,
        stress_step_seconds: float = 5.0,
        stress_steps: int = 10,
        max_error_rate: float = 0.05,
        max_latency_ms: float | None = None,
        late_after_ms: float = 1.0,
        progress: bool | None = None,
        progress_stream: TextIO | None = None,
        thresholds: Iterable[str] | str | None = None,
    ) -> LoadTestResult:
        """Run *target* (sync or async, no arguments) under *profile* and return the result.

        The run ends when *total_requests* requests have completed or *duration_seconds*
        have passed, whichever comes first (pass ``total_requests=None`` for a run bounded
        by time only). A RAMP_UP run whose requests are all done before the ramp is over
        ends then: *ramp_up_seconds* shapes the load, it is not a minimum run time.

        Closed model (RAMP_UP, SPIKE, ENDURANCE, STRESS): up to *concurrent_requests* virtual
        users each send a request as soon as their previous one answered. Open model
        (CONSTANT_RATE, RAMPING_RATE): requests start *rate* times a second on a schedule,
        at most *concurrent_requests* at once; a start more than *late_after_ms* behind its
        schedule counts as late, and starts still due when the duration ends count as dropped.

        STRESS steps the users up in *stress_steps* steps of *stress_step_seconds* each and
        stops at the first step whose error rate exceeds *max_error_rate* or whose p99
        exceeds *max_latency_ms*; that step is the result's ``breaking_point``.

        A live progress bar goes to *progress_stream* (stderr) once the run is longer than a
        second; *progress* None means "when that stream is a terminal".

        *thresholds* are pass/fail criteria as k6 writes them (``"p95<50ms"``,
        ``"error_rate<1%"``, ``"rps>100"``; see :mod:`agentkit.loadtest`): they are checked
        before the run starts, judged on the result (``result.thresholds``), and
        ``result.passed`` says whether all held.
        """
        profile = _check(
            target, profile, total_requests, concurrent_requests, ramp_up_seconds,
            duration_seconds, rate, timeout, stress_step_seconds, stress_steps,
            max_error_rate, max_latency_ms, late_after_ms,
        )  # fmt: skip
        judged = parse_thresholds(thresholds)
        raw_only = [t.expression for t in judged if t.raw and not profile.is_open]
        if raw_only:
            raise ConfigurationError(
                f"threshold {raw_only[0]!r}: raw latencies exist only for the open-model "
                "profiles (constant_rate, ramping_rate)"
            )
        stream = progress_stream if progress_stream is not None else sys.stderr
        if progress is None:
            progress = bool(getattr(stream, "isatty", lambda: False)())
        run = _Run(
            self._clock, target, profile, total_requests, concurrent_requests,
            float(ramp_up_seconds), duration_seconds, rate, timeout,
        )  # fmt: skip
        run.stress_step_seconds = float(stress_step_seconds)
        run.stress_steps = int(stress_steps)
        run.max_error_rate = float(max_error_rate)
        run.max_latency_ms = max_latency_ms
        run.late_after = late_after_ms / 1000.0
        run.progress_stream = stream if progress else None
        run.thresholds = judged
        return await run.execute()


def _check(
    target: Any,
    profile: LoadProfile | str,
    total: int | None,
    concurrency: int,
    ramp: float,
    duration: float | None,
    rate: float | None,
    timeout: float | None,
    step_seconds: float,
    steps: int,
    max_error_rate: float,
    max_latency_ms: float | None,
    late_after_ms: float,
) -> LoadProfile:
    """Validate the arguments of a run; raise ConfigurationError naming the bad one."""
    if not callable(target):
        raise ConfigurationError(f"target must be callable, got {type(target).__name__}")
    try:
        parsed = LoadProfile.parse(profile)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None

    def positive(name: str, value: Any, *, integer: bool = False, zero: bool = False) -> None:
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            kind = "an integer" if integer else "a number"
            raise ConfigurationError(f"{name} must be {kind}, got {value!r}")
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            raise ConfigurationError(f"{name} must be {'>= 0' if zero else '> 0'}, got {value!r}")

    if total is None and duration is None:
        raise ConfigurationError("give total_requests or duration_seconds (or both)")
    if total is not None:
        positive("total_requests", total, integer=True)
    if duration is not None:
        positive("duration_seconds", duration)
    positive("concurrent_requests", concurrency, integer=True)
    positive("ramp_up_seconds", ramp, zero=True)
    positive("stress_step_seconds", step_seconds)
    positive("stress_steps", steps, integer=True)
    positive("late_after_ms", late_after_ms, zero=True)
    positive("max_error_rate", max_error_rate, zero=True)
    if timeout is not None:
        positive("timeout", timeout)
    if max_latency_ms is not None:
        positive("max_latency_ms", max_latency_ms)
    if parsed.is_open:
        if rate is None:
            raise ConfigurationError(f"the {parsed.value} profile needs rate= (requests/s)")
        positive("rate", rate)
    elif rate is not None:
        raise ConfigurationError(
            "rate= is for the open-model profiles (constant_rate, ramping_rate), "
            f"not {parsed.value}"
        )
    return parsed


def _is_async(target: Any) -> bool:
    if inspect.iscoroutinefunction(target):
        return True
    call = getattr(target, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return inspect.iscoroutinefunction(call)


class _Run:
    """The state of one run; the hot loops read and bump these attributes directly."""

    def __init__(
        self,
        clock: Clock,
        target: Callable[[], Any],
        profile: LoadProfile,
        total: int | None,
        concurrency: int,
        ramp: float,
        duration: float | None,
        rate: float | None,
        timeout: float | None,
    ) -> None:
        self.clock = clock
        self.mono = clock.monotonic
        self.target = target
        self.profile = profile
        self.total = total
        self.limit = total if total is not None else _NEVER
        self.concurrency = concurrency
        self.ramp = ramp
        self.duration = duration
        self.rate = rate or 0.0
        self.timeout = timeout
        self.stress_step_seconds = 5.0
        self.stress_steps = 10
        self.max_error_rate = 0.05
        self.max_latency_ms: float | None = None
        self.late_after = 0.001
        self.progress_stream: TextIO | None = None
        self.recorder = LatencyRecorder()
        self.raw = LatencyRecorder() if profile.is_open else None
        self.step_recorder: LatencyRecorder | None = None
        self.issued = 0
        self.successes = 0
        self.failures = 0
        self.errors: dict[str, int] = {}
        self.active = 0
        self.target_users = 0
        self.stopping = False
        self.launching = True
        self.late = 0
        self.dropped = 0
        self.breaking: BreakingPoint | None = None
        self.thresholds: list[Threshold] = []
        self.timeline: list[list[Any]] = []  # rows as described at _REQUESTS...
        self.width = 1  # seconds per timeline row
        self.started_at = 0.0
        self.t0 = 0.0
        self.last_end = 0.0
        self.deadline = math.inf
        self.done = asyncio.Event()
        self.slot = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.pool: ThreadPoolExecutor | None = None
        self.call = self._make_call()
        self._drawn = False

    # -- the call -------------------------------------------------------------------------
    def _make_call(self) -> Callable[[], Awaitable[Any]]:
        target = self.target
        if _is_async(target):
            base: Callable[[], Awaitable[Any]] = target
        else:
            loop = asyncio.get_running_loop()
            self.pool = ThreadPoolExecutor(
                max_workers=self.concurrency, thread_name_prefix="agentkit-loadtest"
            )
            pool = self.pool

            async def base() -> Any:
                result = await loop.run_in_executor(pool, target)
                if inspect.isawaitable(result):
                    result = await result
                return result

        if self.timeout is None:
            return base
        clock, timeout = self.clock, self.timeout

        def timed() -> Awaitable[Any]:
            return wait_for(clock, base(), timeout)

        return timed

    # -- bookkeeping ------------------------------------------------------------------------
    def bucket(self, now: float) -> list[Any]:
        """The timeline row for time *now*; a run past the last row gets new rows, and one
        past :data:`MAX_TIMELINE_POINTS` rows merges them in pairs first."""
        row = int((now - self.t0) // self.width)
        while row >= MAX_TIMELINE_POINTS:
            self.widen()
            row = int((now - self.t0) // self.width)
        timeline = self.timeline
        while len(timeline) <= row:
            raw: dict[int, int] | None = {} if self.raw is not None else None
            timeline.append([0, 0, 0, 0, 0, 0, {}, raw, 0])
        return timeline[row]

    def widen(self) -> None:
        """Double the seconds per timeline row, merging the rows in pairs."""
        merged: list[list[Any]] = []
        rows = self.timeline
        for index in range(0, len(rows), 2):
            first = rows[index]
            for second in rows[index + 1 : index + 2]:
                for slot in (_REQUESTS, _ERRORS, _SUM):
                    first[slot] += second[slot]
                for slot in (_MAX, _FLYING, _USERS, _RAW_MAX):
                    first[slot] = max(first[slot], second[slot])
                for slot in (_HIST, _RAW):
                    if first[slot] is not None:
                        first[slot] = _merged(first[slot], second[slot])
            merged.append(first)
        self.timeline = merged
        self.width *= 2

    def fail(self, exc: BaseException, end: float) -> None:
        name = type(exc).__name__
        self.errors[name] = self.errors.get(name, 0) + 1
        self.failures += 1
        self.last_end = end
        b = self.bucket(end)
        b[_REQUESTS] += 1
        b[_ERRORS] += 1

    def finished_one(self) -> None:
        self.active -= 1
        if self.active == 0 and (not self.launching or self.issued >= self.limit):
            self.done.set()
        self.slot.set()

    # -- closed model -----------------------------------------------------------------------
    async def worker(self) -> None:
        mono = self.mono
        call = self.call
        record = self.recorder.record
        burst = 0
        try:
            deadline = self.deadline
            while (
                not self.stopping and self.active <= self.target_users and self.issued < self.limit
            ):
                start = mono()
                if start >= deadline:
                    break
                self.issued += 1
                try:
                    await call()
                except Exception as exc:
                    self.fail(exc, mono())
                else:
                    end = mono()
                    us = int((end - start) * 1_000_000 + 0.5)
                    record(us)
                    step = self.step_recorder
                    if step is not None:
                        step.record(us)
                    self.successes += 1
                    self.last_end = end
                    row = int((end - self.t0) // self.width)
                    timeline = self.timeline
                    b = timeline[row] if row < len(timeline) else self.bucket(end)
                    b[0] += 1
                    b[2] += us
                    if us > b[3]:
                        b[3] = us
                    if self.active > b[4]:
                        b[4] = self.active
                    counts = b[6]
                    shift = us.bit_length() - _INTERVAL_BITS
                    key = (us >> shift) << shift if shift > 0 else us
                    counts[key] = counts.get(key, 0) + 1
                burst += 1
                if burst >= _BURST:
                    burst = 0
                    await asyncio.sleep(0)
        finally:
            self.finished_one()

    def spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def closed(self) -> None:
        stress = self.profile is LoadProfile.STRESS
        levels = stress_levels(self.concurrency, self.stress_steps) if stress else []
        phase = self.duration / 3 if self.duration is not None else self.ramp
        step_index = 0
        step_start = (0, 0)  # (completed, failures) when the step began
        if stress:
            self.step_recorder = LatencyRecorder()
        tick = min(_TICK, self.stress_step_seconds / 10) if stress else _TICK
        while True:
            elapsed = self.mono() - self.t0
            if self.duration is not None and elapsed >= self.duration:
                break
            if self.issued >= self.limit:
                break
            if stress:
                index = int(elapsed // self.stress_step_seconds)
                if index != step_index:
                    step_start = self.close_step(levels[step_index], step_start)
                    step_index = index
                    if self.breaking is not None or step_index >= len(levels):
                        break
                users = levels[step_index]
            else:
                users = closed_concurrency(
                    self.profile, elapsed, self.concurrency, self.ramp, phase
                )
            self.target_users = users
            while self.active < users and self.issued < self.limit:
                self.active += 1
                self.spawn(self.worker())
            b = self.bucket(self.mono())
            b[_USERS] = max(b[_USERS], users)
            if self.active > b[_FLYING]:
                b[_FLYING] = self.active
            with contextlib.suppress(TimeoutError):
                await wait_for(self.clock, self.done.wait(), tick)
            if self.done.is_set():
                break
        self.stopping = True

    def close_step(self, users: int, begin: tuple[int, int]) -> tuple[int, int]:
        """Judge a finished STRESS step; set the breaking point if it broke a limit."""
        assert self.step_recorder is not None
        completed = self.successes + self.failures
        count = completed - begin[0]
        failures = self.failures - begin[1]
        error_rate = failures / count if count else 0.0
        p99 = self.step_recorder.summary().p99
        reason = ""
        if count and error_rate > self.max_error_rate:
            reason = f"error rate {error_rate:.1%} > {self.max_error_rate:.1%}"
        elif self.max_latency_ms is not None and p99 > self.max_latency_ms:
            reason = f"p99 {p99:.1f} ms > {self.max_latency_ms:g} ms"
        if reason:
            self.breaking = BreakingPoint(
                concurrency=users,
                requests_per_second=count / self.stress_step_seconds,
                error_rate=error_rate,
                latency_p99=p99,
                reason=reason,
            )
        self.step_recorder = LatencyRecorder()
        return completed, self.failures

    # -- open model -------------------------------------------------------------------------
    async def one_open(self, intended: float, start: float) -> None:
        try:
            await self.call()
        except Exception as exc:
            self.fail(exc, self.mono())
        else:
            end = self.mono()
            corrected = int((end - intended) * 1_000_000 + 0.5)
            raw = int((end - start) * 1_000_000 + 0.5)
            self.recorder.record(corrected)
            assert self.raw is not None
            self.raw.record(raw)
            self.successes += 1
            self.last_end = end
            b = self.bucket(end)
            b[_REQUESTS] += 1
            b[_SUM] += corrected
            if corrected > b[_MAX]:
                b[_MAX] = corrected
            _count(b[_HIST], corrected)
            _count(b[_RAW], raw)
            if raw > b[_RAW_MAX]:
                b[_RAW_MAX] = raw
        finally:
            self.finished_one()

    async def open(self) -> None:
        clock, mono, t0 = self.clock, self.mono, self.t0
        index = 0
        unslept = 0
        deadline = t0 + self.duration if self.duration is not None else None
        while index < self.limit:
            offset = open_start_offset(self.profile, index, self.rate, self.ramp)
            if self.duration is not None and offset >= self.duration:
                break
            intended = t0 + offset
            now = mono()
            if now < intended:
                unslept = 0
                await clock.sleep(intended - now)
            while self.active >= self.concurrency:
                self.slot.clear()
                remaining = None if deadline is None else deadline - mono()
                if remaining is not None and remaining <= 0:
                    break
                try:
                    await wait_for(clock, self.slot.wait(), remaining)
                except TimeoutError:
                    break
            if deadline is not None and mono() >= deadline:
                break
            start = mono()
            if start - intended > self.late_after:
                self.late += 1
            self.active += 1
            b = self.bucket(start)
            if self.active > b[_FLYING]:
                b[_FLYING] = self.active
            self.spawn(self.one_open(intended, start))
            index += 1
            unslept += 1
            if unslept >= _BURST:
                unslept = 0
                await asyncio.sleep(0)
        if self.duration is not None:
            scheduled = open_scheduled_count(self.profile, self.duration, self.rate, self.ramp)
            self.dropped = max(0, min(scheduled, self.limit) - index)

    # -- progress ---------------------------------------------------------------------------
    async def progress_loop(self) -> None:
        while True:
            await self.clock.sleep(_PROGRESS_EVERY)
            self.draw(final=False)

    def draw(self, *, final: bool) -> None:
        stream = self.progress_stream
        if stream is None:
            return
        elapsed = self.mono() - self.t0
        if not self._drawn and (final or elapsed < 1.0):
            return
        self._drawn = True
        completed = self.successes + self.failures
        if self.total is not None:
            fraction = completed / self.total
        elif self.duration is not None:
            fraction = min(1.0, elapsed / self.duration)
        else:
            fraction = 0.0
        width = 30
        filled = int(width * fraction)
        bar = "#" * filled + "." * (width - filled)
        rps = completed / elapsed if elapsed > 0 else 0.0
        p95 = self.recorder.summary().p95
        stream.write(
            f"\r[{bar}] {fraction:4.0%} {completed} req {rps:,.0f} req/s p95 {p95:.1f} ms "
            f"errors {self.failures} in flight {self.active}  "
        )
        if final:
            stream.write("\n")
        stream.flush()

    # -- the run ----------------------------------------------------------------------------
    async def execute(self) -> LoadTestResult:
        self.started_at = self.clock.time()
        self.t0 = self.mono()
        self.last_end = self.t0
        if self.duration is not None:
            self.deadline = self.t0 + self.duration
        progress = (
            asyncio.ensure_future(self.progress_loop())
            if self.progress_stream is not None
            else None
        )
        try:
            if self.profile.is_open:
                await self.open()
            else:
                await self.closed()
            self.launching = False
            self.stopping = True
            if self.active == 0:
                self.done.set()
            await self.done.wait()
        finally:
            self.stopping = True
            if progress is not None:
                progress.cancel()
            for task in list(self.tasks):
                task.cancel()
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
        self.draw(final=True)
        return self.result()

    def result(self) -> LoadTestResult:
        end = max(self.last_end, self.t0)
        timeline: list[TimelinePoint] = []
        wanted = (50.0, 95.0, 99.0)
        for index, row in enumerate(self.timeline):
            count, errors, lat_sum, lat_max, flying, users, counts, raw_counts, raw_max = row
            ok = count - errors
            p50, p95, p99 = (IntervalHistogram(counts).percentiles(wanted)[p] for p in wanted)
            raw_values: dict[str, float | None] = dict.fromkeys(
                ("raw_p50", "raw_p95", "raw_p99", "raw_max")
            )
            if raw_counts is not None:
                raw_pct = IntervalHistogram(raw_counts).percentiles(wanted)
                raw_values = {
                    "raw_p50": raw_pct[50.0],
                    "raw_p95": raw_pct[95.0],
                    "raw_p99": raw_pct[99.0],
                    "raw_max": raw_max / 1000.0,
                }
            timeline.append(
                TimelinePoint(
                    second=index * self.width,
                    requests=count,
                    errors=errors,
                    latency_mean=lat_sum / ok / 1000.0 if ok else 0.0,
                    latency_max=lat_max / 1000.0,
                    concurrency=flying,
                    target_concurrency=users,
                    seconds=self.width,
                    latency_p50=p50,
                    latency_p95=p95,
                    latency_p99=p99,
                    **raw_values,
                )
            )
        settings: dict[str, Any] = {
            "total_requests": self.total,
            "concurrent_requests": self.concurrency,
            "ramp_up_seconds": self.ramp,
            "duration_seconds": self.duration,
            "rate": self.rate if self.profile.is_open else None,
            "timeout": self.timeout,
        }
        result = LoadTestResult(
            profile=self.profile.value,
            total=self.successes + self.failures,
            successes=self.successes,
            errors=dict(self.errors),
            duration_seconds=end - self.t0,
            latency=self.recorder.summary(),
            raw_latency=self.raw.summary() if self.raw is not None else None,
            timeline=timeline,
            late_starts=self.late,
            dropped_starts=self.dropped,
            breaking_point=self.breaking,
            distribution=self.recorder.distribution(),
            settings=settings,
            percentiles=self.recorder.percentile_distribution(),
            raw_percentiles=self.raw.percentile_distribution() if self.raw is not None else None,
            histogram=self.recorder.encode(),
            raw_histogram=self.raw.encode() if self.raw is not None else None,
            meta=self.meta(end),
        )
        if self.thresholds:
            result.thresholds = evaluate_thresholds(result, self.thresholds)
        return result

    def meta(self, end: float) -> dict[str, Any]:
        """What ran, when and on what: for the report's header."""
        target = self.target
        name = getattr(target, "__qualname__", None) or type(target).__qualname__
        module = getattr(target, "__module__", None)
        started = datetime.datetime.fromtimestamp(self.started_at, tz=datetime.UTC)
        try:
            load = [round(value, 2) for value in os.getloadavg()]
        except OSError:  # not on every platform
            load = []
        return {
            "target": f"{module}:{name}" if module else name,
            "started_at": started.isoformat(timespec="seconds"),
            "timeline_seconds_per_point": self.width,
            "host": {
                "platform": platform.platform(terse=True),
                "python": platform.python_version(),
                "cpus": os.cpu_count() or 0,
                "load_average": load,
            },
        }


def _count(counts: dict[int, int] | None, microseconds: int) -> None:
    """Count one latency into a timeline row's bucket dict (see IntervalHistogram)."""
    if counts is None:
        return
    shift = microseconds.bit_length() - _INTERVAL_BITS
    key = (microseconds >> shift) << shift if shift > 0 else microseconds
    counts[key] = counts.get(key, 0) + 1


def _merged(first: dict[int, int], second: dict[int, int]) -> dict[int, int]:
    for key, count in second.items():
        first[key] = first.get(key, 0) + count
    return first
