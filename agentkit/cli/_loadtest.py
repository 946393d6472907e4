"""``agentkit loadtest MODULE:FUNCTION``: load-test a callable from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any, TextIO

from agentkit._references import load_callable
from agentkit.cli._output import EXIT_FAILURE, EXIT_OK, EXIT_THRESHOLDS, EXIT_USAGE
from agentkit.exceptions import ConfigurationError
from agentkit.loadtest import LoadProfile

__all__ = ["add_loadtest_parser", "resolve_target", "run_compare", "run_loadtest"]


def add_loadtest_parser(commands: Any) -> None:
    """Add the ``loadtest`` command to *commands* (an argparse subparsers)."""
    cmd = commands.add_parser(
        "loadtest",
        help="load-test a callable: agentkit loadtest module:function",
        usage=(
            "agentkit loadtest MODULE:FUNCTION [options]\n"
            "       agentkit loadtest compare BASE.json NEW.json [--html FILE] [--json [FILE]]"
        ),
        description=(
            "Run MODULE:FUNCTION (sync or async, no arguments) under a load profile and print "
            "throughput, latency percentiles and errors. The run ends after --requests "
            "requests or --duration seconds, whichever comes first. 'compare' reads two "
            "results saved with --json FILE and states how the second differs from the first."
        ),
    )
    cmd.add_argument("target", metavar="MODULE:FUNCTION", help="the callable to load (or: compare)")
    cmd.add_argument("results", nargs="*", metavar="RESULT.json", help=argparse.SUPPRESS)
    cmd.add_argument(
        "--profile",
        default=None,
        choices=[p.value for p in LoadProfile],
        help="load profile (default ramp_up, or constant_rate when --rate is given)",
    )
    cmd.add_argument("--requests", type=int, default=None, metavar="N", help="total requests")
    cmd.add_argument(
        "--concurrency", type=int, default=50, metavar="C", help="virtual users / max in flight"
    )
    cmd.add_argument(
        "--rate", type=float, default=None, metavar="R", help="open model: starts per second"
    )
    cmd.add_argument(
        "--duration", type=float, default=None, metavar="S", help="run length in seconds"
    )
    cmd.add_argument(
        "--ramp-up", type=float, default=30.0, metavar="S", help="ramp length (default 30)"
    )
    cmd.add_argument("--timeout", type=float, default=None, metavar="S", help="per-request timeout")
    cmd.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE",
        help="the result as JSON: into FILE, or on stdout instead of the table when no FILE",
    )
    cmd.add_argument("--html", default=None, metavar="FILE", help="write an HTML report here")
    cmd.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="EXPR",
        dest="thresholds",
        help=(
            "a pass/fail criterion as k6 writes it, e.g. 'p95<50ms', 'error_rate<1%%', "
            "'rps>100'; repeatable; a failed one makes the exit status 99"
        ),
    )
    cmd.add_argument("--no-progress", action="store_true", help="never draw the progress bar")


def resolve_target(spec: str) -> Any:
    """The callable named by ``module:function`` (dots allowed after the colon)."""
    return load_callable(spec)


def run_loadtest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the ``loadtest`` command; print the summary table to *out*."""
    from agentkit.loadtest import LoadTester

    if args.target == "compare":
        return run_compare(args, out, err)
    if args.results:
        print(
            f"agentkit loadtest: unexpected arguments {' '.join(args.results)!r}"
            " (a run takes one MODULE:FUNCTION; compare takes two result files)",
            file=err,
        )
        return EXIT_USAGE
    try:
        target = resolve_target(args.target)
        profile = args.profile or ("constant_rate" if args.rate is not None else "ramp_up")
        total = args.requests
        if total is None and args.duration is None:
            total = 1000
        coro = LoadTester().run_load_test(
            target,
            profile=profile,
            total_requests=total,
            concurrent_requests=args.concurrency,
            ramp_up_seconds=args.ramp_up,
            duration_seconds=args.duration,
            rate=args.rate,
            timeout=args.timeout,
            progress=False if args.no_progress else None,
            progress_stream=err,
            thresholds=args.thresholds,
        )
        result = asyncio.run(coro)
    except ConfigurationError as exc:
        print(f"agentkit loadtest: {exc}", file=err)
        return EXIT_USAGE
    if args.json == "-":
        print(result.to_json(), file=out)
    else:
        print(result.summary(), file=out)
    try:
        if args.json and args.json != "-":
            Path(args.json).write_text(result.to_json() + "\n", encoding="utf-8")
            print(f"JSON written to {args.json}", file=out)
        if args.html:
            Path(args.html).write_text(
                result.to_html(title=f"agentkit loadtest {args.target}"), encoding="utf-8"
            )
            where = err if args.json == "-" else out  # stdout holds only the JSON
            print(f"HTML report written to {args.html}", file=where)
    except OSError as exc:
        print(f"agentkit loadtest: cannot write the report: {exc}", file=err)
        return EXIT_FAILURE
    if not result.passed:
        failed = ", ".join(t.expression for t in result.thresholds if not t.passed)
        print(f"agentkit loadtest: thresholds failed: {failed}", file=err)
        return EXIT_THRESHOLDS
    return EXIT_OK


def run_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``agentkit loadtest compare BASE.json NEW.json``: print the shifts; --html, --json."""
    from agentkit.loadtest import compare_results, load_result

    if len(args.results) != 2:
        print("agentkit loadtest compare: give two result files: BASE.json NEW.json", file=err)
        return EXIT_USAGE
    base_path, new_path = args.results
    try:
        comparison = compare_results(
            load_result(base_path),
            load_result(new_path),
            base_label=base_path,
            new_label=new_path,
        )
    except ConfigurationError as exc:
        print(f"agentkit loadtest compare: {exc}", file=err)
        return EXIT_FAILURE
    if args.json == "-":
        print(json.dumps(comparison.to_dict(), indent=2), file=out)
    else:
        print(comparison.describe(), file=out)
    try:
        if args.json and args.json != "-":
            Path(args.json).write_text(json.dumps(comparison.to_dict(), indent=2) + "\n")
            print(f"JSON written to {args.json}", file=out)
        if args.html:
            title = f"agentkit loadtest compare {base_path} {new_path}"
            Path(args.html).write_text(comparison.to_html(title=title), encoding="utf-8")
            where = err if args.json == "-" else out
            print(f"HTML comparison written to {args.html}", file=where)
    except OSError as exc:
        print(f"agentkit loadtest compare: cannot write: {exc}", file=err)
        return EXIT_FAILURE
    return EXIT_OK
