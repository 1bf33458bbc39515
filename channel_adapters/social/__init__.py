"""Social DMs: Messenger and Instagram (Meta's Messenger Platform), WhatsApp Cloud API, X.

Each module turns one platform's webhook body into a `SocialDelivery` (the customers'
messages as `InboundMessage`s, echoes of what we sent, delivery and read receipts, and
what was skipped and why) and sends replies through the platform's send API. Nothing
here knows Flask or the helpdesk: the application checks signatures with the functions
in `common`, stores what the parsers return, and hands replies to the adapters.
"""
