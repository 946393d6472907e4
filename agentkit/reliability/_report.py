"""What a health check reports: :class:`HealthReport` (re-exported by ``agentkit.reliability``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = ["HealthReport"]


@dataclasses.dataclass(frozen=True, slots=True)
class HealthReport:
    """What a check may return instead of a bool: the verdict plus why."""

    healthy: bool
    message: str = ""
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    error_type: str | None = None
    """For a failed check, what went wrong, by type: the exception a check raised
    (``"ConnectionRefusedError"``), ``"TimeoutError"`` for a check that ran past its timeout,
    ``"InvalidResult"`` for a result that is neither truthy nor a ``HealthReport``, or
    whatever the check itself set. None for a passed check (or one that gave no type)."""
