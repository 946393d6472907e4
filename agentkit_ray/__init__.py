"""agentkit's Ray plugin: runs agentkit work on a Ray cluster.

Loaded through the ``ray`` entry point of the ``agentkit`` group, exactly like a third-party
plugin. Needs the ``ray`` extra (``pip install 'agentkit-kernel[ray]'``).
"""

from __future__ import annotations

from agentkit_ray._executor import RayActorHandle as RayActorHandle
from agentkit_ray._executor import RayExecutor as RayExecutor

__all__ = ["RayActorHandle", "RayExecutor"]
