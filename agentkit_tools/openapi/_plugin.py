"""Hook implementations of the ``openapi`` plugin (needs the ``openapi`` extra).

The plugin imports nothing heavy: httpx, YAML and jsonschema-rs load only when a spec is read. Its
``agentkit_register_tools`` hook imports the specs named in ``AGENTKIT_OPENAPI_SPECS``
(whitespace-separated file paths or http(s) URLs); without that variable it adds nothing, so
``OpenAPIParser`` stays the way to import a spec with options (auth, base URL, filters).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from agentkit.hookspecs import hookimpl

if TYPE_CHECKING:
    from agentkit.protocols import Registry

__all__ = ["SPECS_VARIABLE", "agentkit_add_commands", "agentkit_register_tools"]

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
