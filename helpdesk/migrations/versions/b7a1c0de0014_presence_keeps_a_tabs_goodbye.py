"""presence keeps a tab's goodbye

Revision ID: b7a1c0de0014
Revises: b7a1c0de0013
Create Date: 2026-12-05 20:10:00

A tab's goodbye stays as a row in state "gone" until it expires, so a beat of that tab
arriving after it cannot bring the person back. Presence rows live half a minute and the
browsers beat every ten seconds, so the table is made again rather than altered (SQLite
cannot change a check constraint in place): nothing of value is lost.
"""
from alembic import op
import sqlalchemy as sa

import helpdesk.models.types


# revision identifiers, used by Alembic.
revision = 'b7a1c0de0014'
down_revision = 'b7a1c0de0013'
branch_labels = None
depends_on = None


def _presence(states: str) -> None:
    op.create_table('presence',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('tab', sa.String(length=40), nullable=False),
    sa.Column('updated_at', helpdesk.models.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint(f"state IN ({states})", name=op.f('ck_presence_state')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_presence_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_presence_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'user_id', name=op.f('pk_presence'))
    )
    with op.batch_alter_table('presence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_presence_updated_at'), ['updated_at'], unique=False)


def upgrade():
    op.drop_table('presence')
    _presence("'viewing', 'typing', 'gone'")


def downgrade():
    op.drop_table('presence')
    _presence("'viewing', 'typing'")
