"""full-text search and admin

Revision ID: b7a1c0de0004
Revises: b7a1c0de0003
Create Date: 2026-11-23 14:30:00

The search index is one document per ticket: its subject, the customer's name and
identities, the linked order's number with its shipments' and returns' numbers
and tracking numbers, and the text of every message. Database triggers keep it
current, so every path that writes (ingest's Core statements, the ORM, the CLI,
a manual fix in psql) is covered; this migration also fills it for existing
tickets.

PostgreSQL: table `ticket_search` (tsvector, GIN index), built with the ticket's
language ('german', 'english', else 'simple'); exact tokens (addresses, order
and tracking numbers) are also stored whole. SQLite: an FTS5 table
`ticket_search` (porter + unicode61 without diacritics; porter stems English
only, German is folded when the query is built, see helpdesk/services/search.py).

Neither is part of the models: it is derived data, and SQLite keeps FTS5's
shadow tables beside it (`ticket_search_*`), which model comparison skips.

A later migration that rebuilds one of the tables named in the triggers with
SQLite's batch mode (copy, drop, rename) must drop the triggers first and
create them again after: `drop_triggers()` / `create_triggers()` below show how.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from sqlalchemy import Text  # noqa: F401  (autogenerate writes JSONB(astext_type=Text()))

import helpdesk.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'b7a1c0de0004'
down_revision = 'b7a1c0de0003'
branch_labels = None
depends_on = None

#: Longest message text (all messages of a ticket together) that is indexed; a tsvector
#: holds at most 1 MB, and nobody searches for the 200,001st character of a thread.
MAX_BODY = 200_000


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, trigger in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP VIEW IF EXISTS ticket_search_source")
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")
        op.execute("DROP TABLE IF EXISTS ticket_search")
    else:
        drop_triggers()
        op.execute("DROP VIEW IF EXISTS ticket_search_source")
        op.execute("DROP TABLE IF EXISTS ticket_search")


# --- PostgreSQL ----------------------------------------------------------------------------

PG_SOURCE = f"""
    CREATE VIEW ticket_search_source AS
    SELECT t.id AS ticket_id,
           setweight(to_tsvector(cfg.c, t.subject), 'A')
        || setweight(to_tsvector('simple', concat_ws(' ', cu.name, idn.words,
                                                   array_to_string(refs.tokens, ' '))), 'B')
        || setweight(array_to_tsvector(coalesce(idn.tokens, '{{}}') || coalesce(refs.tokens, '{{}}')),
                     'A')
        || setweight(to_tsvector(cfg.c, left(coalesce(msg.body, ''), {MAX_BODY})), 'D')
           AS document
    FROM tickets t
    CROSS JOIN LATERAL (SELECT ticket_search_config(t.language) AS c) cfg
    LEFT JOIN customers cu ON cu.id = t.customer_id
    LEFT JOIN LATERAL (
        SELECT string_agg(concat_ws(' ', i.display_name, i.value), ' ') AS words,
               array_agg(DISTINCT lower(i.value)) AS tokens
        FROM customer_identities i WHERE i.customer_id = t.customer_id
    ) idn ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(DISTINCT lower(v.token)) FILTER (WHERE v.token <> '') AS tokens
        FROM (
            SELECT o.number AS token FROM orders o WHERE o.id = t.order_id
            UNION ALL SELECT s.tracking_number FROM shipments s WHERE s.order_id = t.order_id
            UNION ALL SELECT 'R-' || r.id FROM returns r
                WHERE r.order_id = t.order_id OR r.ticket_id = t.id
            UNION ALL SELECT r.tracking_number FROM returns r
                WHERE r.order_id = t.order_id OR r.ticket_id = t.id
        ) v
    ) refs ON true
    LEFT JOIN LATERAL (
        SELECT string_agg(m.text, E'\\n' ORDER BY m.id) AS body
        FROM messages m WHERE m.ticket_id = t.id
    ) msg ON true
