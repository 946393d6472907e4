"""Messaging: messages, subjects, the in-memory and NATS buses, and ``connect``.

Users take :func:`connect` and the message types from the package root. A backend author
builds on :class:`BusBase` (options, history, dead letters, replies, closing) and
:class:`BusSubscription` (queue, workers, retries), checks conformance with
:class:`agentkit.testing.BusConformance`, and offers the backend through the
``agentkit_make_bus`` hook.
"""

from __future__ import annotations

from agentkit.bus._base import MAX_CONCURRENCY, REDRIVEN_FROM_HEADER, BusBase, check_timeout
from agentkit.bus._connect import DEFAULT_BUS_URL, connect
from agentkit.bus._memory import InMemoryPubSub
from agentkit.bus._messages import (
    WIRE_VERSION,
    DeadLetter,
    MessagePriority,
    PubSubMessage,
    decode_message,
    encode_message,
    new_message_id,
)
from agentkit.bus._nats import NatsPubSub
from agentkit.bus._subjects import (
    MAX_SUBJECT_BYTES,
    subject_matches,
    validate_publish_subject,
    validate_queue_group,
    validate_subscribe_subject,
)
from agentkit.bus._subscription import BusSubscription, Envelope, SubscriptionHost

__all__ = [
    "BusBase",
    "BusSubscription",
    "DEFAULT_BUS_URL",
    "DeadLetter",
    "Envelope",
    "InMemoryPubSub",
    "MAX_CONCURRENCY",
    "MAX_SUBJECT_BYTES",
    "MessagePriority",
    "NatsPubSub",
    "PubSubMessage",
    "REDRIVEN_FROM_HEADER",
    "SubscriptionHost",
    "WIRE_VERSION",
    "check_timeout",
    "connect",
    "decode_message",
    "encode_message",
    "new_message_id",
    "subject_matches",
    "validate_publish_subject",
    "validate_queue_group",
    "validate_subscribe_subject",
]
