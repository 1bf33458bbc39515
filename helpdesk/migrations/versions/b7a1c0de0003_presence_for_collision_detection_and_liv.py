"""presence for collision detection and live updates

Revision ID: b7a1c0de0003
Revises: b7a1c0de0002
Create Date: 2026-11-23 14:30:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from sqlalchemy import Text  # noqa: F401  (autogenerate writes JSONB(astext_type=Text()))

import helpdesk.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'b7a1c0de0003'
down_revision = 'b7a1c0de0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('presence',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('tab', sa.String(length=40), nullable=False),
    sa.Column('updated_at', helpdesk.models.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint("state IN ('viewing', 'typing')", name=op.f('ck_presence_state')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_presence_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_presence_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'user_id', name=op.f('pk_presence'))
    )
    with op.batch_alter_table('presence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_presence_updated_at'), ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('presence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_presence_updated_at'))

    op.drop_table('presence')