"""

PG_FUNCTIONS = (
    "ticket_search_config(text)",
    "ticket_search_refresh(integer[])",
    "ticket_search_on_ticket_insert()",
    "ticket_search_on_ticket_update()",
    "ticket_search_on_message_insert()",
    "ticket_search_on_message_update()",
    "ticket_search_on_message_delete()",
    "ticket_search_on_customer_update()",
    "ticket_search_on_identity_change()",
    "ticket_search_on_order_update()",
    "ticket_search_on_order_part_change()",
)

PG_TRIGGERS = (
    ("tickets", "ticket_search_ticket_insert"),
    ("tickets", "ticket_search_ticket_update"),
    ("messages", "ticket_search_message_insert"),
    ("messages", "ticket_search_message_update"),
    ("messages", "ticket_search_message_delete"),
    ("customers", "ticket_search_customer_update"),
    ("customer_identities", "ticket_search_identity_change"),
    ("orders", "ticket_search_order_update"),
    ("shipments", "ticket_search_shipment_change"),
    ("shipments", "ticket_search_shipment_update"),
    ("returns", "ticket_search_return_change"),
    ("returns", "ticket_search_return_update"),
)


def _pg_function(name: str, body: str) -> None:
    op.execute(f"""
        CREATE FUNCTION {name} RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {body}
            RETURN NULL;
        END $$
    """)


def _upgrade_postgresql():
    op.execute("""
        CREATE TABLE ticket_search (
            ticket_id integer PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
            document tsvector NOT NULL
        )
    """)
    op.execute("""
        CREATE FUNCTION ticket_search_config(language text) RETURNS regconfig
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE language WHEN 'de' THEN 'pg_catalog.german'::regconfig
                                 WHEN 'en' THEN 'pg_catalog.english'::regconfig
                                 ELSE 'pg_catalog.simple'::regconfig END
        $$
    """)
    op.execute(PG_SOURCE)
    op.execute(f"""
        CREATE FUNCTION ticket_search_refresh(ids integer[]) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            IF ids IS NULL OR cardinality(ids) = 0 THEN
                RETURN;
            END IF;
            -- Two transactions adding messages to one ticket: the second waits here for
            -- the first to commit, and its next statement (a fresh snapshot) then sees
            -- both messages; without the lock it would write back a document without
            -- the first one's words.
            PERFORM 1 FROM ticket_search WHERE ticket_id = ANY (ids)
                ORDER BY ticket_id FOR UPDATE;
            INSERT INTO ticket_search (ticket_id, document)
            SELECT ticket_id, document FROM ticket_search_source WHERE ticket_id = ANY (ids)
            ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document;
        END $$
    """)
    # Inserts are handled per statement (a bulk load refreshes each ticket once);
    # updates per row, and only when a column the document is made of changed.
    _pg_function("ticket_search_on_ticket_insert()",
                 "PERFORM ticket_search_refresh(ARRAY(SELECT id FROM new_rows));")
    _pg_function("ticket_search_on_ticket_update()",
                 "PERFORM ticket_search_refresh(ARRAY[NEW.id]);")
    _pg_function("ticket_search_on_message_insert()",
                 "PERFORM ticket_search_refresh(ARRAY(SELECT DISTINCT ticket_id FROM new_rows));")
    _pg_function("ticket_search_on_message_update()",
                 "PERFORM ticket_search_refresh(ARRAY[NEW.ticket_id, OLD.ticket_id]);")
    _pg_function("ticket_search_on_message_delete()",
                 "PERFORM ticket_search_refresh(ARRAY(SELECT DISTINCT ticket_id FROM old_rows));")
    _pg_function("ticket_search_on_customer_update()", """
            PERFORM ticket_search_refresh(
                ARRAY(SELECT id FROM tickets WHERE customer_id = NEW.id));""")
    _pg_function("ticket_search_on_identity_change()", """
            IF TG_OP <> 'DELETE' THEN
                PERFORM ticket_search_refresh(
                    ARRAY(SELECT id FROM tickets WHERE customer_id = NEW.customer_id));
            END IF;
            IF TG_OP <> 'INSERT' THEN
                PERFORM ticket_search_refresh(
                    ARRAY(SELECT id FROM tickets WHERE customer_id = OLD.customer_id));
            END IF;""")
    _pg_function("ticket_search_on_order_update()", """
            PERFORM ticket_search_refresh(ARRAY(SELECT id FROM tickets WHERE order_id = NEW.id));""")
    # Shipments and returns: the tickets about their order (and a return's own ticket).
    _pg_function("ticket_search_on_order_part_change()", """
            IF TG_OP <> 'DELETE' THEN
                PERFORM ticket_search_refresh(ARRAY(
                    SELECT id FROM tickets WHERE order_id = NEW.order_id
                    UNION SELECT (to_jsonb(NEW) ->> 'ticket_id')::integer));
            END IF;
            IF TG_OP <> 'INSERT' THEN
                PERFORM ticket_search_refresh(ARRAY(
                    SELECT id FROM tickets WHERE order_id = OLD.order_id
                    UNION SELECT (to_jsonb(OLD) ->> 'ticket_id')::integer));
            END IF;""")
    op.execute("""
        CREATE TRIGGER ticket_search_ticket_insert AFTER INSERT ON tickets
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ticket_search_on_ticket_insert()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_ticket_update AFTER UPDATE ON tickets FOR EACH ROW
        WHEN (OLD.subject IS DISTINCT FROM NEW.subject
              OR OLD.language IS DISTINCT FROM NEW.language
              OR OLD.customer_id IS DISTINCT FROM NEW.customer_id
              OR OLD.order_id IS DISTINCT FROM NEW.order_id)
        EXECUTE FUNCTION ticket_search_on_ticket_update()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_message_insert AFTER INSERT ON messages
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ticket_search_on_message_insert()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_message_update AFTER UPDATE ON messages FOR EACH ROW
        WHEN (OLD.text IS DISTINCT FROM NEW.text OR OLD.ticket_id IS DISTINCT FROM NEW.ticket_id)
        EXECUTE FUNCTION ticket_search_on_message_update()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_message_delete AFTER DELETE ON messages
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ticket_search_on_message_delete()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_customer_update AFTER UPDATE ON customers FOR EACH ROW
        WHEN (OLD.name IS DISTINCT FROM NEW.name)
        EXECUTE FUNCTION ticket_search_on_customer_update()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_identity_change
        AFTER INSERT OR UPDATE OR DELETE ON customer_identities
        FOR EACH ROW EXECUTE FUNCTION ticket_search_on_identity_change()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_order_update AFTER UPDATE ON orders FOR EACH ROW
        WHEN (OLD.number IS DISTINCT FROM NEW.number)
        EXECUTE FUNCTION ticket_search_on_order_update()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_shipment_change AFTER INSERT OR DELETE ON shipments
        FOR EACH ROW EXECUTE FUNCTION ticket_search_on_order_part_change()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_shipment_update AFTER UPDATE ON shipments FOR EACH ROW
        WHEN (OLD.tracking_number IS DISTINCT FROM NEW.tracking_number
              OR OLD.order_id IS DISTINCT FROM NEW.order_id)
        EXECUTE FUNCTION ticket_search_on_order_part_change()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_return_change AFTER INSERT OR DELETE ON returns
        FOR EACH ROW EXECUTE FUNCTION ticket_search_on_order_part_change()
    """)
    op.execute("""
        CREATE TRIGGER ticket_search_return_update AFTER UPDATE ON returns FOR EACH ROW
        WHEN (OLD.tracking_number IS DISTINCT FROM NEW.tracking_number
              OR OLD.order_id IS DISTINCT FROM NEW.order_id
              OR OLD.ticket_id IS DISTINCT FROM NEW.ticket_id)
        EXECUTE FUNCTION ticket_search_on_order_part_change()
    """)
    # Backfill before the index exists (one build instead of a million inserts into it).
    op.execute("INSERT INTO ticket_search SELECT ticket_id, document FROM ticket_search_source")
    op.execute("CREATE INDEX ix_ticket_search_document ON ticket_search USING gin (document)")
    # Rare words (an order number) must be known as rare, or the planner walks the newest
    # tickets looking for them instead of asking the index: a longer list of frequent
    # words makes every word outside it count as rare (ANALYZE takes ~5 s at 1M tickets).
    op.execute("ALTER TABLE ticket_search ALTER COLUMN document SET STATISTICS 1000")
    op.execute("ANALYZE ticket_search")


# --- SQLite --------------------------------------------------------------------------------

SQLITE_SOURCE = f"""
    CREATE VIEW ticket_search_source AS
    SELECT t.id AS ticket_id,
           t.subject AS subject,
           trim(coalesce(cu.name, '') || ' ' || coalesce((
               SELECT group_concat(coalesce(i.display_name, '') || ' ' || i.value, ' ')
               FROM customer_identities i WHERE i.customer_id = t.customer_id), '')) AS people,
           trim(coalesce((SELECT o.number FROM orders o WHERE o.id = t.order_id), '')
                || ' ' || coalesce((SELECT group_concat(s.tracking_number, ' ')
                                    FROM shipments s WHERE s.order_id = t.order_id), '')
                || ' ' || coalesce((SELECT group_concat('R-' || r.id || ' '
                                                        || coalesce(r.tracking_number, ''), ' ')
                                    FROM returns r
                                    WHERE r.order_id = t.order_id OR r.ticket_id = t.id), ''))
               AS refs,
           substr(coalesce((SELECT group_concat(m.text, char(10)) FROM messages m
                            WHERE m.ticket_id = t.id), ''), 1, {MAX_BODY}) AS body
    FROM tickets t LEFT JOIN customers cu ON cu.id = t.customer_id
