"""A Ray task's span on the worker is a child of the driver's task span, in the caller's trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.observability._spans import assert_one_trace, load_spans

pytestmark = [pytest.mark.ray, pytest.mark.timeout(300)]

CHILD = Path(__file__).with_name("_child_ray_tracing.py")
ROOT = Path(__file__).resolve().parents[3]


def one(records: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The one record called *name*."""
    found = [record for record in records if record["name"] == name]
    assert len(found) == 1, [record["name"] for record in records]
    return found[0]


def test_ray_worker_spans_are_children_of_the_callers_trace(
    ray_cluster: Any, tmp_path: Path
) -> None:
    """caller -> task <name> (driver) -> ray.task <name> (worker), one trace; retries too."""
    spans_file = tmp_path / "worker-spans.jsonl"
    address = ray_cluster.get_runtime_context().gcs_address
    done = subprocess.run(
        [sys.executable, str(CHILD), address, str(spans_file), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    driver = load_spans(done.stdout)
    workers = load_spans(spans_file.read_text(encoding="utf-8"))
    driver_pid = next(
        int(line.split("=", 1)[1])
        for line in done.stdout.splitlines()
        if line.startswith("DRIVER_PID=")
    )
    assert_one_trace(driver + workers)
    caller = one(driver, "caller")

    task = one(driver, "task work")
    worker = one(workers, "ray.task work")
    assert task["parent_id"] == caller["span_id"]
    assert worker["trace_id"] == caller["trace_id"]
    assert worker["parent_id"] == task["span_id"]
    assert task["attributes"]["agentkit.executor"] == "ray"
    assert worker["attributes"]["agentkit.task.id"] == task["attributes"]["agentkit.task.id"]
    where = worker["attributes"]["agentkit.task.where"]
    assert where.startswith("ray:")
    assert int(where.rsplit(":", 1)[1]) != driver_pid  # the span was made in another process

    retried = one(driver, "task flaky")
    attempts = sorted(
        (record for record in workers if record["name"] == "ray.task flaky"),
        key=lambda record: record["attributes"]["agentkit.task.attempt"],
    )
    assert [record["attributes"]["agentkit.task.attempt"] for record in attempts] == [1, 2]
    assert all(record["parent_id"] == retried["span_id"] for record in attempts)
    assert attempts[0]["status"] == "ERROR"
    assert attempts[0]["attributes"]["error.type"] == "ConnectionError"
    assert attempts[1]["status"] == "UNSET"
    [retry] = [event for event in retried["events"] if event["name"] == "retry"]
    assert retry["attributes"]["error.type"] == "ConnectionError"
    assert retried["attributes"]["agentkit.task.outcome"] == "succeeded"
