"""Failover on a real local Ray: killed workers and killed actors."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agentkit import TaskFailedError, TaskState
from agentkit.testing._executor_suite import within
from agentkit_ray import RayExecutor

pytestmark = [pytest.mark.ray, pytest.mark.timeout(120)]


class PidThenBlock:
    """Writes its worker's pid, then (on the first run only) blocks until killed.

    A later run, in a new worker, sees the pid file and returns at once.
    """

    def __init__(self, folder: Path) -> None:
        self.pid_file = str(folder / "pid")

    def __call__(self) -> int:
        path = Path(self.pid_file)
        if path.exists():
            return os.getpid()
        path.write_text(str(os.getpid()))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.01)
        return -1

    async def pid(self) -> int:
        """The pid of the first run's worker, once it wrote it."""
        path = Path(self.pid_file)
        while not path.exists() or not path.read_text():  # noqa: ASYNC240 - a tiny local file
            await _sleep()
        return int(path.read_text())  # noqa: ASYNC240


class Account:
    """An actor whose slow call blocks until a file appears."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.balance = 0
        self.starts = len(list(Path(folder).glob("start-*")))
        Path(folder, f"start-{self.starts}").touch()

    def deposit(self, amount: int) -> int:
        self.balance += amount
        return self.balance

    def slow_deposit(self, amount: int) -> int:
        Path(self.folder, "slow-started").touch()
        deadline = time.monotonic() + 60
        while not Path(self.folder, "release").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.deposit(amount)

    def pid(self) -> int:
        return os.getpid()


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.01)


async def _until(condition: Any) -> None:
    while not condition():
        await _sleep()


@pytest.fixture
async def make_ray(ray_cluster: Any) -> AsyncIterator[Any]:
    """A factory of Ray executors on the session's Ray, shut down at teardown."""
    ray_cluster.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    made: list[RayExecutor] = []

    def factory(**options: Any) -> RayExecutor:
        executor = RayExecutor(backoff_base=0.01, **options)
        executor.start()
        made.append(executor)
        return executor

    yield factory
    for executor in made:
        await executor.shutdown()


async def test_task_survives_its_worker_being_killed(make_ray: Any, tmp_path: Path) -> None:
    """SIGKILL of the worker running a task: Ray runs it again elsewhere and it completes."""
    executor = make_ray(worker_retries=2)
    job = PidThenBlock(tmp_path)
    task_id = await executor.submit(job)
    first_pid = await within(job.pid(), "the task to start")
    os.kill(first_pid, signal.SIGKILL)
    second_pid = await within(executor.result(task_id), "the retried task")
    assert second_pid not in (first_pid, -1)
    outcome = await executor.wait(task_id)
    assert outcome.state is TaskState.SUCCEEDED
    assert outcome.where.endswith(f":{second_pid}")


async def test_worker_death_without_retries_is_reported(make_ray: Any, tmp_path: Path) -> None:
    """With no retries left, a killed worker fails the task with TaskFailedError."""
    executor = make_ray(worker_retries=0)
    job = PidThenBlock(tmp_path)
    task_id = await executor.submit(job, max_attempts=1)
    os.kill(await within(job.pid(), "the task to start"), signal.SIGKILL)
    with pytest.raises(TaskFailedError, match=r"(?i)worker|crash|died"):
        await within(executor.result(task_id), "the failure")


async def test_driver_retry_after_worker_death(make_ray: Any, tmp_path: Path) -> None:
    """Without Ray retries, max_attempts re-runs a task whose worker died."""
    executor = make_ray(worker_retries=0)
    job = PidThenBlock(tmp_path)
    task_id = await executor.submit(job, max_attempts=2)
    first_pid = await within(job.pid(), "the task to start")
    os.kill(first_pid, signal.SIGKILL)
    assert await within(executor.result(task_id), "the second attempt") != first_pid
    outcome = await executor.wait(task_id)
    assert len(outcome.attempts) == 2
    assert outcome.attempts[0].error is not None


async def test_killed_actor_restarts_and_call_is_retried(make_ray: Any, tmp_path: Path) -> None:
    """An actor killed mid-call restarts, and with max_task_retries the call completes."""
    import ray

    executor = make_ray()
    account = await executor.create_actor(
        Account, str(tmp_path), max_restarts=1, max_task_retries=1
    )
    assert await within(account.deposit(5)) == 5
    call = _start(account.slow_deposit(10))
    await within(_until(lambda: (tmp_path / "slow-started").exists()), "the slow call")
    ray.kill(account.ray_handle, no_restart=False)
    # Release the slow call only once the actor was restarted (its constructor ran again).
    await within(_until(lambda: (tmp_path / "start-1").exists()), "the restart")
    (tmp_path / "release").touch()
    # The restarted actor's state starts over: 0 + 10, not 5 + 10.
    assert await within(call, "the retried call") == 10


async def test_killed_actor_tells_the_caller(make_ray: Any, tmp_path: Path) -> None:
    """Without call retries the interrupted caller gets TaskFailedError; the actor restarts."""
    import ray

    executor = make_ray()
    account = await executor.create_actor(
        Account, str(tmp_path), max_restarts=1, max_task_retries=0
    )
    first_pid = await within(account.pid())
    call = _start(account.slow_deposit(10))
    await within(_until(lambda: (tmp_path / "slow-started").exists()), "the slow call")
    ray.kill(account.ray_handle, no_restart=False)
    with pytest.raises(TaskFailedError, match="died"):
        await within(call, "the failure")
    assert await within(account.deposit(1), "the restarted actor") == 1
    assert await within(account.pid()) != first_pid


def _start(awaitable: Any) -> Any:
    import asyncio

    return asyncio.ensure_future(awaitable)
