"""The ``agentkit`` command: plugins, tools, the demo, workers, health checks and load tests.

Usage::

    agentkit plugins [list] [--plugin-dir DIR]... [--json]   every plugin and its status
    agentkit plugins show NAME [--plugin-dir DIR]... [--json]
    agentkit demo [--bus URL] [--executor local|ray] [--trace]  the fraud-detection demo
    agentkit tools [list] [--category C] [--json]         the tools plugins register
    agentkit tools describe NAME                          one tool, as JSON
    agentkit tools call NAME --params '{...}'             run a tool; its ToolResult as JSON
    agentkit worker MODULE:FACTORY --bus URL --swarm NAME host agents until SIGTERM/SIGINT
    agentkit health [--bus URL] [--json] [--timeout S]    run every health check once (exit 0/1)
    agentkit loadtest MODULE:FUNCTION [--profile P] [--requests N] [--json [FILE]] ...
    agentkit openapi inspect|call SPEC ...                from the openapi plugin (agentkit-tools)
    agentkit --version

Plugins add commands through the ``agentkit_add_commands`` hook. The command behaves like a
Unix tool: usage errors exit 2, failures 1, Ctrl-C 130 and a closed output pipe
(``agentkit tools list | head``) 141, each with one line on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from typing import Any, TextIO

from agentkit._version import __version__
from agentkit.cli._health import add_health_parser, run_health
from agentkit.cli._loadtest import add_loadtest_parser, run_loadtest
from agentkit.cli._output import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    print_json,
    print_table,
)
from agentkit.cli._tools import add_tools_parser, run_tools
from agentkit.cli._worker import add_worker_parser, run_worker_command
from agentkit.exceptions import AgentkitError
from agentkit.plugins import PluginInfo, PluginManager, PluginStatus

__all__ = ["main"]

_DISTRIBUTION = "agentkit-kernel"
_DEMO_MODULE = "agentkit.demo._demo"

#: Commands that agentkit's own plugins add, and the plugin that adds each: when the plugin is
#: not active, the command is still there to say which package brings it.
_PLUGIN_COMMANDS = {"openapi": "openapi"}


def main(argv: list[str] | None = None) -> int:
    """Run the ``agentkit`` command with *argv* (default ``sys.argv[1:]``); return the exit code.

    0 ok, 1 a failure, 2 a usage error, 130 interrupted (Ctrl-C), 141 the output pipe closed.
    """
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
    except KeyboardInterrupt:
        print("agentkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    return code


def _run(argv: list[str] | None) -> int:
    manager = PluginManager()
    parser = _build_parser(manager, sys.stderr)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_code(exc)
    if args.command == "plugins":
        plugin_dirs = getattr(args, "plugin_dirs", [])
        if args.plugins_command == "show":
            return _show_plugin(args.name, plugin_dirs, args.json, sys.stdout, sys.stderr)
        return _list_plugins(plugin_dirs, args.json, sys.stdout)
    if args.command == "demo":
        return _run_demo(args.bus, sys.stderr, executor=args.executor, trace=args.trace)
    if args.command == "tools":
        return run_tools(args, sys.stdout, sys.stderr)
    if args.command == "loadtest":
        return run_loadtest(args, sys.stdout, sys.stderr)
    if args.command == "worker":
        return run_worker_command(args, sys.stderr)
    if args.command == "health":
        return run_health(args, sys.stdout, sys.stderr)
    run = getattr(args, "run", None)
    if run is not None:  # a plugin's command
        code = run(args, sys.stdout, sys.stderr)
        return code if isinstance(code, int) else EXIT_OK
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _build_parser(manager: PluginManager, err: TextIO) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentkit", description="agentkit: cooperating agents over a message bus."
    )
    parser.add_argument("--version", action="version", version=f"{_DISTRIBUTION} {__version__}")
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
        parser_with_dirs.add_argument(
            "--json",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print JSON instead of a table",
        )
    plugins.set_defaults(json=False)

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
        help="where the batch-scoring step runs (default: local; ray needs agentkit-ray)",
    )
    demo.add_argument(
        "--trace",
        action="store_true",
        help="trace the consensus step with OpenTelemetry and print one round's trace as a tree",
    )
    add_tools_parser(commands)
    add_worker_parser(commands)
    add_health_parser(commands)
    add_loadtest_parser(commands)
    _add_plugin_commands(manager, commands, err)
    return parser


def _add_plugin_commands(manager: PluginManager, commands: Any, err: TextIO) -> None:
    """Let every active plugin add its commands; one that fails loses only its own."""
    for implementation in reversed(manager.hook.agentkit_add_commands.get_hookimpls()):
        arguments = {name: commands for name in implementation.argnames if name == "commands"}
        try:
            implementation.function(**arguments)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # one plugin never takes the command line down
            print(
                f"agentkit: plugin {implementation.plugin_name!r} could not add its commands:"
                f" {type(exc).__name__}: {exc}",
                file=err,
            )
    for command, plugin in _PLUGIN_COMMANDS.items():
        if command not in commands.choices:
            _add_missing_command(commands, command, manager.plugin_info(plugin))


def _add_missing_command(commands: Any, command: str, info: PluginInfo | None) -> None:
    """A stand-in for a plugin's command that says which package brings it."""
    if info is None or info.status is PluginStatus.UNAVAILABLE:
        why = f"it comes with the {info.name if info else command} plugin, which is not installed"
        hint = info.install_hint if info and info.install_hint else None
    else:
        why = f"it comes with the {info.name} plugin, which is {info.status}"
        if info.error:
            why += f" ({info.error})"
        hint = None
    message = f"agentkit {command}: {why}" + (f"; {hint}" if hint else "")
    stand_in = commands.add_parser(command, help=f"(not available: {hint or why})")
    stand_in.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def unavailable(_args: argparse.Namespace, _out: TextIO, err: TextIO) -> int:
        print(message, file=err)
        return EXIT_FAILURE

    stand_in.set_defaults(run=unavailable)


