"""Translated labels for the values the store keeps as slugs (statuses, channels, roles)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS = {
    "view": {
        "open": _l("All open"),
        "new": _l("New"),
        "pending": _l("Pending"),
        "on_hold": _l("On hold"),
        "solved": _l("Solved"),
    },
    "status": {
        "new": _l("New"),
        "open": _l("Open"),
        "pending": _l("Pending"),
        "on_hold": _l("On hold"),
        "solved": _l("Solved"),
        "closed": _l("Closed"),
    },
    "priority": {
        "low": _l("Low"),
        "normal": _l("Normal"),
        "high": _l("High"),
        "urgent": _l("Urgent"),
    },
    "channel": {
        "email": _l("E-mail"),
        "chat": _l("Chat"),
        "messenger": "Messenger",
        "instagram": "Instagram",
        "whatsapp": "WhatsApp",
        "x": "X",
        "phone": _l("Phone"),
    },
    "identity": {
        "email": _l("E-mail"),
        "phone": _l("Phone"),
        "chat_visitor": _l("Chat visitor"),
        "messenger": "Messenger",
        "instagram": "Instagram",
        "x": "X",
    },
    "role": {
        "agent": _l("Agent"),
        "lead": _l("Team lead"),
        "social": _l("Social media"),
        "admin": _l("Administrator"),
    },
    "delivery": {
        "sent": _l("Delivered"),
        "retrying": _l("Not delivered yet, trying again"),
        "failed": _l("Delivery failed"),
        "bounced": _l("Bounced"),
    },
    "intent": {
        "return_request": _l("Return request"),
        "return_status": _l("Return status"),
        "refund_status": _l("Refund status"),
        "exchange_request": _l("Exchange"),
        "payment_reminder": _l("Payment reminder"),
        "order_status": _l("Order status"),
        "order_change_cancel": _l("Order change or cancellation"),
        "damaged_or_wrong": _l("Damaged or wrong item"),
        "shipping_policy": _l("Shipping and policies"),
        "product_question": _l("Product question"),
        "other": _l("Other"),
    },
    "author": {
        "customer": _l("Customer"),
        "agent": _l("Agent"),
        "bot": _l("Bot"),
        "system": _l("System"),
    },
}


def label(kind: str, value: str | None) -> str:
    """The label for `value` in the user's language; unknown values show as they are."""
    if value is None:
        return ""
    return str(LABELS.get(kind, {}).get(value, value))
