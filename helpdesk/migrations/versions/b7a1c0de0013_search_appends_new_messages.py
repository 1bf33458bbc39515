"""search appends new messages

Revision ID: b7a1c0de0013
Revises: b7a1c0de0012
Create Date: 2026-12-05 18:10:00

PostgreSQL only. A new message used to rebuild its ticket's whole search document
(subject, customer, order references and every message, parsed again): about a millisecond
of the database's time per inbound message and per reply, more the longer the thread. Now
the new messages' words are appended to the document (`||` shifts their positions past
the existing ones), which holds the same words as a rebuild. The whole document is still
built for a ticket that has none yet, and once the thread's text passes MAX_BODY (where a
rebuild cuts it off, and where a tsvector could outgrow its limit). Edits and deletions
of messages and changes to the ticket, customer or order rebuild as before.
"""

from alembic import op

revision = "b7a1c0de0013"
down_revision = "b7a1c0de0012"
branch_labels = None
depends_on = None

#: As in b7a1c0de0004: the longest thread text that is indexed.
MAX_BODY = 200_000

APPEND = f"""
CREATE OR REPLACE FUNCTION ticket_search_on_message_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    whole integer[];
BEGIN
    WITH added AS (
        SELECT n.ticket_id, string_agg(n.text, E'\\n' ORDER BY n.id) AS body
        FROM new_rows n GROUP BY n.ticket_id
    ), appended AS (
        UPDATE ticket_search s
        SET document = s.document
            || setweight(to_tsvector(ticket_search_config(t.language), coalesce(a.body, '')), 'D')
        FROM added a JOIN tickets t ON t.id = a.ticket_id
        WHERE s.ticket_id = a.ticket_id
          AND (SELECT coalesce(sum(length(m.text)), 0) FROM messages m
               WHERE m.ticket_id = a.ticket_id) <= {MAX_BODY}
        RETURNING s.ticket_id
    )
    SELECT array_agg(a.ticket_id) INTO whole FROM added a
    WHERE a.ticket_id NOT IN (SELECT ticket_id FROM appended);
    PERFORM ticket_search_refresh(whole);
    RETURN NULL;
END $$
"""

REBUILD = """
CREATE OR REPLACE FUNCTION ticket_search_on_message_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ticket_search_refresh(ARRAY(SELECT DISTINCT ticket_id FROM new_rows));
    RETURN NULL;
END $$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REBUILD)
