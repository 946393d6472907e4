"""Health checks that plugins contribute through the ``agentkit_health_checks`` hook.

Every plugin (the core's bus hook included) may answer the hook with :class:`HealthProbe`
objects: a name, a check and its timeout. :func:`collect_probes` asks each plugin on its own, so
a plugin whose hook raises or answers with something that is not a list of probes costs only
itself: it shows up as one failing check named ``plugin:<name>`` with the reason, and the
other plugins' checks are gathered as usual. Running the checks (timeouts, exceptions, hangs,
garbage results) is the :class:`~agentkit.reliability.HealthMonitor`'s business.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from agentkit.exceptions import ConfigurationError
from agentkit.reliability._report import HealthReport
from agentkit.reliability._user_code import STOP_PROCESS, describe, error_text, type_name

if TYPE_CHECKING:
    from agentkit.protocols import HealthCheck

__all__ = ["HealthProbe", "collect_probes"]

logger = logging.getLogger("agentkit.health")

# A plugin's answer is read at most this far: a generator that never ends is garbage too.
_MAX_PROBES_PER_PLUGIN = 256


@dataclasses.dataclass(frozen=True, slots=True)
class HealthProbe:
    """One named health check, as a plugin contributes it through ``agentkit_health_checks``.

    *check* is a sync or async callable returning a truthy value or a
    :class:`~agentkit.reliability.HealthReport` (set ``healthy``, ``message`` as the reason and
    ``error_type``); make it async when it does I/O, since only an async check can be timed
    out. *timeout_seconds* is its own timeout (None: the monitor's ``check_timeout_seconds``).
    """

    name: str
    check: HealthCheck
    kind: str = "component"
    """What it checks: ``"bus"``, ``"executor"``, ``"api"``, ..."""
    timeout_seconds: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError(f"a health probe needs a non-empty name, not {self.name!r}")
        if not callable(self.check):
            raise ConfigurationError(f"the check of probe {self.name!r} must be callable")
        if not isinstance(self.kind, str):
            raise ConfigurationError(f"the kind of probe {self.name!r} must be a string")


@dataclasses.dataclass(frozen=True, slots=True)
class _BrokenPlugin:
    """The check that stands for a plugin whose hook failed: it always fails, with the reason."""

    reason: str
    error_type: str

    def __call__(self) -> HealthReport:
        return HealthReport(False, self.reason, error_type=self.error_type)


def collect_probes(plugins: Any, *, bus: Any = None, executor: Any = None) -> list[HealthProbe]:
    """Every probe the active plugins of *plugins* (a ``PluginManager``) contribute.

    Each plugin's ``agentkit_health_checks`` is called with the arguments it asks for (*bus*,
    *executor*). A plugin that raises, or answers with anything but probes, gives one probe
    ``plugin:<name>`` that always fails with the reason; a name already taken by an earlier
    probe is skipped with a warning. Probes come in the order the plugins are asked (core's
    last).
    """
    probes: list[HealthProbe] = []
    taken: set[str] = set()
    arguments = {"bus": bus, "executor": executor}
    for implementation in reversed(plugins.hook.agentkit_health_checks.get_hookimpls()):
        plugin = implementation.plugin_name
        try:
            answer = implementation.function(
                **{name: arguments[name] for name in implementation.argnames if name in arguments}
            )
            found = _probes_in(answer)
        except STOP_PROCESS:
            raise
        except BaseException as exc:  # a plugin never takes the health report down
            logger.error("plugin %r: agentkit_health_checks failed: %s", plugin, error_text(exc))
            error = exc.args[0] if isinstance(exc, _Garbage) else f"raised {error_text(exc)}"
            kind = "InvalidResult" if isinstance(exc, _Garbage) else type_name(exc)
            found = [
                HealthProbe(
                    f"plugin:{plugin}",
                    _BrokenPlugin(f"agentkit_health_checks {error}", kind),
                    kind="plugin",
                )
            ]
        for probe in found:
            if probe.name in taken:
                logger.warning(
                    "plugin %r: a health check named %r exists already; skipped", plugin, probe.name
                )
                continue
            taken.add(probe.name)
            probes.append(probe)
    return probes


class _Garbage(Exception):
    """A hook answered with something that is not a list of probes."""


def _probes_in(answer: object) -> list[HealthProbe]:
    if answer is None:
        return []
    if isinstance(answer, HealthProbe):
        return [answer]
    if isinstance(answer, str | bytes) or not isinstance(answer, Iterable):
        raise _Garbage(f"returned {describe(answer)}, not a list of HealthProbe")
    found: list[HealthProbe] = []
    for item in answer:
        if not isinstance(item, HealthProbe):
            raise _Garbage(f"returned {describe(item)} among its probes, not a HealthProbe")
        found.append(item)
        if len(found) > _MAX_PROBES_PER_PLUGIN:
            raise _Garbage(f"returned more than {_MAX_PROBES_PER_PLUGIN} probes")
    return found
