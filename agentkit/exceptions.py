"""Every error agentkit raises, under one root.

Hierarchy::

    AgentkitError
    ├── ConfigurationError (ValueError)          bad arguments, settings or URLs
    │   └── MissingExtraError (ImportError)       an optional extra is not installed
    ├── PluginError                               a plugin failed to load or clashed
    └── BusError                                  the message bus
        ├── InvalidSubjectError (ValueError)      a subject that breaks NATS syntax
        ├── MessageEncodeError (TypeError)        a payload msgpack cannot encode
        ├── MessageDecodeError (ValueError)       bytes that are not an agentkit message
        ├── MessageTooLargeError (ValueError)     over the server's max_payload
        ├── BackpressureError (TimeoutError)      a subscription queue stayed full
        ├── BusClosedError (RuntimeError)         the bus was closed
        ├── ConnectionLostError (ConnectionError) the transport is gone
        ├── NoRespondersError                     a request nobody listens to
        ├── RequestTimeoutError (TimeoutError)    a request got no reply in time
        └── DeadLetterNotFoundError (KeyError)    redrive of an unknown dead letter

Third-party errors (nats-py, ray, httpx) are translated where they enter agentkit, so callers
only ever catch these.
"""

from __future__ import annotations

__all__ = [
    "AgentkitError",
    "BackpressureError",
    "BusClosedError",
    "BusError",
    "ConfigurationError",
    "ConnectionLostError",
    "DeadLetterNotFoundError",
    "InvalidSubjectError",
    "MessageDecodeError",
    "MessageEncodeError",
    "MessageTooLargeError",
    "MissingExtraError",
    "NoRespondersError",
    "PluginError",
    "RequestTimeoutError",
]


class AgentkitError(Exception):
    """Root of every error raised by agentkit."""


class ConfigurationError(AgentkitError, ValueError):
    """An argument, setting or URL that agentkit cannot work with."""


class MissingExtraError(ConfigurationError, ImportError):
    """An optional dependency is missing; the message holds the exact ``pip install`` line."""

    def __init__(self, feature: str, extra: str) -> None:
        self.feature = feature
        self.extra = extra
        self.install_line = f"pip install 'agentkit-kernel[{extra}]'"
        super().__init__(f"{feature} needs the '{extra}' extra: {self.install_line}")


class PluginError(AgentkitError):
    """A plugin failed to import, to register, or clashed with another plugin."""


class BusError(AgentkitError):
    """Base for message-bus errors."""


class InvalidSubjectError(BusError, ValueError):
    """A subject that is empty, holds whitespace or an empty token, or a wildcard in a publish."""


class MessageEncodeError(BusError, TypeError):
    """A message whose payload cannot be encoded as msgpack; nothing was sent."""


class MessageDecodeError(BusError, ValueError):
    """Bytes that do not decode to an agentkit message."""


class MessageTooLargeError(BusError, ValueError):
    """An encoded message larger than the transport's maximum payload; nothing was sent."""


class BackpressureError(BusError, TimeoutError):
    """A subscription queue stayed full past the publish timeout."""


class BusClosedError(BusError, RuntimeError):
    """The bus was closed; open a new one."""


class ConnectionLostError(BusError, ConnectionError):
    """The transport could not be reached or the connection is gone."""


class NoRespondersError(BusError):
    """A request was sent to a subject that no subscription listens to."""


class RequestTimeoutError(BusError, TimeoutError):
    """A request got no reply before its timeout."""


class DeadLetterNotFoundError(BusError, KeyError):
    """No dead letter has the given id (already redriven, purged or evicted)."""
