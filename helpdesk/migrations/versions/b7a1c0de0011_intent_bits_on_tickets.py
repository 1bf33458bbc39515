"""intent bits on tickets

Revision ID: b7a1c0de0011
Revises: b7a1c0de0010
Create Date: 2026-12-05 12:00:00

`tickets.intent_bits`: the intents a ticket carries now (latest tag per intent not a
rejection), one bit each, kept by a trigger on `intent_tags` and read by the inbox's
counts from the same covering index as the view counts. It replaces `inbox_counts`, the
intent counts kept with a fingerprint and counted again after every change (the dearest
part of the first inbox page after a change).

The bits and the SQL are frozen here; helpdesk/services/inbox_intents.py has the same
map. A new intent needs a migration that replaces the trigger.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import helpdesk.models.types

revision = "b7a1c0de0011"
down_revision = "b7a1c0de0010"
branch_labels = None
depends_on = None

BITS = {
    "return_request": 1,
    "return_status": 2,
    "refund_status": 4,
    "exchange_request": 8,
    "payment_reminder": 16,
    "order_status": 32,
    "order_change_cancel": 64,
    "damaged_or_wrong": 128,
    "shipping_policy": 256,
    "product_question": 512,
    "other": 1024,
}
UNSOLVED = "status IN ('new', 'open', 'pending', 'on_hold')"
COUNTS_BEFORE = ["status", "channel", "assignee_id", "sla_due_at", "id"]
COUNTS_AFTER = ["status", "channel", "assignee_id", "sla_due_at", "intent_bits", "id"]


def bits(ticket_id: str) -> str:
    cases = " ".join(f"WHEN '{intent}' THEN {bit}" for intent, bit in BITS.items())
    return (
        "(SELECT coalesce(sum(bit), 0) FROM ("
        f"SELECT CASE t.intent {cases} ELSE 0 END AS bit FROM intent_tags t "
        f"WHERE t.ticket_id = {ticket_id} GROUP BY t.intent "
        "HAVING max(t.id) = max(CASE WHEN NOT t.rejected THEN t.id END)) AS carried)"
    )


def upgrade():
    op.add_column(
        "tickets", sa.Column("intent_bits", sa.Integer(), server_default="0", nullable=False)
    )
    cases = " ".join(f"WHEN '{intent}' THEN {bit}" for intent, bit in BITS.items())
    op.execute(
        "UPDATE tickets SET intent_bits = carried.bits FROM ("
        "SELECT ticket_id, sum(bit) AS bits FROM ("
        f"SELECT t.ticket_id, CASE t.intent {cases} ELSE 0 END AS bit FROM intent_tags t "
        "GROUP BY t.ticket_id, t.intent "
        "HAVING max(t.id) = max(CASE WHEN NOT t.rejected THEN t.id END)) AS latest "
        "GROUP BY ticket_id) AS carried WHERE tickets.id = carried.ticket_id"
    )
    _replace_counts_index(COUNTS_AFTER)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION tickets_intent_bits_refresh() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'DELETE' THEN
                    UPDATE tickets SET intent_bits = {bits("NEW.ticket_id")}
                    WHERE id = NEW.ticket_id;
                END IF;
                IF TG_OP <> 'INSERT' THEN
                    UPDATE tickets SET intent_bits = {bits("OLD.ticket_id")}
                    WHERE id = OLD.ticket_id;
                END IF;
                RETURN NULL;
            END $$""")
        op.execute("""
            CREATE TRIGGER intent_tags_bits AFTER INSERT OR UPDATE OR DELETE ON intent_tags
            FOR EACH ROW EXECUTE FUNCTION tickets_intent_bits_refresh()""")
    else:
        for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), ("UPDATE", ("OLD", "NEW"))):
            updates = " ".join(
                f"UPDATE tickets SET intent_bits = {bits(f'{row}.ticket_id')} "
                f"WHERE id = {row}.ticket_id;"
                for row in rows
            )
            op.execute(
                f"CREATE TRIGGER intent_tags_bits_{event.lower()} AFTER {event} ON intent_tags "
                f"FOR EACH ROW BEGIN {updates} END"
            )
    op.drop_table("inbox_counts")


def downgrade():
    op.create_table(
        "inbox_counts",
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("fingerprint", sa.String(length=100), nullable=False),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("computed_at", helpdesk.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_inbox_counts")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER intent_tags_bits ON intent_tags")
        op.execute("DROP FUNCTION tickets_intent_bits_refresh()")
    else:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER intent_tags_bits_{event}")
    _replace_counts_index(COUNTS_BEFORE)
    # Plain ALTER TABLE on SQLite too (3.35+): a batch rebuild would lose the search triggers.
    op.execute("ALTER TABLE tickets DROP COLUMN intent_bits")


def _replace_counts_index(columns: list[str]) -> None:
    op.drop_index("ix_tickets_unsolved_counts", table_name="tickets")
    op.create_index(
        "ix_tickets_unsolved_counts",
        "tickets",
        columns,
        postgresql_where=sa.text(UNSOLVED),
        sqlite_where=sa.text(UNSOLVED),
    )
