"""Load profiles: virtual users (closed model) or starts per second (open model) over time."""

from __future__ import annotations

import enum
import math

__all__ = [
    "LoadProfile",
    "closed_concurrency",
    "open_scheduled_count",
    "open_start_offset",
    "stress_levels",
]


class LoadProfile(enum.Enum):
    """The shape of a load test.

    Closed model (a fixed set of virtual users, each sending its next request when the last
    one answered): ``RAMP_UP``, ``SPIKE``, ``ENDURANCE``, ``STRESS``. Open model (requests
    start on a schedule whether or not earlier ones answered; latency counts from each
    request's intended start): ``CONSTANT_RATE``, ``RAMPING_RATE``.
    """

    RAMP_UP = "ramp_up"
    SPIKE = "spike"
    ENDURANCE = "endurance"
    STRESS = "stress"
    CONSTANT_RATE = "constant_rate"
    RAMPING_RATE = "ramping_rate"

    @property
    def is_open(self) -> bool:
        """True for the open-model (arrival-rate) profiles."""
        return self in (LoadProfile.CONSTANT_RATE, LoadProfile.RAMPING_RATE)

    @classmethod
    def parse(cls, name: str | LoadProfile) -> LoadProfile:
        """The profile called *name* (``"ramp-up"``, ``"RAMP_UP"`` and ``"ramp_up"`` all work)."""
        if isinstance(name, LoadProfile):
            return name
        key = str(name).strip().lower().replace("-", "_")
        for profile in cls:
            if profile.value == key:
                return profile
        choices = ", ".join(p.value for p in cls)
        raise ValueError(f"unknown load profile {name!r}; choose one of: {choices}")


def closed_concurrency(
    profile: LoadProfile,
    elapsed: float,
    maximum: int,
    ramp_up_seconds: float,
    phase_seconds: float,
) -> int:
    """The number of virtual users a closed-model *profile* wants *elapsed* seconds in.

    RAMP_UP grows linearly from 1 to *maximum* over *ramp_up_seconds*, then holds.
    SPIKE holds a baseline (a tenth of *maximum*, at least 1) for *phase_seconds*, jumps to
    *maximum* for *phase_seconds*, then drops back to the baseline. ENDURANCE holds *maximum*.
    (STRESS is stepped by the tester itself; see :func:`stress_levels`.)
    """
    if profile is LoadProfile.RAMP_UP:
        if ramp_up_seconds <= 0 or elapsed >= ramp_up_seconds:
            return maximum
        return max(1, min(maximum, math.ceil(maximum * elapsed / ramp_up_seconds)))
    if profile is LoadProfile.SPIKE:
        baseline = max(1, maximum // 10)
        if phase_seconds <= elapsed < 2 * phase_seconds:
            return maximum
        return baseline
    return maximum


def stress_levels(maximum: int, steps: int) -> list[int]:
    """The concurrency of each STRESS step: *steps* even steps up to *maximum* (no repeats)."""
    steps = max(1, min(steps, maximum))
    return sorted({max(1, round(maximum * (i + 1) / steps)) for i in range(steps)})


def open_start_offset(
    profile: LoadProfile, index: int, rate: float, ramp_up_seconds: float
) -> float:
    """Seconds after the run starts at which request number *index* (from 0) should start.

    CONSTANT_RATE starts *rate* requests a second from the first instant. RAMPING_RATE grows
    the rate linearly from 0 to *rate* over *ramp_up_seconds* and then holds it; the start
    times are the exact inverse of the cumulative count ``rate * t**2 / (2 * ramp)``.
    """
    if profile is LoadProfile.RAMPING_RATE and ramp_up_seconds > 0:
        ramp_count = rate * ramp_up_seconds / 2
        if index <= ramp_count:
            return math.sqrt(2 * ramp_up_seconds * index / rate)
        return ramp_up_seconds + (index - ramp_count) / rate
    return index / rate


def open_scheduled_count(
    profile: LoadProfile, duration: float, rate: float, ramp_up_seconds: float
) -> int:
    """How many starts an open-model *profile* schedules strictly before *duration* seconds."""
    if profile is LoadProfile.RAMPING_RATE and ramp_up_seconds > 0:
        if duration <= ramp_up_seconds:
            return math.ceil(rate * duration * duration / (2 * ramp_up_seconds))
        return math.ceil(rate * ramp_up_seconds / 2 + (duration - ramp_up_seconds) * rate)
    return math.ceil(duration * rate)
