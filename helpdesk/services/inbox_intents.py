"""The intents a ticket carries now, as one integer of bits on the ticket.

An intent is carried when its latest tag on the ticket (model, rule or agent) is not a
rejection. The inbox counts the backlog per intent on every page; reading every backlog
ticket's tags for that was the dearest part of the page (12-15 ms for 8,400 tickets at a
million), so `tickets.intent_bits` holds the answer per ticket and the counts come from
the same index scan as the view counts. A trigger on `intent_tags` keeps it (migration
b7a1c0de0011): every path that tags (ingest's Core inserts, agents, rules, merges, a fix
in psql) is covered.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

#: One bit per intent. Stored in the database: never renumber, only append (a new intent
#: also needs the trigger in a migration to know its bit).
INTENT_BITS: dict[str, int] = {
    "return_request": 1 << 0,
    "return_status": 1 << 1,
    "refund_status": 1 << 2,
    "exchange_request": 1 << 3,
    "payment_reminder": 1 << 4,
    "order_status": 1 << 5,
    "order_change_cancel": 1 << 6,
    "damaged_or_wrong": 1 << 7,
    "shipping_policy": 1 << 8,
    "product_question": 1 << 9,
    "other": 1 << 10,
}


#: The intents in name order, for reading bits back.
_BY_NAME = sorted(INTENT_BITS.items())


def intents_of(bits: int | None) -> list[str]:
    """The intents `bits` carries, in name order (what the inbox rows show)."""
    return [intent for intent, bit in _BY_NAME if bits and bits & bit]


def carries(bits: ColumnElement[int], intent: str) -> ColumnElement[int]:
    """1 where `bits` has `intent`, else 0: summed, it counts the tickets that carry it."""
    return bits.op(">>")(INTENT_BITS[intent].bit_length() - 1).op("&")(1)


def refresh_all_sql() -> str:
    """SQL that sets every tagged ticket's bits from its tags in one pass (after a bulk
    load that ran without triggers)."""
    cases = " ".join(f"WHEN '{intent}' THEN {bit}" for intent, bit in INTENT_BITS.items())
    return (
        "UPDATE tickets SET intent_bits = carried.bits FROM ("
        "SELECT ticket_id, sum(bit) AS bits FROM ("
        f"SELECT t.ticket_id, CASE t.intent {cases} ELSE 0 END AS bit FROM intent_tags t "
        "GROUP BY t.ticket_id, t.intent "
        "HAVING max(t.id) = max(CASE WHEN NOT t.rejected THEN t.id END)) AS latest "
        "GROUP BY ticket_id) AS carried WHERE tickets.id = carried.ticket_id"
    )
