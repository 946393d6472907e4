"""Hook implementations of the ``openapi`` plugin (needs the ``openapi`` extra).

The plugin imports nothing heavy: httpx, YAML and jsonschema-rs load only when a spec is read. Its
``agentkit_register_tools`` hook imports the specs named in ``AGENTKIT_OPENAPI_SPECS``
(whitespace-separated file paths or http(s) URLs); without that variable it adds nothing, so
``OpenAPIParser`` stays the way to import a spec with options (auth, base URL, filters).
Its ``agentkit_health_checks`` hook gives one probe ``openapi:<short name>`` per listed spec:
a HEAD to the API's base URL (see :mod:`agentkit_tools.openapi._health`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from agentkit.hookspecs import hookimpl

if TYPE_CHECKING:
    from agentkit.protocols import Registry
    from agentkit.reliability import HealthProbe

__all__ = [
    "SPECS_VARIABLE",
    "agentkit_add_commands",
    "agentkit_health_checks",
    "agentkit_register_tools",
]

#: The environment variable listing specs to import when the plugin is activated.
SPECS_VARIABLE = "AGENTKIT_OPENAPI_SPECS"


@hookimpl
def agentkit_register_tools(registry: Registry) -> None:
    """Add the tools of every spec listed in ``AGENTKIT_OPENAPI_SPECS`` to *registry*."""
    specs = os.environ.get(SPECS_VARIABLE, "").split()
    if not specs:
        return
    from agentkit_tools.openapi._parser import OpenAPIParser

    parser = OpenAPIParser()
    for spec in specs:
        parser.register_tools_from_spec(spec, registry)


@hookimpl
def agentkit_add_commands(commands: Any) -> None:
    """Add ``agentkit openapi inspect|call`` to the command line."""
    from agentkit_tools.openapi._cli import add_openapi_parser

    add_openapi_parser(commands)


@hookimpl
def agentkit_health_checks() -> list[HealthProbe] | None:
    """One probe ``openapi:<short name>`` (kind ``api``) per spec in ``AGENTKIT_OPENAPI_SPECS``.

    The short name is the spec file's stem or the URL's last path part (``-2``, ... when
    taken). Nothing is read here: each probe reads its spec on its first run, in a thread,
    then sends one HEAD to the API's base URL per run (healthy: any HTTP answer).
    """
    specs = os.environ.get(SPECS_VARIABLE, "").split()
    if not specs:
        return None
    from agentkit_tools.openapi._health import probes_for

    return probes_for(specs)
