"""Fixtures for the OpenAPI tests: the API server of openapi_app.py, a refusing transport."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openapi_app import ApiServer, start_api


@pytest.fixture
def api() -> Iterator[ApiServer]:
    """The pets API on a free 127.0.0.1 port."""
    state, httpd, thread = start_api()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def refuse_transport() -> Any:
    """An httpx transport that fails the test if any request reaches it."""
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        pytest.fail(f"no request may be sent, but {request.method} {request.url} was")

    return httpx.MockTransport(handler)
