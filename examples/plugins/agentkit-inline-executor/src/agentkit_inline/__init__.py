"""agentkit-inline-executor: an agentkit executor that runs tasks inline, one at a time.

Installed next to agentkit, the plugin ``inline`` answers ``DistributedEngine(mode="inline")``
with an :class:`InlineExecutor`. The executor can also be made and used directly.
"""

from __future__ import annotations

from agentkit_inline._executor import InlineActorHandle as InlineActorHandle
from agentkit_inline._executor import InlineExecutor as InlineExecutor

__all__ = ["InlineActorHandle", "InlineExecutor", "__version__"]

__version__ = "0.1.0"
