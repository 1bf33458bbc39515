"""REST API and audit log

Revision ID: b7a1c0de0010
Revises: b7a1c0de0009
Create Date: 2026-12-05 11:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import helpdesk.models.types  # noqa: F401  (custom column types)

revision = "b7a1c0de0010"
down_revision = "b7a1c0de0009"
branch_labels = None
depends_on = None


def upgrade():
    # Nothing to build: the API uses the existing api_tokens table, the audit log is a
    # view of the append-only event trail (events.kind is indexed with created_at), and
    # webhook deliveries are outbox rows. The revision stays to keep the chain whole.
    pass


def downgrade():
    pass
