"""ticket metrics, business hours, SLA policies, CSAT surveys, spikes, wall of pain and ideas

Revision ID: b7a1c0de0008
Revises: b7a1c0de0007
Create Date: 2026-12-05 11:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import helpdesk.models.types  # custom column types

revision = "b7a1c0de0008"
down_revision = "b7a1c0de0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC = helpdesk.models.types.UTCDateTime


def upgrade():
    op.create_table(
        "business_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("weekly", JSON, nullable=False),
        sa.Column("holiday_country", sa.String(length=8), nullable=True),
        sa.Column("holiday_subdivision", sa.String(length=8), nullable=True),
        sa.Column("closed_days", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_business_hours_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_hours")),
        sa.UniqueConstraint("team_id", name=op.f("uq_business_hours_team_id")),
    )
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("priority", sa.String(length=20), nullable=True),
        sa.Column("intent", sa.String(length=40), nullable=True),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("business_hours", sa.Boolean(), nullable=False),
        sa.Column("warn_before_minutes", sa.Integer(), nullable=False),
        sa.Column("escalate", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.CheckConstraint(
            "first_response_minutes > 0", name=op.f("ck_sla_policies_first_response_minutes")
        ),
        sa.CheckConstraint(
            "warn_before_minutes >= 0", name=op.f("ck_sla_policies_warn_before_minutes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
    )
    seconds = [
        f"{name}{suffix}"
        for name in ("first_response", "next_reply", "first_resolution", "full_resolution",
                     "requester_wait", "agent_wait")
        for suffix in ("_s", "_bh_s")
    ]  # fmt: skip
    op.create_table(
        "ticket_metrics",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("intent", sa.String(length=40), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("clock_started_at", UTC(), nullable=False),
        sa.Column("first_response_at", UTC(), nullable=True),
        *(sa.Column(name, sa.Float(), nullable=True) for name in seconds),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("solved_at", UTC(), nullable=True),
        sa.Column("one_touch", sa.Boolean(), nullable=False),
        sa.Column("sla_due_at", UTC(), nullable=True),
        sa.Column("sla_met", sa.Boolean(), nullable=True),
        sa.Column("sla_warned_at", UTC(), nullable=True),
        sa.Column("sla_breached_at", UTC(), nullable=True),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_ticket_metrics_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_ticket_metrics_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_metrics_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_metrics")),
    )
    with op.batch_alter_table("ticket_metrics", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_metrics_created_channel", ["created_at", "channel"], unique=False
        )
        batch_op.create_index(
            "ix_ticket_metrics_unsolved_created",
            ["created_at"],
            unique=False,
            postgresql_where=sa.text("solved_at IS NULL"),
            sqlite_where=sa.text("solved_at IS NULL"),
        )
        batch_op.create_index("ix_ticket_metrics_solved_at", ["solved_at"], unique=False)

    op.create_table(
        "spike_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("min_tickets", sa.Integer(), nullable=False),
        sa.Column("auto_acknowledge", sa.Boolean(), nullable=False),
        sa.Column("text_de", sa.String(length=1000), nullable=False),
        sa.Column("text_en", sa.String(length=1000), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.CheckConstraint("factor >= 1", name=op.f("ck_spike_settings_factor")),
        sa.CheckConstraint("min_tickets >= 1", name=op.f("ck_spike_settings_min_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spike_settings")),
    )
    op.create_table(
        "volume_spikes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC(), nullable=False),
        sa.Column("ended_at", UTC(), nullable=True),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("usual", sa.Float(), nullable=False),
        sa.Column("expected_minutes", sa.Integer(), nullable=True),
        sa.Column("acknowledged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_spikes")),
    )
    with op.batch_alter_table("volume_spikes", schema=None) as batch_op:
        batch_op.create_index("ix_volume_spikes_started_at", ["started_at"], unique=False)

    op.create_table(
        "csat_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("intent", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("sent_at", UTC(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", UTC(), nullable=True),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)", name=op.f("ck_csat_surveys_rating")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
            name=op.f("fk_csat_surveys_agent_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_csat_surveys_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_csat_surveys_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_surveys")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_csat_surveys_ticket_id")),
    )
    with op.batch_alter_table("csat_surveys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_csat_surveys_customer_sent", ["customer_id", "sent_at"], unique=False
        )
        batch_op.create_index("ix_csat_surveys_answered_at", ["answered_at"], unique=False)

    op.create_table(
        "wall_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.CheckConstraint("kind IN ('pain', 'idea')", name=op.f("ck_wall_entries_kind")),
        sa.CheckConstraint(
            "status IN ('new', 'planned', 'done')", name=op.f("ck_wall_entries_status")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_wall_entries_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wall_entries")),
    )
    op.create_table(
        "wall_tickets",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("pinned_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["wall_entries.id"],
            name=op.f("fk_wall_tickets_entry_id_wall_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pinned_by_id"],
            ["users.id"],
            name=op.f("fk_wall_tickets_pinned_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_wall_tickets_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "ticket_id", name=op.f("pk_wall_tickets")),
    )
    op.create_table(
        "wall_votes",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["wall_entries.id"],
            name=op.f("fk_wall_votes_entry_id_wall_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_wall_votes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entry_id", "user_id", name=op.f("pk_wall_votes")),
    )

    # Notifications for leads: an SLA breach, a low satisfaction rating.
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_notifications_kind"), "kind IN ('mention', 'sla', 'csat')"
        )


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind <> 'mention'")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notifications_kind"), "kind IN ('mention')")
    op.drop_table("wall_votes")
    op.drop_table("wall_tickets")
    op.drop_table("wall_entries")
    with op.batch_alter_table("csat_surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_csat_surveys_answered_at")
        batch_op.drop_index("ix_csat_surveys_customer_sent")
    op.drop_table("csat_surveys")
    with op.batch_alter_table("volume_spikes", schema=None) as batch_op:
        batch_op.drop_index("ix_volume_spikes_started_at")
    op.drop_table("volume_spikes")
    op.drop_table("spike_settings")
    with op.batch_alter_table("ticket_metrics", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_metrics_solved_at")
        batch_op.drop_index("ix_ticket_metrics_unsolved_created")
        batch_op.drop_index("ix_ticket_metrics_created_channel")
    op.drop_table("ticket_metrics")
    op.drop_table("sla_policies")
    op.drop_table("business_hours")