"""


def sqlite_refresh(where: str) -> str:
    """Statements that rebuild the documents of the tickets `t` matching `where`."""
    return f"""
        DELETE FROM ticket_search WHERE rowid IN (SELECT t.id FROM tickets t WHERE {where});
        INSERT INTO ticket_search (rowid, subject, people, refs, body)
        SELECT ticket_id, subject, people, refs, body FROM ticket_search_source
        WHERE ticket_id IN (SELECT t.id FROM tickets t WHERE {where});"""


#: name -> (event, where the tickets to refresh are).
SQLITE_TRIGGERS = {
    "ticket_search_ticket_insert": ("AFTER INSERT ON tickets", "t.id = NEW.id"),
    "ticket_search_ticket_update": (
        "AFTER UPDATE OF subject, customer_id, order_id ON tickets"
        " WHEN OLD.subject IS NOT NEW.subject OR OLD.customer_id IS NOT NEW.customer_id"
        " OR OLD.order_id IS NOT NEW.order_id",
        "t.id = NEW.id",
    ),
    "ticket_search_message_insert": ("AFTER INSERT ON messages", "t.id = NEW.ticket_id"),
    "ticket_search_message_update": (
        "AFTER UPDATE OF text, ticket_id ON messages"
        " WHEN OLD.text IS NOT NEW.text OR OLD.ticket_id IS NOT NEW.ticket_id",
        "t.id IN (NEW.ticket_id, OLD.ticket_id)",
    ),
    "ticket_search_message_delete": ("AFTER DELETE ON messages", "t.id = OLD.ticket_id"),
    "ticket_search_customer_update": (
        "AFTER UPDATE OF name ON customers WHEN OLD.name IS NOT NEW.name",
        "t.customer_id = NEW.id",
    ),
    "ticket_search_identity_insert": (
        "AFTER INSERT ON customer_identities", "t.customer_id = NEW.customer_id"
    ),
    "ticket_search_identity_update": (
        "AFTER UPDATE ON customer_identities",
        "t.customer_id IN (NEW.customer_id, OLD.customer_id)",
    ),
    "ticket_search_identity_delete": (
        "AFTER DELETE ON customer_identities", "t.customer_id = OLD.customer_id"
    ),
    "ticket_search_order_update": (
        "AFTER UPDATE OF number ON orders WHEN OLD.number IS NOT NEW.number",
        "t.order_id = NEW.id",
    ),
    "ticket_search_shipment_insert": ("AFTER INSERT ON shipments", "t.order_id = NEW.order_id"),
    "ticket_search_shipment_update": (
        "AFTER UPDATE OF tracking_number, order_id ON shipments",
        "t.order_id IN (NEW.order_id, OLD.order_id)",
    ),
    "ticket_search_shipment_delete": ("AFTER DELETE ON shipments", "t.order_id = OLD.order_id"),
    "ticket_search_return_insert": (
        "AFTER INSERT ON returns", "t.order_id = NEW.order_id OR t.id = NEW.ticket_id"
    ),
    "ticket_search_return_update": (
        "AFTER UPDATE OF tracking_number, order_id, ticket_id ON returns",
        "t.order_id IN (NEW.order_id, OLD.order_id) OR t.id IN (NEW.ticket_id, OLD.ticket_id)",
    ),
    "ticket_search_return_delete": (
        "AFTER DELETE ON returns", "t.order_id = OLD.order_id OR t.id = OLD.ticket_id"
    ),
}


def create_triggers():
    for name, (event, where) in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {event} BEGIN {sqlite_refresh(where)} END")
    op.execute("""
        CREATE TRIGGER ticket_search_ticket_delete AFTER DELETE ON tickets
        BEGIN DELETE FROM ticket_search WHERE rowid = OLD.id; END
    """)


def drop_triggers():
    for name in [*SQLITE_TRIGGERS, "ticket_search_ticket_delete"]:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _upgrade_sqlite():
    op.execute("""
        CREATE VIRTUAL TABLE ticket_search USING fts5(
            subject, people, refs, body,
            tokenize = 'porter unicode61 remove_diacritics 2'
        )
    """)
    op.execute(SQLITE_SOURCE)
    create_triggers()
    op.execute("""
        INSERT INTO ticket_search (rowid, subject, people, refs, body)
        SELECT ticket_id, subject, people, refs, body FROM ticket_search_source
    """)
