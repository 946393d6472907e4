"""``agentkit worker FACTORY --bus URL --swarm NAME``: host agents in their own process."""

from __future__ import annotations

import asyncio
import os
from typing import Any, TextIO

from agentkit.agents import run_worker
from agentkit.exceptions import AgentkitError

__all__ = ["add_worker_parser", "run_worker_command"]


def add_worker_parser(commands: Any) -> None:
    """Add the ``worker`` subcommand to the ``agentkit`` command's subparsers."""
    worker = commands.add_parser(
        "worker",
        help="host agents from a factory on a bus until SIGTERM/SIGINT",
        description=(
            "Import FACTORY (package.module:factory or path/to/file.py:factory), call it for"
            " an agent or a list of agents, attach them to swarm NAME on the bus and serve"
            " until SIGTERM or SIGINT. Prints 'ready <agent ids>' once they listen."
        ),
    )
    worker.add_argument("factory", metavar="FACTORY", help="module:factory returning agents")
    worker.add_argument(
        "--bus",
        metavar="URL",
        default=None,
        help="bus URL (default: $AGENTKIT_BUS_URL, else memory://)",
    )
    worker.add_argument("--swarm", metavar="NAME", required=True, help="the swarm to join")


def run_worker_command(args: Any, err: TextIO) -> int:
    """Run ``agentkit worker`` with parsed *args*; return the exit code."""
    bus_url = args.bus or os.environ.get("AGENTKIT_BUS_URL") or "memory://"
    try:
        return asyncio.run(run_worker(args.factory, bus_url, args.swarm))
    except KeyboardInterrupt:
        return 130
    except AgentkitError as exc:
        print(f"agentkit worker: {exc}", file=err)
        return 1
