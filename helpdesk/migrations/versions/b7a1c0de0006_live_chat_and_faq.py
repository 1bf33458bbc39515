"""live chat, chatbot and FAQ

Revision ID: b7a1c0de0006
Revises: b7a1c0de0005
Create Date: 2026-12-05 11:30:00
"""

import sqlalchemy as sa
from alembic import op

import helpdesk.models.types

revision = "b7a1c0de0006"
down_revision = "b7a1c0de0005"
branch_labels = None
depends_on = None

CHAT_STATES = "state IN ('bot', 'order_number', 'order_email', 'human', 'offline_email', 'email')"


def upgrade():
    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visitor", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("data", helpdesk.models.types.JSONType, nullable=False),
        sa.Column("ip_hash", sa.String(length=64), nullable=False),
        sa.Column("page", sa.String(length=500), nullable=True),
        sa.Column("created_at", helpdesk.models.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", helpdesk.models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(CHAT_STATES, name=op.f("ck_chat_sessions_state")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_chat_sessions_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
        sa.UniqueConstraint("visitor", name=op.f("uq_chat_sessions_visitor")),
    )
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chat_sessions_ip_hash_created_at", ["ip_hash", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_chat_sessions_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("alternatives", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", helpdesk.models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("language IN ('de', 'en')", name=op.f("ck_faq_entries_language")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entries")),
        sa.UniqueConstraint("topic", "language", name=op.f("uq_faq_entries_topic_language")),
    )

    op.create_table(
        "agent_availability",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", helpdesk.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agent_availability_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_availability")),
    )
    with op.batch_alter_table("agent_availability", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_availability_seen_at"), ["seen_at"], unique=False
        )

    # The standard answers, so a new installation's chatbot knows them from the start
    # (admins edit them at /admin/faq; `helpdesk demo-data` adds nothing twice).
    from helpdesk.services.faq_defaults import DEFAULT_FAQ

    faq = sa.table(
        "faq_entries",
        sa.column("topic", sa.String),
        sa.column("language", sa.String),
        sa.column("question", sa.String),
        sa.column("alternatives", sa.Text),
        sa.column("answer", sa.Text),
        sa.column("position", sa.Integer),
        sa.column("active", sa.Boolean),
        sa.column("updated_at", helpdesk.models.types.UTCDateTime()),
    )
    now = helpdesk.models.types.utcnow()
    op.bulk_insert(
        faq,
        [
            {
                "topic": entry.topic,
                "language": entry.language,
                "question": entry.question,
                "alternatives": "\n".join(entry.alternatives),
                "answer": entry.answer,
                "position": entry.position,
                "active": True,
                "updated_at": now,
            }
            for entry in DEFAULT_FAQ
        ],
    )


def downgrade():
    with op.batch_alter_table("agent_availability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_availability_seen_at"))
    op.drop_table("agent_availability")
    op.drop_table("faq_entries")
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_sessions_ticket_id"))
        batch_op.drop_index("ix_chat_sessions_ip_hash_created_at")
    op.drop_table("chat_sessions")
