"""The OpenAPI importer: every operation of an OpenAPI 3.x or Swagger 2.0 spec as a tool.

Registered by the ``openapi`` plugin (specs named in ``AGENTKIT_OPENAPI_SPECS``) and by
``agentkit openapi``; :class:`OpenAPIParser` imports a spec with options of your own.
"""

from __future__ import annotations

from agentkit_tools.openapi._errors import APIResponseError, OpenAPIError, OpenAPILimitError
from agentkit_tools.openapi._parser import OpenAPIParser
from agentkit_tools.openapi._report import ImportReport, SkippedOperation

__all__ = [
    "APIResponseError",
    "ImportReport",
    "OpenAPIError",
    "OpenAPILimitError",
    "OpenAPIParser",
    "SkippedOperation",
]
