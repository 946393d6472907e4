"""``agentkit mcp serve``: offer the registry's tools to any MCP client.

Usage::

    agentkit mcp serve [--http HOST:PORT] [--tools a,b,c] [--category C]...
                       [--openapi SPEC]... [--plugin-dir DIR]... [--page-size N] [--name NAME]

Without ``--http`` the server speaks MCP over stdin/stdout (what a desktop client launches);
stdout then carries the protocol only, and every message goes to stderr. With
``--http HOST:PORT`` it serves Streamable HTTP at ``http://HOST:PORT/mcp``, bound only where
told (use 127.0.0.1 unless clients elsewhere must reach it; port 0 picks a free port), and
prints one line to stderr with the URL once it listens.

The registry is built the way an application builds it: ``ToolRegistry()`` and
``PluginManager(registry=..., plugin_dirs=...)``, so it holds the built-in tools, the tools of
every active plugin and of the plugin directories, the specs in ``AGENTKIT_OPENAPI_SPECS``
and the servers in ``AGENTKIT_MCP_SERVERS``; ``AGENTKIT_DISABLE_PLUGINS`` turns plugins off.
Specs named with ``--openapi`` (paths or http(s) URLs) are imported in the background once
the server is answering: their tools appear, and clients get ``tools/list_changed``, when the
import is done; a spec that cannot be imported is reported on stderr and the server goes on.
An API on a private or loopback address needs ``AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES=1``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
from typing import TYPE_CHECKING, Any, Final, TextIO

if TYPE_CHECKING:
    from agentkit.tools import ToolRegistry

__all__ = ["add_mcp_parser", "parse_http_address", "run_mcp"]

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130

_logger = logging.getLogger("agentkit.mcp")


def add_mcp_parser(commands: Any) -> None:
    """Add ``agentkit mcp`` and its ``serve`` action to the subcommands *commands*."""
    mcp = commands.add_parser("mcp", help="the Model Context Protocol: serve the tools")
    actions = mcp.add_subparsers(dest="mcp_command", metavar="ACTION")
    serve = actions.add_parser(
        "serve",
        help="serve the registry's tools to MCP clients (stdio, or Streamable HTTP)",
        description="Offer the tool registry to MCP clients over stdio or Streamable HTTP.",
    )
    serve.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio (e.g. 127.0.0.1:8765)",
    )
    serve.add_argument(
        "--tools",
        action="append",
        metavar="A,B,C",
        help="serve only these tools (comma-separated; repeatable)",
    )
    serve.add_argument(
        "--category",
        action="append",
        metavar="C",
        help="serve only the tools of this category (repeatable)",
    )
    serve.add_argument(
        "--openapi",
        action="append",
        metavar="SPEC",
        default=[],
        help="an OpenAPI spec (path or URL) to import in the background (repeatable)",
    )
    serve.add_argument(
        "--plugin-dir",
        action="append",
        metavar="DIR",
        default=[],
        help="also load the plugins in this directory (repeatable)",
    )
    serve.add_argument(
        "--page-size", type=int, default=100, metavar="N", help="tools per tools/list page"
    )
    serve.add_argument("--name", default="agentkit", help="the server's name (default: agentkit)")
    serve.set_defaults(run=run_mcp)
    mcp.set_defaults(run=_usage(mcp))


def _usage(parser: argparse.ArgumentParser) -> Any:
    def run(_args: argparse.Namespace, _out: TextIO, err: TextIO) -> int:
        parser.print_usage(err)
        print("agentkit mcp: choose an action: serve", file=err)
        return EXIT_USAGE

    return run


def parse_http_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a host and a port.

    Raises:
        ValueError: Not of that form, or a port outside 0 to 65535.
    """
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"expected HOST:PORT (e.g. 127.0.0.1:8765), got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        ipaddress.IPv6Address(host)
    elif ":" in host:
        raise ValueError(f"write an IPv6 address in brackets ([::1]:8765), got {text!r}")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"port must be from 0 to 65535, got {port}")
    return host, port


