"""``agentkit openapi``: list the tools a spec gives, or call one operation.

Usage::

    agentkit openapi inspect SPEC [--prefix P] [--json]
    agentkit openapi call SPEC OPERATION --params '{...}' [--base-url URL] [--auth NAME=VALUE]

SPEC is a file path or an http(s) URL. OPERATION is the tool name (as ``inspect`` lists it)
or the operation's ``operationId``. ``call`` prints the ``ToolResult`` as JSON and exits 1
when the call failed. Operations that cannot be imported are listed on stderr with their
location in the spec (``inspect`` then exits 1, after listing the others); a big spec (200
operations or more) shows its progress on stderr (``--quiet`` hides both). The ``openapi``
plugin adds the command through the ``agentkit_add_commands`` hook; the importer loads only
when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any, TextIO

from agentkit.exceptions import AgentkitError

__all__ = ["add_openapi_parser", "run_openapi"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

_DESCRIPTION_WIDTH = 60
#: Spec limits the command line can raise (OpenAPIParser options of the same names).
_LIMITS = (
    ("max_spec_bytes", "bytes read for the spec and its refs (default 20 MiB)"),
    ("max_ref_documents", "documents the spec may reference (default 500)"),
    ("max_spec_nodes", "values once aliases and $refs are expanded (default 1,000,000)"),
    ("max_spec_depth", "nesting depth of the spec (default 100)"),
)


def add_openapi_parser(commands: Any) -> None:
    """Add the ``openapi`` command and its actions to *commands* (an argparse subparsers)."""
    openapi = commands.add_parser("openapi", help="inspect an OpenAPI spec or call an operation")
    actions = openapi.add_subparsers(dest="openapi_command", metavar="ACTION")
    inspect = actions.add_parser("inspect", help="list the tools a spec would make")
    call = actions.add_parser("call", help="call one operation and print its result as JSON")
    for action in (inspect, call):
        action.add_argument("spec", metavar="SPEC", help="a spec file path or http(s) URL")
        action.add_argument("--prefix", default="", help="tool name prefix")
        action.add_argument(
            "--base-url", default=None, help="send calls here instead of the spec's servers"
        )
        action.add_argument(
            "--include-deprecated", action="store_true", help="also deprecated operations"
        )
        action.add_argument(
            "--allow-remote-refs", action="store_true", help="fetch $refs on other hosts"
        )
        action.add_argument(
            "--allow-private-addresses",
            action="store_true",
            help="let remote refs and redirects reach loopback and private addresses",
        )
        for option, meaning in _LIMITS:
            action.add_argument(
                "--" + option.replace("_", "-"), type=int, default=None, metavar="N", help=meaning
            )
        action.add_argument("--no-validate", action="store_true", help="skip spec validation")
        action.add_argument(
            "--strict", action="store_true", help="fail on any invalid operation (all or nothing)"
        )
        action.add_argument(
            "--quiet", action="store_true", help="no progress and no list of skipped operations"
        )
    inspect.add_argument("--json", action="store_true", help="print the tools as JSON")
    openapi.set_defaults(run=run_openapi)
    call.add_argument("operation", metavar="OPERATION", help="tool name or operationId")
    call.add_argument("--params", default="{}", metavar="JSON", help="the arguments, a JSON object")
    call.add_argument(
        "--auth",
        action="append",
        default=[],
        metavar="SCHEME=VALUE",
        help="a credential for a security scheme (basic: SCHEME=user:password); repeatable",
    )
    call.add_argument("--timeout", type=float, default=30.0, help="seconds allowed (default 30)")


def run_openapi(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``agentkit openapi ...``; return the exit code."""
    if args.openapi_command not in ("inspect", "call"):
        print("agentkit openapi: choose an action: inspect or call", file=err)
        return EXIT_USAGE
    from agentkit_tools.openapi._parser import OpenAPIParser

    auth: dict[str, str] = {}
    for item in getattr(args, "auth", []):
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"agentkit openapi: --auth takes SCHEME=VALUE, got {item!r}", file=err)
            return EXIT_USAGE
        auth[name] = value
    limits = {
        option: getattr(args, option)
        for option, _meaning in _LIMITS
        if getattr(args, option, None) is not None
    }
    progress = None if args.quiet else _Progress(err)
    try:
        parser = OpenAPIParser(
            progress=progress,
            base_url=args.base_url,
            auth=auth,
            include_deprecated=args.include_deprecated,
            allow_remote_refs=args.allow_remote_refs,
            allow_private_addresses=args.allow_private_addresses,
            validate=not args.no_validate,
            timeout=getattr(args, "timeout", 30.0),
            **limits,
        )
        if progress is not None:
            progress.say(f"reading {args.spec}")
        document = parser._load(args.spec, None).document
        report = parser.import_spec(document, tool_prefix=args.prefix, strict=args.strict)
        imported = set(report.imported)
        operations = [
            operation
            for operation in parser.list_operations(document, tool_prefix=args.prefix)
            if operation["name"] in imported
        ]
        if not args.quiet:
            for skipped in report.skipped:
                print(f"agentkit openapi: skipped {skipped}", file=err)
            for problem in report.problems:
                print(f"agentkit openapi: invalid spec {problem}", file=err)
        if args.openapi_command == "inspect":
            code = _inspect(parser, document, args, operations, out)
            return EXIT_FAILURE if report.skipped or report.problems else code
        return _call(parser, document, args, operations, out, err)
    except AgentkitError as exc:
        print(f"agentkit openapi: {exc}", file=err)
        for option, _meaning in _LIMITS:
            if f"{option}=" in str(exc):
                flag = "--" + option.replace("_", "-")
                print(f"agentkit openapi: raise the limit with {flag} N", file=err)
        return EXIT_FAILURE


