"""Channel adapters: each turns one outside system's format into `InboundMessage`.

This package knows nothing of Flask or of `helpdesk`; the application wires the
adapters in at start-up (see `channel_adapters.base.registry`).
"""

from channel_adapters.base import (
    AdapterError,
    ChannelAdapter,
    Identity,
    InboundAttachment,
    InboundMessage,
    ParseError,
    registry,
)

__all__ = [
    "AdapterError",
    "ChannelAdapter",
    "Identity",
    "InboundAttachment",
    "InboundMessage",
    "ParseError",
    "registry",
]
