"""ticket page, merge, split, mentions

Revision ID: b7a1c0de0002
Revises: b7a1c0de0001
Create Date: 2026-11-23 14:30:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from sqlalchemy import Text  # noqa: F401  (autogenerate writes JSONB(astext_type=Text()))

import helpdesk.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'b7a1c0de0002'
down_revision = 'b7a1c0de0001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
