"""live chat, chatbot and FAQ

Revision ID: b7a1c0de0006
Revises: b7a1c0de0005
Create Date: 2026-12-05 11:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import helpdesk.models.types  # noqa: F401  (custom column types)

revision = "b7a1c0de0006"
down_revision = "b7a1c0de0005"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
