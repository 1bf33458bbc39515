"""Full-text search over tickets: subjects, messages, customers, order and tracking numbers.

The index is one document per ticket in `ticket_search`, kept current by database
triggers (see migration b7a1c0de0004): PostgreSQL holds a tsvector built with the
ticket's language and a GIN index; SQLite an FTS5 table (porter + unicode61).

A query is split into words; a ticket matches when every word is found in one of
its forms: stemmed as German, stemmed as English, as written, or as one exact token
(so "4711-2033", a tracking number or an e-mail address is found whole). FTS5's
porter stemmer knows English only; German words are folded here by stripping the
common suffixes and matching the rest as a prefix ("Rücksendungen" -> "rucksend*").
Results are ranked by relevance, then by recent activity, and paged.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    Table,
    any_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR
from sqlalchemy.orm import selectinload

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.models import TICKET_STATUSES, UNSOLVED_STATUSES, IntentTag, Ticket, User
from helpdesk.services.inbox import visible_tickets

#: The index is derived data kept by triggers, not a model: its own metadata, so model
#: comparison and `db.create_all()` leave it to the migration.
_index_metadata = MetaData()
pg_index = Table(
    "ticket_search",
    _index_metadata,
    Column("ticket_id", Integer, primary_key=True),
    Column("document", TSVECTOR),
)
fts_index = table("ticket_search", column("rowid", Integer))
#: Tables of the search index, on either database (FTS5 adds `ticket_search_*` shadows).
INDEX_TABLE = "ticket_search"

MAX_TERMS = 12
MAX_QUERY_LENGTH = 500
#: The deepest page offered: nobody reads past it, and it bounds the work per search.
MAX_PAGES = 40
#: Relevance is ranked among the newest this many matches (after the filters): ranking
#: every ticket that says "Rücksendung" in a million would cost seconds, and the newest
#: few thousand are the ones agents look for. More words or a filter narrow it down.
WINDOW = 2_000
#: How many of the newest tickets are read before the index is asked (see _newest_matches).
RECENT_SCAN = 50_000
#: "unsolved" stands for every status in which the customer still waits.
STATUS_FILTERS: tuple[str, ...] = ("unsolved", *TICKET_STATUSES)
#: FTS5 bm25 weights per column: subject, people, refs (order/tracking numbers), body.
SQLITE_WEIGHTS = (10.0, 5.0, 10.0, 1.0)

_GERMAN_SUFFIXES = ("ungen", "heiten", "keiten", "ung", "heit", "keit",
                    "ern", "en", "er", "es", "em", "e", "n", "s")  # fmt: skip
_MIN_STEM = 4
_EDGE_PUNCTUATION = "\"'.,;:!?()[]{}<>«»„“”‚‘’"


@dataclass(frozen=True, slots=True)
class Filters:
    """Narrow a search like the inbox does. `assignee`: a user id, or "none"."""

    status: str | None = None
    channel: str | None = None
    assignee: int | str | None = None
    intent: str | None = None


@dataclass(frozen=True, slots=True)
class Results:
    tickets: list[Ticket]
    page: int
    has_next: bool


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name` hook for comparing models with the database: the search
    index is no model, and on SQLite FTS5 keeps shadow tables named after it."""
    if type_ == "table" and name is not None:
        return not (name == INDEX_TABLE or name.startswith(INDEX_TABLE + "_"))
    return True


def terms(query: str) -> list[str]:
    """The words of a query, stripped of surrounding punctuation; `*` at the end of a
    word asks for a prefix. Raises InvalidInput for a query that is far too long."""
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidInput(
            _("A search may be at most %(max)s characters long.", max=MAX_QUERY_LENGTH)
        )
    words = []
    for raw in query.split():
        prefix = raw.endswith("*")
        word = raw.rstrip("*").strip(_EDGE_PUNCTUATION)
        if any(ch.isalnum() for ch in word):
            words.append(word + ("*" if prefix else ""))
    return words[:MAX_TERMS]


