"""The ``agentkit`` command: inspect plugins and run the demo.

Usage::

    agentkit plugins [list] [--plugin-dir DIR]...     a table of every plugin and its status
    agentkit plugins show NAME [--plugin-dir DIR]...  everything known about one plugin
    agentkit demo [--bus URL] [--executor local|ray]
                                   the fraud-detection demo (bus default $AGENTKIT_BUS_URL or
                                   memory://; --executor for the batch-scoring step)
    agentkit tools [list] [--category C]          the tools plugins register
    agentkit tools describe NAME                  one tool, as JSON
    agentkit tools call NAME --params '{...}'     run a tool; print its ToolResult as JSON
    agentkit openapi inspect SPEC [--prefix P] [--json]       the tools an OpenAPI spec gives
    agentkit openapi call SPEC OPERATION --params '{...}' [--base-url URL]
                                   call one operation; print its ToolResult as JSON
    agentkit worker MODULE:FACTORY --bus URL --swarm NAME
                                   host the factory's agents on a bus until SIGTERM/SIGINT
    agentkit loadtest MODULE:FUNCTION [--profile P] [--requests N] [--concurrency C]
                     [--rate R] [--duration S] [--json FILE] [--html FILE]
                                   load-test a callable; print throughput and latency
    agentkit --version
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.metadata
import os
import sys
from typing import TextIO

from agentkit.cli._loadtest import add_loadtest_parser, run_loadtest
from agentkit.cli._openapi import add_openapi_parser, run_openapi
from agentkit.cli._tools import add_tools_parser, run_tools
from agentkit.cli._worker import add_worker_parser, run_worker_command
from agentkit.exceptions import AgentkitError
from agentkit.plugins import PluginInfo, PluginManager

__all__ = ["main"]

_DISTRIBUTION = "agentkit-kernel"
_DEMO_MODULE = "agentkit.demo._demo"

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    """Run the ``agentkit`` command with *argv* (default ``sys.argv[1:]``); return the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_code(exc)
    if args.command == "plugins":
        plugin_dirs = getattr(args, "plugin_dirs", [])
        if args.plugins_command == "show":
            return _show_plugin(args.name, plugin_dirs, sys.stdout, sys.stderr)
        return _list_plugins(plugin_dirs, sys.stdout)
    if args.command == "demo":
        return _run_demo(args.bus, sys.stderr, executor=args.executor)
    if args.command == "tools":
        return run_tools(args, sys.stdout, sys.stderr)
    if args.command == "openapi":
        return run_openapi(args, sys.stdout, sys.stderr)
    if args.command == "loadtest":
        return run_loadtest(args, sys.stdout, sys.stderr)
    if args.command == "worker":
        return run_worker_command(args, sys.stderr)
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentkit", description="agentkit: cooperating agents over a message bus."
    )
    parser.add_argument(
        "--version", action="version", version=f"{_DISTRIBUTION} {_installed_version()}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    plugins = commands.add_parser("plugins", help="list plugins or show one")
    plugin_commands = plugins.add_subparsers(dest="plugins_command", metavar="ACTION")
    listing = plugin_commands.add_parser("list", help="a table of every plugin (the default)")
    show = plugin_commands.add_parser("show", help="everything known about one plugin")
    show.add_argument("name", help="the plugin's name, as listed by 'agentkit plugins'")
    for parser_with_dirs in (plugins, listing, show):
        parser_with_dirs.add_argument(
            "--plugin-dir",
            dest="plugin_dirs",
            metavar="DIR",
            action="append",
            # SUPPRESS: an option given before the action is not reset by the action's parser.
            default=argparse.SUPPRESS,
            help="also load directory plugins from DIR (plugins/<name>/plugin.json); repeatable",
        )

    demo = commands.add_parser("demo", help="run the demo")
    demo.add_argument(
        "--bus",
        metavar="URL",
        default=None,
        help="bus URL (default: $AGENTKIT_BUS_URL, else memory://)",
    )
    demo.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="where the batch-scoring step runs (default: local; ray needs the ray extra)",
    )
    add_tools_parser(commands)
    add_openapi_parser(commands)
    add_worker_parser(commands)
    add_loadtest_parser(commands)
    return parser


def _plugin_manager(plugin_dirs: list[str]) -> PluginManager:
    """A manager with a registry, so plugins whose tool registration fails show as errors."""
    from agentkit.tools import ToolRegistry

    return PluginManager(plugin_dirs=plugin_dirs, registry=ToolRegistry())


def _list_plugins(plugin_dirs: list[str], out: TextIO) -> int:
    rows = [("NAME", "VERSION", "STATUS", "DETAIL")]
    rows.extend(
        (info.name, info.version, info.status.value, _detail(info))
        for info in _plugin_manager(plugin_dirs).plugins()
    )
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        print("  ".join([*cells, row[3]]).rstrip(), file=out)
    return EXIT_OK


def _show_plugin(name: str, plugin_dirs: list[str], out: TextIO, err: TextIO) -> int:
    manager = _plugin_manager(plugin_dirs)
    info = manager.plugin_info(name)
    if info is None:
        known = ", ".join(plugin.name for plugin in manager.plugins()) or "none"
        print(f"agentkit: no plugin named {name!r} (known plugins: {known})", file=err)
        return EXIT_USAGE
    for key, value in info.as_dict().items():
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        print(f"{key + ':':<14}{'' if value is None else value}", file=out)
    return EXIT_OK


def _run_demo(url: str | None, err: TextIO, *, executor: str = "local") -> int:
    try:
        demo = importlib.import_module(_DEMO_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != _DEMO_MODULE:
            raise
        print(f"agentkit: the demo is not available in this install ({exc})", file=err)
        return EXIT_FAILURE
    bus_url = url or os.environ.get("AGENTKIT_BUS_URL") or "memory://"
    try:
        result = asyncio.run(demo.run(bus_url, executor=executor))
    except KeyboardInterrupt:
        return 130
    except AgentkitError as exc:
        print(f"agentkit demo: {exc}", file=err)
        return EXIT_FAILURE
    return result if isinstance(result, int) else EXIT_OK


def _detail(info: PluginInfo) -> str:
    if info.install_hint and info.error:
        return f"{info.error}; {info.install_hint}"
    return info.error or info.install_hint or ("core" if info.source == "core" else "")


def _installed_version() -> str:
    try:
        return importlib.metadata.version(_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return EXIT_OK
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
