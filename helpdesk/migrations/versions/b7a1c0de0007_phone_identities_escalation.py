"""phone calls, customer merge and unmerge, social-to-care escalation

Revision ID: b7a1c0de0007
Revises: b7a1c0de0006
Create Date: 2026-12-05 11:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import helpdesk.models.types  # noqa: F401  (custom column types)

revision = "b7a1c0de0007"
down_revision = "b7a1c0de0006"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
