"""``agentkit tools``: list, describe and call the tools that plugins register.

The registry is built the way an application builds it: ``PluginManager(registry=registry)``
activates every available plugin, and each plugin's ``agentkit_register_tools`` hook adds its
tools (the built-in library comes through the ``tools`` plugin).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any, TextIO

from agentkit.cli._output import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, print_json, print_table
from agentkit.exceptions import ToolNotFoundError
from agentkit.plugins import PluginManager, PluginStatus
from agentkit.tools import Tool, ToolRegistry

__all__ = ["add_tools_parser", "build_registry", "run_tools"]


_DESCRIPTION_WIDTH = 72


def add_tools_parser(commands: Any) -> None:
    """Add the ``tools`` command and its actions to *commands* (an argparse subparsers)."""
    tools = commands.add_parser("tools", help="list, describe and call tools")
    actions = tools.add_subparsers(dest="tools_command", metavar="ACTION")
    listing = actions.add_parser("list", help="a table of every tool (the default)")
    for parser in (tools, listing):
        parser.add_argument(
            "--category", default=argparse.SUPPRESS, help="only tools in this category"
        )
        parser.add_argument(
            "--json",
            action="store_true",
            default=argparse.SUPPRESS,
            help="print JSON (name, category, description of each tool) instead of a table",
        )
    tools.set_defaults(category=None, json=False)
    describe = actions.add_parser("describe", help="everything known about one tool, as JSON")
    describe.add_argument("name", help="the tool's name, as listed by 'agentkit tools list'")
    call = actions.add_parser("call", help="run a tool and print its result as JSON")
    call.add_argument("name", help="the tool's name")
    call.add_argument(
        "--params", default="{}", metavar="JSON", help="the arguments, a JSON object (default {})"
    )
    call.add_argument(
        "--timeout", type=float, default=None, help="seconds allowed (default: the tool's own)"
    )


def build_registry(err: TextIO | None = None) -> ToolRegistry:
    """A registry holding every tool the available plugins register.

    Plugins that failed are reported on *err* (they never stop the others).
    """
    registry = ToolRegistry()
    manager = PluginManager(registry=registry)
    manager.discover_plugins()
    if err is not None:
        for info in manager.plugins():
            if info.status is PluginStatus.ERROR:
                print(f"agentkit: plugin {info.name!r} failed: {info.error}", file=err)
    return registry


def run_tools(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``agentkit tools ...`` for the parsed *args*; return the exit code."""
    action = args.tools_command or "list"
    if action == "call":
        try:
            params = json.loads(args.params)
        except json.JSONDecodeError as exc:
            print(f"agentkit tools call: --params is not valid JSON: {exc}", file=err)
            return EXIT_USAGE
        if not isinstance(params, dict):
            kind = type(params).__name__
            print(f"agentkit tools call: --params must be a JSON object, not {kind}", file=err)
            return EXIT_USAGE
    registry = build_registry(err)
    if action == "list":
        return _list(registry, args.category, args.json, out, err)
    try:
        tool = registry.get_tool(args.name)
    except ToolNotFoundError as exc:
        print(f"agentkit tools {action}: {exc}", file=err)
        return EXIT_USAGE
    if action == "describe":
        print_json(describe_tool(tool), out)
        return EXIT_OK
    result = asyncio.run(registry.execute_tool(tool.name, params, timeout=args.timeout))
    print_json(result.to_dict(), out)
    return EXIT_OK if result.success else EXIT_FAILURE


def describe_tool(tool: Tool) -> dict[str, Any]:
    """Everything about *tool* but its function, JSON-ready."""
    return {
        "name": tool.name,
        "description": tool.description,
        "category": tool.category,
        "tags": list(tool.tags),
        "version": tool.version,
        "timeout": tool.timeout,
        "blocking": tool.blocking,
        "hints": {
            "read_only": tool.hints.read_only,
            "destructive": tool.hints.destructive,
            "idempotent": tool.hints.idempotent,
            "open_world": tool.hints.open_world,
        },
        "parameters": tool.parameters,
        "returns": tool.returns,
    }


def _list(
    registry: ToolRegistry, category: str | None, as_json: bool, out: TextIO, err: TextIO
) -> int:
    tools = registry.list_tools(category=category)
    if not tools:
        if category is not None:
            known = ", ".join(registry.categories()) or "none"
            print(f"agentkit: no tools in category {category!r} (categories: {known})", file=err)
        else:
            print("agentkit: no tools registered (is a tools plugin installed?)", file=err)
    if as_json:
        listing = [
            {"name": tool.name, "category": tool.category, "description": tool.description}
            for tool in tools
        ]
        print_json(listing, out)
        return EXIT_OK
    rows = [("NAME", "CATEGORY", "DESCRIPTION")]
    rows.extend((tool.name, tool.category, _summary(tool.description)) for tool in tools)
    print_table(rows, out)
    return EXIT_OK


def _summary(description: str) -> str:
    first_line = description.strip().splitlines()[0] if description.strip() else ""
    if len(first_line) > _DESCRIPTION_WIDTH:
        return first_line[: _DESCRIPTION_WIDTH - 3] + "..."
    return first_line