def _plugin_manager(plugin_dirs: list[str]) -> PluginManager:
    """A manager with a registry, so plugins whose tool registration fails show as errors."""
    from agentkit.tools import ToolRegistry

    return PluginManager(plugin_dirs=plugin_dirs, registry=ToolRegistry())


def _list_plugins(plugin_dirs: list[str], as_json: bool, out: TextIO) -> int:
    infos = _plugin_manager(plugin_dirs).plugins()
    if as_json:
        print_json([info.as_dict() for info in infos], out)
        return EXIT_OK
    rows = [("NAME", "VERSION", "STATUS", "DETAIL")]
    rows.extend((info.name, info.version, info.status.value, _detail(info)) for info in infos)
    print_table(rows, out)
    return EXIT_OK


def _show_plugin(name: str, plugin_dirs: list[str], as_json: bool, out: TextIO, err: TextIO) -> int:
    manager = _plugin_manager(plugin_dirs)
    info = manager.plugin_info(name)
    if info is None:
        known = ", ".join(plugin.name for plugin in manager.plugins()) or "none"
        print(f"agentkit: no plugin named {name!r} (known plugins: {known})", file=err)
        return EXIT_USAGE
    if as_json:
        print_json(info.as_dict(), out)
        return EXIT_OK
    for key, value in info.as_dict().items():
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        print(f"{key + ':':<14}{'' if value is None else value}", file=out)
    return EXIT_OK


def _run_demo(url: str | None, err: TextIO, *, executor: str = "local", trace: bool = False) -> int:
    try:
        demo = importlib.import_module(_DEMO_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != _DEMO_MODULE:
            raise
        print(f"agentkit: the demo is not available in this install ({exc})", file=err)
        return EXIT_FAILURE
    bus_url = url or os.environ.get("AGENTKIT_BUS_URL") or "memory://"
    try:
        options = {"trace": True} if trace else {}
        result = asyncio.run(demo.run(bus_url, executor=executor, **options))
    except AgentkitError as exc:
        print(f"agentkit demo: {exc}", file=err)
        return EXIT_FAILURE
    return result if isinstance(result, int) else EXIT_OK


def _detail(info: PluginInfo) -> str:
    if info.install_hint and info.error:
        return f"{info.error}; {info.install_hint}"
    return info.error or info.install_hint or ("core" if info.source == "core" else "")


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return EXIT_OK
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return EXIT_FAILURE


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass
    finally:
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
