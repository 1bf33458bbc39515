"""social DMs: Messenger, Instagram, WhatsApp, X

Revision ID: b7a1c0de0005
Revises: b7a1c0de0004
Create Date: 2026-12-05 11:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import helpdesk.models.types  # noqa: F401  (custom column types)

revision = "b7a1c0de0005"
down_revision = "b7a1c0de0004"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
