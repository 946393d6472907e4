"""agentkit's tools plugin: the built-in tool library and the OpenAPI importer.

Loaded through the ``tools`` entry point of the ``agentkit`` group, exactly like a third-party
plugin. Needs the ``tools`` extra (``pip install 'agentkit-kernel[tools]'``).
"""

from __future__ import annotations

__all__: list[str] = []
