"""inbox views and bulk actions

Revision ID: b7a1c0de0001
Revises: 6cf31e7e16b1
Create Date: 2026-11-23 14:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401  (autogenerate writes JSONB(astext_type=Text()))
from sqlalchemy.dialects import postgresql

import helpdesk.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'b7a1c0de0001'
down_revision = '6cf31e7e16b1'
branch_labels = None
depends_on = None

UNSOLVED = "status IN ('new', 'open', 'pending', 'on_hold')"
SOLVED = "status IN ('solved', 'closed')"
# Keyset paging of the inbox: per sort, one partial index over the unsolved tickets and
# one over the solved (the queries repeat these conditions literally).
INBOX_INDEXES = [
    (f'ix_tickets_{group}_{sort}', columns, where)
    for group, where in (('unsolved', UNSOLVED), ('solved', SOLVED))
    for sort, columns in (
        ('activity', ['last_activity_at', 'id']),
        ('sla', ['sla_due_at', 'id']),
        ('priority', ['priority', 'last_activity_at', 'id']),
    )
] + [
    # A colleague's solved tickets, and the view counts from this index alone.
    ('ix_tickets_solved_assignee', ['assignee_id', 'last_activity_at', 'id'], SOLVED),
    ('ix_tickets_unsolved_counts', ['status', 'channel', 'assignee_id', 'sla_due_at', 'id'],
     UNSOLVED),
]


def upgrade():
    op.create_table('inbox_counts',
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('fingerprint', sa.String(length=100), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('computed_at', helpdesk.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_inbox_counts'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for name, columns, where in INBOX_INDEXES:
            batch_op.create_index(name, columns, unique=False,
                                  postgresql_where=sa.text(where), sqlite_where=sa.text(where))
        batch_op.create_index('ix_tickets_escalated_to_id', ['escalated_to_id'], unique=False,
                              postgresql_where=sa.text('escalated_to_id IS NOT NULL'),
                              sqlite_where=sa.text('escalated_to_id IS NOT NULL'))
    # Covering indexes replace the single-column ones: a tag's tickets, a ticket's intents.
    with op.batch_alter_table('ticket_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_tags_name')
        batch_op.create_index('ix_ticket_tags_name_ticket_id', ['name', 'ticket_id'], unique=False)
    with op.batch_alter_table('intent_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_intent_tags_ticket_id')
        batch_op.create_index('ix_intent_tags_ticket_intent',
                              ['ticket_id', 'intent', 'id', 'rejected'], unique=False)


def downgrade():
    op.drop_table('inbox_counts')
    with op.batch_alter_table('intent_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_intent_tags_ticket_intent')
        batch_op.create_index('ix_intent_tags_ticket_id', ['ticket_id'], unique=False)
    with op.batch_alter_table('ticket_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_tags_name_ticket_id')
        batch_op.create_index('ix_ticket_tags_name', ['name'], unique=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_escalated_to_id')
        for name, _columns, _where in reversed(INBOX_INDEXES):
            batch_op.drop_index(name)