def search(
    user: User,
    query: str,
    *,
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Results:
    """Tickets `user` may see that match every word of `query` and the filters,
    best match first, then most recent activity; page `page` (from 1)."""
    words = terms(query)
    page = min(max(page, 1), MAX_PAGES)
    if not words:
        return Results([], page, False)
    base = _filtered(visible_tickets(user), filters or Filters())
    if db.engine.dialect.name == "postgresql":
        ranked = _postgres_query(base, words)
    else:
        ranked = _sqlite_query(base, words)
    if ranked is None:  # nothing but stop words
        return Results([], page, False)
    rows = db.session.scalars(
        ranked.options(
            selectinload(Ticket.customer),
            selectinload(Ticket.intent_tags),
            selectinload(Ticket.assignee),
        )
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    ).all()
    return Results(list(rows[:per_page]), page, len(rows) > per_page and page < MAX_PAGES)


def _filtered(query: Select, filters: Filters) -> Select:
    if filters.status == "unsolved":
        query = query.where(Ticket.status.in_(UNSOLVED_STATUSES))
    elif filters.status:
        if filters.status not in TICKET_STATUSES:
            raise InvalidInput(f"unknown status {filters.status!r}")
        query = query.where(Ticket.status == filters.status)
    if filters.channel:
        query = query.where(Ticket.channel == filters.channel)
    if filters.assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee is not None:
        query = query.where(Ticket.assignee_id == int(filters.assignee))
    if filters.intent:
        query = query.where(Ticket.id.in_(_carrying(filters.intent)))
    return query


def _carrying(intent: str) -> Select:
    """Tickets whose latest tag for `intent` is not a rejection (an agent may remove one)."""
    latest = (
        select(IntentTag.ticket_id, func.max(IntentTag.id).label("id"))
        .where(IntentTag.intent == intent)
        .group_by(IntentTag.ticket_id)
        .subquery()
    )
    return (
        select(IntentTag.ticket_id)
        .join(latest, latest.c.id == IntentTag.id)
        .where(IntentTag.rejected.is_(False))
    )


# --- PostgreSQL ----------------------------------------------------------------------------


def _postgres_query(base: Select, words: list[str]) -> Select | None:
    tsquery = postgres_tsquery(words)
    if tsquery is None:
        return None
    query = bindparam("tsquery", tsquery).cast(TSQUERY)
    ids = _newest_matches(base, query)
    rank = func.ts_rank(pg_index.c.document, query)
    return (
        select(Ticket)
        .join(pg_index, pg_index.c.ticket_id == Ticket.id)
        .where(pg_index.c.ticket_id == any_(bindparam("ids", ids, type_=ARRAY(Integer))))
        .order_by(rank.desc(), Ticket.last_activity_at.desc(), Ticket.id.desc())
    )


def _newest_matches(base: Select, query: ColumnElement) -> list[int]:
    """The ids of the newest WINDOW tickets that match `query` and the conditions of `base`.

    Two plans, because neither is fast for every word. A frequent word ("Rücksendung"
    in a third of all tickets) is found fastest by reading the newest tickets until
    enough match: the index would hand over hundreds of thousands of rows. A rare one
    (an order number) must come from the GIN index: reading tickets until one matches
    could mean reading them all. So: read the newest RECENT_SCAN tickets first, and
    only if they hold fewer than WINDOW matches ask the index (the `+ 0` keeps the
    planner from walking the table in id order instead).
    """
    recent = (
        select(pg_index.c.ticket_id, pg_index.c.document)
        .order_by(pg_index.c.ticket_id.desc())
        .limit(RECENT_SCAN)
        .subquery("recent")
    )
    conditions = base.whereclause
    scan = select(recent.c.ticket_id).where(recent.c.document.op("@@")(query))
    if conditions is not None:
        scan = scan.join(Ticket, Ticket.id == recent.c.ticket_id).where(conditions)
    ids = db.session.scalars(scan.order_by(recent.c.ticket_id.desc()).limit(WINDOW)).all()
    if len(ids) == WINDOW:
        return list(ids)
    indexed = select(pg_index.c.ticket_id).where(pg_index.c.document.op("@@")(query))
    if conditions is not None:
        indexed = indexed.join(Ticket, Ticket.id == pg_index.c.ticket_id).where(conditions)
    return list(
        db.session.scalars(indexed.order_by((pg_index.c.ticket_id + 0).desc()).limit(WINDOW))
    )


def postgres_tsquery(words: list[str]) -> str | None:
    """The tsquery for `words`: each word as German stem | English stem | as written |
    one exact token, all words required. Stop words (in either language) are dropped."""
    forms = _postgres_forms(words)
    parts = []
    for word, (german, english, simple) in zip(words, forms, strict=True):
        if not german or not english:
            continue  # "die", "the": a stop word in one language is noise in both
        exact = _lexeme(word.rstrip("*").lower())
        variants = dict.fromkeys((german, english, simple))
        if word.endswith("*"):
            alternatives = [f"( {_as_prefix(form)} )" for form in variants] + [f"{exact}:*"]
        else:
            alternatives = [f"( {form} )" for form in variants]
            if exact not in variants:
                alternatives.append(exact)
        parts.append("( " + " | ".join(alternatives) + " )")
    return " & ".join(parts) if parts else None


def _postgres_forms(words: list[str]) -> list[tuple[str, str, str]]:
    """Each word as PostgreSQL parses and stems it, as tsquery text, e.g. 'rucksend'."""
    selects = ", ".join(
        f"plainto_tsquery('pg_catalog.german', :w{i})::text, "
        f"plainto_tsquery('pg_catalog.english', :w{i})::text, "
        f"plainto_tsquery('pg_catalog.simple', :w{i})::text"
        for i in range(len(words))
    )
    row = db.session.execute(
        text(f"SELECT {selects}"), {f"w{i}": w.rstrip("*") for i, w in enumerate(words)}
    ).one()
    return [tuple(row[i * 3 : i * 3 + 3]) for i in range(len(words))]  # type: ignore[misc]


def _lexeme(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _as_prefix(form: str) -> str:
    """'a' & 'b' -> 'a' & 'b':* (only the last lexeme is incomplete while typing)."""
    return form + ":*" if form.endswith("'") else form


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_query(base: Select, words: list[str]) -> Select:
    weights = ", ".join(str(w) for w in SQLITE_WEIGHTS)
    candidates = (
        base.with_only_columns(
            fts_index.c.rowid.label("ticket_id"),
            literal_column(f"bm25(ticket_search, {weights})").label("rank"),
        )
        .select_from(Ticket)
        .join(fts_index, fts_index.c.rowid == Ticket.id)
        .where(literal_column("ticket_search").op("MATCH")(bindparam("match", sqlite_match(words))))
        .order_by(fts_index.c.rowid.desc())
        .limit(WINDOW)
        .subquery("candidates")
    )
    return (
        select(Ticket)
        .join(candidates, candidates.c.ticket_id == Ticket.id)
        .order_by(candidates.c.rank, Ticket.last_activity_at.desc(), Ticket.id.desc())
    )


def sqlite_match(words: list[str]) -> str:
    """The FTS5 query for `words`: each word as a phrase (the tokenizer splits
    "4711-2033" or an address into adjacent tokens), or its German stem as a prefix."""
    parts = []
    for word in words:
        prefix = word.endswith("*")
        word = word.rstrip("*")
        alternatives = [_phrase(word) + ("*" if prefix else "")]
        stem = german_stem(word)
        if stem:  # any German form: "rücksend*" finds Rücksendung and Rücksendungen
            alternatives.append(_phrase(stem) + "*")
        parts.append("(" + " OR ".join(dict.fromkeys(alternatives)) + ")")
    return " AND ".join(parts)


def german_stem(word: str) -> str | None:
    """A German word without its usual inflection or derivation suffix, if at least four
    letters remain: "Rücksendungen" -> "rücksend", "Schuhe" -> "schuh"."""
    if not _is_word(word):
        return None
    word = word.lower()
    for suffix in _GERMAN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word if len(word) >= _MIN_STEM else None


def _is_word(word: str) -> bool:
    return word.isalpha()


def _phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


# --- maintenance ---------------------------------------------------------------------------


def rebuild_index(batch: int = 10_000) -> int:
    """Build every ticket's document again from `ticket_search_source`, the view the
    migration defines (after a bulk load with the triggers off, or to be sure); in
    batches, each committed. Returns how many tickets were indexed."""
    postgres = db.engine.dialect.name == "postgresql"
    done = last_id = 0
    while True:
        ids = db.session.scalars(
            select(Ticket.id).where(Ticket.id > last_id).order_by(Ticket.id).limit(batch)
        ).all()
        if not ids:
            return done
        bounds = {"first": ids[0], "last": ids[-1]}
        if postgres:
            db.session.execute(
                text("SELECT ticket_search_refresh(ARRAY(SELECT id FROM tickets"
                     " WHERE id BETWEEN :first AND :last))"),
                bounds,
            )  # fmt: skip
        else:
            db.session.execute(
                text("DELETE FROM ticket_search WHERE rowid BETWEEN :first AND :last"), bounds
            )
            db.session.execute(
                text("INSERT INTO ticket_search (rowid, subject, people, refs, body)"
                     " SELECT ticket_id, subject, people, refs, body FROM ticket_search_source"
                     " WHERE ticket_id BETWEEN :first AND :last"),
                bounds,
            )  # fmt: skip
        db.session.commit()
        done += len(ids)
        last_id = ids[-1]
