"""ticket metrics due

Revision ID: b7a1c0de0012
Revises: b7a1c0de0011
Create Date: 2026-12-05 12:45:00

Ingest notes a ticket in `ticket_metrics_due` instead of computing its metrics and SLA
due time on the spot (three quarters of ingest's time); the worker's refresh-metrics job
computes them. Tickets ingested before this revision keep the metrics they have.
"""

import sqlalchemy as sa
from alembic import op

import helpdesk.models.types

revision = "b7a1c0de0012"
down_revision = "b7a1c0de0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ticket_metrics_due",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("since", helpdesk.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_metrics_due_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_metrics_due")),
    )


def downgrade():
    op.drop_table("ticket_metrics_due")
