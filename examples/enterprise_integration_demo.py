"""The fraud-detection demo from Python: ``python examples/enterprise_integration_demo.py``.

It runs the same scenario as ``agentkit demo`` through the public entry point
``agentkit.demo.run_demo``: analyst agents voting over a bus with built-in tools, a circuit breaker
with a fallback, health-monitored failover, batch scoring on an executor and a load test.

    python examples/enterprise_integration_demo.py                       # memory://, local
    python examples/enterprise_integration_demo.py --bus nats://127.0.0.1:4222 --executor ray
    python examples/enterprise_integration_demo.py --report report.txt   # also keep the report
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from pathlib import Path

import agentkit.demo


class Tee(io.StringIO):
    """Keeps what is written and echoes it to stdout as it comes."""

    def write(self, text: str) -> int:
        sys.stdout.write(text)
        return super().write(text)


async def main(bus_url: str | None, executor: str) -> tuple[int, str]:
    """Run the demo, printing its report live; return the exit code and the report."""
    report = Tee()
    exit_code = await agentkit.demo.run_demo(bus_url, out=report, executor=executor)
    return exit_code, report.getvalue()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bus", default=None, help="bus URL (default: memory://)")
    parser.add_argument("--executor", choices=("local", "ray"), default="local")
    parser.add_argument("--report", type=Path, default=None, help="also write the report here")
    options = parser.parse_args()
    code, text = asyncio.run(main(options.bus, options.executor))
    if options.report is not None and code == 0:
        options.report.write_text(text, encoding="utf-8")
        print(f"report saved to {options.report}")
    sys.exit(code)
