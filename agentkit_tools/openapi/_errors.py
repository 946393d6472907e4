"""The OpenAPI importer's errors, under the kernel's tool errors (root :class:`AgentkitError`)."""

from __future__ import annotations

from agentkit.exceptions import LimitExceededError, ToolError, ToolRegistrationError

__all__ = ["APIResponseError", "OpenAPIError", "OpenAPILimitError"]


class OpenAPIError(ToolRegistrationError):
    """An OpenAPI spec that cannot be read, resolved or validated; the message says where."""


class OpenAPILimitError(OpenAPIError, LimitExceededError):
    """An OpenAPI spec over a size, depth or count limit; the message names the option."""


class APIResponseError(ToolError):
    """An API imported from an OpenAPI spec answered with a non-2xx status.

    ``status_code``, ``body`` (parsed JSON, else text), ``method`` and ``url`` are kept; the
    message holds the status and the start of the body.
    """

    def __init__(
        self, message: str, *, status_code: int, body: object, method: str, url: str
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.method = method
        self.url = url