def run_mcp(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``agentkit mcp serve`` for the parsed *args*; return the exit status."""
    address: tuple[str, int] | None = None
    if args.http:
        try:
            address = parse_http_address(args.http)
        except ValueError as exc:
            print(f"agentkit mcp serve: --http: {exc}", file=err)
            return EXIT_USAGE
    if not 1 <= args.page_size <= 10_000:
        print("agentkit mcp serve: --page-size must be from 1 to 10000", file=err)
        return EXIT_USAGE
    names = None
    if args.tools is not None:
        names = {name.strip() for item in args.tools for name in item.split(",") if name.strip()}
    _log_to(err)
    registry = _build_registry(args.plugin_dir)
    try:
        asyncio.run(
            _serve(
                registry,
                address,
                err,
                name=args.name,
                tools=names,
                categories=args.category,
                page_size=args.page_size,
                specs=args.openapi,
            )
        )
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except OSError as exc:  # e.g. the address is in use
        print(f"agentkit mcp serve: {exc}", file=err)
        return EXIT_FAILURE
    return EXIT_OK


def _log_to(err: TextIO) -> None:
    """Send the server's warnings to *err* (never stdout: stdio mode speaks MCP there)."""
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("agentkit mcp: %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "stream", None) is sys.stdout:
            root.removeHandler(existing)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)


def _build_registry(plugin_dirs: list[str]) -> ToolRegistry:
    """The registry an application would build: every active plugin's tools."""
    from agentkit.plugins import PluginManager
    from agentkit.tools import ToolRegistry

    registry = ToolRegistry()
    manager = PluginManager(plugin_dirs=plugin_dirs, registry=registry)
    manager.discover_plugins()  # a plugin that fails is logged (to *err*) and skipped
    return registry


async def _serve(
    registry: ToolRegistry,
    address: tuple[str, int] | None,
    err: TextIO,
    *,
    name: str,
    tools: set[str] | None,
    categories: list[str] | None,
    page_size: int,
    specs: list[str],
) -> None:
    from agentkit_mcp._server import RegistryServer
    from agentkit_mcp._version import __version__

    server = RegistryServer(
        registry,
        name=name,
        version=__version__,
        tools=tools,
        categories=categories,
        page_size=page_size,
    )
    parsers: list[Any] = []
    imports = asyncio.ensure_future(import_specs_in_background(registry, specs, err, parsers))
    try:
        if address is None:
            print(f"agentkit mcp: serving MCP on stdio (pid {os.getpid()})", file=err, flush=True)
            await server.run_stdio()
        else:

            def ready(url: str) -> None:
                print(f"agentkit mcp: serving Streamable HTTP at {url}", file=err, flush=True)

            await server.run_http(address[0], address[1], ready=ready)
    finally:
        imports.cancel()
        await asyncio.gather(imports, return_exceptions=True)
        for parser in parsers:
            await parser.aclose()


async def import_specs_in_background(
    registry: ToolRegistry, specs: list[str], err: TextIO, parsers: list[Any] | None = None
) -> int:
    """Import each OpenAPI spec into *registry*; return how many tools were added.

    Reading and parsing a spec runs in a worker thread; the tools are registered on the
    event loop, all or nothing per spec. A spec that fails is reported on *err* and skipped.
    The parsers made are appended to *parsers* (close them with ``aclose`` when done).
    """
    if not specs:
        return 0
    from agentkit_tools import OpenAPIParser

    added = 0
    for spec in specs:
        parser = OpenAPIParser()
        if parsers is not None:
            parsers.append(parser)
        try:
            tools = await asyncio.to_thread(parser.extract_tools, spec)
            taken = [tool.name for tool in tools if tool.name in registry]
            if taken:
                raise ValueError(f"tools already registered under {taken[:10]}")
            done: list[str] = []
            try:
                for tool in tools:
                    registry.register_tool(tool)
                    done.append(tool.name)
            except Exception:
                for tool_name in done:
                    registry.unregister_tool(tool_name)
                raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            print(
                f"agentkit mcp: could not import OpenAPI spec {spec}: {type(exc).__name__}: {exc}",
                file=err,
                flush=True,
            )
            continue
        added += len(tools)
        print(
            f"agentkit mcp: imported {len(tools)} tools from OpenAPI spec {spec}",
            file=err,
            flush=True,
        )
    return added
