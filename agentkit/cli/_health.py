"""``agentkit health [--bus URL] [--json]``: run every health check once and print the verdicts.

The checks are those the active plugins contribute through ``agentkit_health_checks`` about the
bus the command connects to (the core's probe ``bus``: the NATS connection and a PING round
trip, or an in-memory bus being open). Each check runs once, all at once, each within its own
timeout (at most ``--timeout``); exit 0 when every one is healthy, 1 otherwise. A bus that
cannot be reached is a failed ``bus`` check, not a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from typing import Any, TextIO

from agentkit.cli._output import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, print_json, print_table
from agentkit.exceptions import AgentkitError, ConfigurationError

__all__ = ["add_health_parser", "run_health"]

_DEFAULT_TIMEOUT = 5.0


def add_health_parser(commands: Any) -> None:
    """Add the ``health`` subcommand to the ``agentkit`` command's subparsers."""
    health = commands.add_parser(
        "health",
        help="run every health check once; exit 0 when all are healthy, 1 otherwise",
        description=(
            "Connect to the bus, run the health checks every active plugin contributes"
            " (the bus's connection, ...) once and print each: name, status, latency and"
            " reason. Exit 0 when all are healthy, 1 otherwise."
        ),
    )
    health.add_argument(
        "--bus",
        metavar="URL",
        default=None,
        help="bus URL (default: $AGENTKIT_BUS_URL, else memory://)",
    )
    health.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=_DEFAULT_TIMEOUT,
        help=f"longest wait for the bus to connect and for each check (default {_DEFAULT_TIMEOUT})",
    )
    health.add_argument("--json", action="store_true", help="print JSON instead of a table")
    health.add_argument(
        "--plugin-dir",
        dest="plugin_dirs",
        metavar="DIR",
        action="append",
        default=[],
        help="also load directory plugins from DIR (their checks run too); repeatable",
    )


def run_health(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``agentkit health`` with parsed *args*; return the exit code."""
    timeout = args.timeout
    if not timeout > 0 or timeout != timeout or timeout == float("inf"):
        print(
            f"agentkit health: --timeout must be a number of seconds > 0, not {timeout}", file=err
        )
        return EXIT_USAGE
    bus_url = args.bus or os.environ.get("AGENTKIT_BUS_URL") or "memory://"
    try:
        checks = asyncio.run(_check(bus_url, timeout, args.plugin_dirs))
    except AgentkitError as exc:
        print(f"agentkit health: {exc}", file=err)
        return EXIT_USAGE
    healthy = all(check["healthy"] for check in checks)
    if args.json:
        print_json({"healthy": healthy, "bus": bus_url, "checks": checks}, out)
    else:
        rows = [("NAME", "KIND", "STATUS", "LATENCY", "REASON")]
        for check in checks:
            latency = check["latency_ms"]
            rows.append(
                (
                    check["name"],
                    check["kind"],
                    check["status"],
                    "-" if latency is None else f"{latency:.1f} ms",
                    _reason(check),
                )
            )
        print_table(rows, out)
    return EXIT_OK if healthy else EXIT_FAILURE


def _reason(check: dict[str, Any]) -> str:
    reason = str(check["reason"])
    error_type = check["error_type"]
    if error_type and error_type not in reason:
        return f"[{error_type}] {reason}"
    return reason


async def _check(bus_url: str, timeout: float, plugin_dirs: list[str]) -> list[dict[str, Any]]:
    """Each check's ``ComponentHealth.as_dict()`` after one run; the bus is closed again."""
    from agentkit.bus import connect
    from agentkit.plugins import PluginManager
    from agentkit.reliability import HealthMonitor, HealthReport

    plugins = PluginManager(plugin_dirs=plugin_dirs)
    monitor = HealthMonitor(
        check_interval_seconds=timeout,
        unhealthy_threshold=1,
        healthy_threshold=1,
        check_timeout_seconds=timeout,
        cancel_grace_seconds=min(timeout, 1.0),
    )
    bus: Any = None
    try:
        bus = await asyncio.wait_for(connect(bus_url, plugins=plugins), timeout)
    except TimeoutError:
        failure = HealthReport(
            False, f"cannot connect to {bus_url} within {timeout} s", error_type="TimeoutError"
        )
    except ConfigurationError:
        raise  # a URL no backend takes is a usage error, not ill health
    except AgentkitError as exc:
        failure = HealthReport(False, str(exc), error_type=type(exc).__name__)
    try:
        if bus is None:
            monitor.register_component("bus", "bus", _Fails(failure))
        monitor.register_plugin_checks(plugins, bus=bus)
        snapshot = await monitor.check_all()
    finally:
        if bus is not None:
            with contextlib.suppress(TimeoutError, AgentkitError, OSError):
                await asyncio.wait_for(bus.close(), timeout)
    return [health.as_dict() for health in snapshot.values()]


class _Fails:
    def __init__(self, report: Any) -> None:
        self.report = report

    def __call__(self) -> Any:
        return self.report
