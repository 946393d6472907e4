"""Shared fixtures: a real nats-server per test module, hypothesis profiles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from agentkit.testing import NatsServer

# Test traffic stays on loopback: a Ray started by the tests (and its workers, which inherit
# this) binds to 127.0.0.1 instead of the machine's network address. Ray reads the variable
# when it is imported, so it is set before any test imports ray.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

# CI machines are shared and noisy: no deadlines there, and a fixed number of examples.
settings.register_profile(
    "ci", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="module")
def nats_server() -> Iterator[NatsServer]:
    """A real nats-server with JetStream on a free loopback port (fails if it is missing)."""
    with NatsServer() as server:
        yield server


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    """The URL of the module's nats-server."""
    return nats_server.url


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """One real local Ray for the session: 2 CPUs, no dashboard, 300 MB object store."""
    from agentkit.testing._executor_suite import ensure_local_ray

    ray, started = ensure_local_ray(num_cpus=2, object_store_mb=300)
    yield ray
    if started:
        ray.shutdown()


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """With AGENTKIT_REQUIRE_SERVERS=1 (CI, nox), a skipped NATS or Ray test is a failure."""
    if os.environ.get("AGENTKIT_REQUIRE_SERVERS") != "1" or call.excinfo is None:
        return
    if call.excinfo.errisinstance(pytest.skip.Exception) and (
        item.get_closest_marker("nats") or item.get_closest_marker("ray")
    ):
        raise pytest.fail.Exception(
            f"{item.nodeid} needs NATS or Ray and was skipped ({call.excinfo.value}); "
            "install the dev extra: pip install -e '.[all,dev]'"
        )