class _Progress:
    """Prints an import's progress on *err* for big specs: a line per tenth of the work."""

    #: Smaller imports print nothing.
    threshold = 200

    def __init__(self, err: TextIO) -> None:
        self._err = err
        self._shown: dict[str, int] = {}
        self._pending: str | None = None

    def say(self, message: str) -> None:
        """Keep *message* to print once the import turns out big."""
        self._pending = message

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total < self.threshold:
            return
        tenth = done * 10 // total
        if self._shown.get(stage, -1) >= tenth:
            return
        if self._pending is not None:
            print(f"agentkit openapi: {self._pending}", file=self._err)
            self._pending = None
        self._shown[stage] = tenth
        label = {"operations": "reading paths", "tools": "making tools"}.get(stage, stage)
        print(f"agentkit openapi: {label} {done}/{total}", file=self._err, flush=True)


def _inspect(
    parser: Any,
    document: Any,
    args: argparse.Namespace,
    operations: list[dict[str, Any]],
    out: TextIO,
) -> int:
    if args.json:
        tools = {tool.name: tool for tool in parser.extract_tools(document, args.prefix)}
        listing = [
            {**operation, "parameters": tools[operation["name"]].parameters}
            for operation in operations
        ]
        print(json.dumps(listing, indent=2, default=str), file=out)
        return EXIT_OK
    rows = [("NAME", "METHOD", "PATH", "DESCRIPTION")]
    for operation in operations:
        summary = operation["description"].splitlines()[0] if operation["description"] else ""
        if len(summary) > _DESCRIPTION_WIDTH:
            summary = summary[: _DESCRIPTION_WIDTH - 3] + "..."
        rows.append((operation["name"], operation["method"], operation["path"], summary))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        print("  ".join([*cells, row[3]]).rstrip(), file=out)
    print(f"{len(operations)} tools", file=out)
    return EXIT_OK


def _call(
    parser: Any,
    document: Any,
    args: argparse.Namespace,
    operations: list[dict[str, Any]],
    out: TextIO,
    err: TextIO,
) -> int:
    from agentkit.tools import ToolRegistry

    try:
        params = json.loads(args.params)
    except ValueError as exc:
        print(f"agentkit openapi: --params is not valid JSON: {exc}", file=err)
        return EXIT_USAGE
    if not isinstance(params, dict):
        print("agentkit openapi: --params must be a JSON object", file=err)
        return EXIT_USAGE
    wanted = args.operation
    match = next(
        (
            operation["name"]
            for operation in operations
            if wanted in (operation["name"], operation["operation_id"])
        ),
        None,
    )
    if match is None:
        known = ", ".join(operation["name"] for operation in operations[:20]) or "none"
        print(f"agentkit openapi: no operation {wanted!r} (tools: {known})", file=err)
        return EXIT_USAGE
    registry = ToolRegistry()
    parser.register_tools_from_spec(document, registry, tool_prefix=args.prefix)
    if match not in registry:
        print(f"agentkit openapi: {match!r} could not be registered", file=err)
        return EXIT_FAILURE

    async def run() -> Any:
        try:
            return await registry.execute_tool(match, params)
        finally:
            await parser.aclose()

    result = asyncio.run(run())
    print(json.dumps(result.to_dict(), indent=2, default=str), file=out)
    return EXIT_OK if result.success else EXIT_FAILURE
