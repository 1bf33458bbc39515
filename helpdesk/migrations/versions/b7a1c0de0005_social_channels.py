"""social DMs: Messenger, Instagram, WhatsApp, X

Revision ID: b7a1c0de0005
Revises: b7a1c0de0004
Create Date: 2026-12-05 11:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op

import helpdesk.models.types  # noqa: F401  (custom column types)

revision = "b7a1c0de0005"
down_revision = "b7a1c0de0004"
branch_labels = None
depends_on = None


def upgrade():
    # Read receipts with a watermark (Messenger) and the 24-hour window look messages up
    # by channel and the customer's platform id.
    op.create_index(
        "ix_messages_channel_counterpart", "messages", ["channel", "counterpart"], unique=False
    )


def downgrade():
    op.drop_index("ix_messages_channel_counterpart", table_name="messages")
