"""Full-text search: German and English word forms, exact tokens, filters, roles, and an
index that follows every change (database triggers), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Customer, IntentTag, Message, Return, Shipment, Ticket, User
from helpdesk.models.types import utcnow
from helpdesk.services.search import Filters, german_stem, search, sqlite_match, terms
from tests.conftest import make_user, signed_in_client
from tests.factories import Classified, inbound, order
from tests.integration.test_ingest_race import _wait_until_blocked_on_a_lock


def _ticket(classifier=None, **fields) -> Ticket:
    result = ingest(inbound(**fields), classifier=classifier)
    db.session.commit()
    return db.session.get(Ticket, result.ticket_id)


def _found(client, query: str, **filters) -> list[int]:
    """Ticket numbers on the result page, in their order."""
    response = client.get("/search", query_string={"q": query, **filters})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [int(n) for n in re.findall(r'href="/tickets/(\d+)"', response.get_data(as_text=True))]


def test_german_word_forms(agent_client):
    german = _ticket(sender="a@example.com", subject="Frage", language="de",
                     text="Meine Rücksendung ist noch nicht angekommen.")  # fmt: skip
    _ticket(sender="b@example.com", subject="Andere Frage", language="de",
            text="Wo ist mein Paket?")  # fmt: skip
    assert _found(agent_client, "Rücksendungen") == [german.id]
    assert _found(agent_client, "rücksendung") == [german.id]
    assert _found(agent_client, "Rucksendung") == [german.id]  # typed without umlaut
    assert _found(agent_client, "Rücks*") == [german.id]  # the start of a word
    assert _found(agent_client, "Pakete") != [german.id]


def test_english_word_forms(agent_client):
    english = _ticket(sender="a@example.com", subject="Question", language="en",
                      text="How do I return these shoes?")  # fmt: skip
    _ticket(sender="b@example.com", subject="Other", language="en", text="Where is my parcel?")
    assert _found(agent_client, "returned") == [english.id]
    assert _found(agent_client, "returning shoe") == [english.id]
    assert _found(agent_client, "returned parcel") == []  # every word must be found


def test_stop_words_do_not_hide_results(agent_client):
    german = _ticket(subject="Umtausch", language="de", text="Die Jacke ist zu klein.")
    english = _ticket(sender="b@example.com", subject="Exchange", language="en",
                      text="The jacket is too small.")  # fmt: skip
    assert _found(agent_client, "die Jacke") == [german.id]
    assert _found(agent_client, "the jacket") == [english.id]


def test_order_numbers_tracking_numbers_and_addresses_are_found_whole(app, agent_client):
    named = _ticket(sender="heike@example.com", display_name="Heike Sommer",
                    text="Meine Bestellung 4711-2033 ist nicht da.")  # fmt: skip
    near = _ticket(sender="heike@example.org", text="Meine Bestellung 4711-2034 ist nicht da.")
    assert _found(agent_client, "4711-2033") == [named.id]
    assert _found(agent_client, "heike@example.com") == [named.id]
    assert _found(agent_client, "heike@example.org") == [near.id]
    assert named.id in _found(agent_client, "Heike")  # by her name
    assert _found(agent_client, "Sommer") == [named.id]

    # The linked order's number and its parcel's tracking number, never written in a message.
    linked = order(number="100457", email="helga.brandt@example.de")
    ticket = _ticket(sender="helga.brandt@example.de", text="Wo bleibt das?",
                     classifier=Classified("order_status", order_numbers=["100457"]))  # fmt: skip
    assert ticket.order_id == linked.id
    assert _found(agent_client, "100457") == [ticket.id]
    db.session.add(Shipment(order_id=linked.id, carrier="DHL", tracking_number="JJD0003900071"))
    db.session.commit()
    assert _found(agent_client, "JJD0003900071") == [ticket.id]
    assert _found(agent_client, "jjd0003900071") == [ticket.id]
    parcel_back = Return(order_id=linked.id, tracking_number="RT-7788-99")
    db.session.add(parcel_back)
    db.session.commit()
    assert _found(agent_client, "RT-7788-99") == [ticket.id]
    assert _found(agent_client, parcel_back.number) == [ticket.id]  # "R-<id>"


def test_index_follows_new_messages_and_changes(app, agent_client):
    ticket = _ticket(sender="a@example.com", subject="Lieferung", language="de",
                     text="Wann kommt die Lieferung?")  # fmt: skip
    assert _found(agent_client, "Gutschein") == []
    ingest(inbound(sender="a@example.com", subject="Re: Lieferung", language="de",
                   text="Und gilt mein Gutschein noch?",
                   references=(ticket.messages[0].external_id,)))  # fmt: skip
    db.session.commit()
    assert _found(agent_client, "Gutschein") == [ticket.id]

    ticket = db.session.get(Ticket, ticket.id)
    ticket.subject = "Reklamation Winterjacke"
    customer = db.session.get(Customer, ticket.customer_id)
    customer.name = "Erika Mustermann"
    db.session.commit()
    assert _found(agent_client, "Winterjacke") == [ticket.id]
    assert _found(agent_client, "Mustermann") == [ticket.id]
    assert _found(agent_client, "Lieferung Mustermann") == [ticket.id]

    # A message moved away (split) takes its words along; a deleted ticket is gone.
    message = db.session.scalar(db.select(Message).where(Message.text.contains("Gutschein")))
    other = _ticket(sender="b@example.com", subject="Neu", text="Nichts weiter.")
    message.ticket_id = other.id
    db.session.commit()
    assert _found(agent_client, "Gutschein") == [other.id]
    db.session.delete(db.session.get(Ticket, other.id))
    db.session.commit()
    assert _found(agent_client, "Gutschein") == []


def test_filters_combine_with_the_words(app, agent_client):
    email = _ticket(sender="a@example.com", subject="Rechnung", text="Rechnung doppelt",
                    classifier=Classified("payment_reminder"))  # fmt: skip
    chat = _ticket(channel="chat", sender="visitor-1", thread_key="chat-1", subject="",
                   text="Rechnung fehlt")  # fmt: skip
    solved = _ticket(sender="c@example.com", subject="Rechnung alt", text="Rechnung")
    solved.status = "solved"
    email.assignee_id = db.session.scalar(
        db.select(User.id).where(User.email == "agent@shop.example")
    )
    db.session.commit()

    assert sorted(_found(agent_client, "Rechnung")) == sorted([email.id, chat.id, solved.id])
    assert _found(agent_client, "Rechnung", channel="chat") == [chat.id]
    assert sorted(_found(agent_client, "Rechnung", status="unsolved")) == sorted(
        [email.id, chat.id]
    )
    assert _found(agent_client, "Rechnung", status="solved") == [solved.id]
    assert _found(agent_client, "Rechnung", assignee="me") == [email.id]
    assert sorted(_found(agent_client, "Rechnung", assignee="none")) == sorted([chat.id, solved.id])
    assert _found(agent_client, "Rechnung", intent="payment_reminder") == [email.id]
    db.session.add(IntentTag(ticket_id=email.id, intent="payment_reminder", source="agent",
                             rejected=True))  # fmt: skip
    db.session.commit()
    assert _found(agent_client, "Rechnung", intent="payment_reminder") == []
    assert agent_client.get("/search?q=x&status=lost").status_code == 422
    assert agent_client.get("/search?q=x&channel=fax").status_code == 422


def test_social_managers_find_social_tickets_only(app):
    _ticket(sender="a@example.com", subject="Gutschein", text="Gutschein per Mail")
    social = _ticket(channel="whatsapp", sender="+491701234567", thread_key="wa-1",
                     text="Gutschein per WhatsApp")  # fmt: skip
    client = signed_in_client(app, "social")
    assert _found(client, "Gutschein") == [social.id]
    assert len(_found(signed_in_client(app, "lead"), "Gutschein")) == 2


def test_anonymous_users_are_sent_to_the_login(client):
    response = client.get("/search?q=Rechnung")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_relevance_first_then_recency_and_pages(app, agent_client):
    in_subject = _ticket(sender="a@example.com", subject="Stornierung", language="de",
                         text="Bitte alles zurücknehmen.")  # fmt: skip
    older = _ticket(sender="b@example.com", subject="Frage", language="de",
                    text="Ist eine Stornierung möglich?")  # fmt: skip
    newer = _ticket(sender="c@example.com", subject="Frage", language="de",
                    text="Ist eine Stornierung möglich?")  # fmt: skip
    assert _found(agent_client, "Stornierung") == [in_subject.id, newer.id, older.id]

    app.config["INBOX_PAGE_SIZE"] = 2
    try:
        page = agent_client.get("/search?q=Stornierung").get_data(as_text=True)
        assert 'rel="next"' in page
        second = _found(agent_client, "Stornierung", page=2)
        assert second == [older.id]
    finally:
        app.config["INBOX_PAGE_SIZE"] = 50


def test_markup_in_results_is_escaped(agent_client):
    _ticket(subject="<script>alert(1)</script> Bestellung", text="Bestellung",
            display_name="<img src=x onerror=alert(2)>")  # fmt: skip
    page = agent_client.get("/search?q=Bestellung").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_odd_queries_are_answered(agent_client):
    _ticket(text="Hallo")
    for query in ('"', "*", "AND OR NOT", "'; DROP TABLE tickets; --", "a" * 400, "(", "NEAR("):
        assert agent_client.get("/search", query_string={"q": query}).status_code == 200
    assert agent_client.get("/search", query_string={"q": "a" * 600}).status_code == 422
    assert agent_client.get("/search?q=Hallo&page=abc").status_code == 200


def test_the_migration_fills_the_index_for_existing_tickets(app, agent_client):
    # Stored today, then the schema goes back to before the index (dropping it) and up
    # again: the migration indexes what is there. (Today's code cannot write to the old
    # schema, so the ticket is made first.)
    ticket_id = _ticket(subject="Vor der Suche", language="de", text="Geschenkgutschein").id
    db.session.remove()  # SQLite: an open transaction would hold the write lock
    downgrade(revision="b7a1c0de0003")
    try:
        assert "ticket_search" not in inspect(db.engine).get_table_names()
    finally:
        upgrade()
    assert _found(agent_client, "Geschenkgutscheine") == [ticket_id]


def test_query_building():
    assert terms('  "Rücksendung", 4711-2033  heike@example.com  * ') == [
        "Rücksendung",
        "4711-2033",
        "heike@example.com",
    ]
    assert german_stem("Rücksendungen") == "rücksend"
    assert german_stem("Schuhe") == "schuh"
    assert german_stem("4711") is None
    assert sqlite_match(["4711-2033"]) == '("4711-2033")'
    assert sqlite_match(['a"b']) == '("a""b")'


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_service_pages_results(app, role):
    user = make_user(role)
    for n in range(5):
        _ticket(sender=f"k{n}@example.com", subject=f"Paket {n}", text="Paket")
    first = search(user, "Paket", page=1, per_page=2)
    second = search(user, "Paket", page=2, per_page=2)
    last = search(user, "Paket", page=3, per_page=2)
    assert first.has_next and second.has_next and not last.has_next
    seen = [t.id for t in first.tickets + second.tickets + last.tickets]
    assert len(set(seen)) == 5
    assert search(user, "Paket", filters=Filters(status="closed")).tickets == []


def test_reindex_command_rebuilds_a_lost_index(app, agent_client):
    ticket = _ticket(subject="Umtausch", language="de", text="Die Größe passt nicht")
    db.session.execute(db.text("DELETE FROM ticket_search"))
    db.session.commit()
    assert _found(agent_client, "Umtausch") == []
    result = app.test_cli_runner().invoke(args=["search", "reindex", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "indexed 1 tickets" in result.output
    assert _found(agent_client, "Umtausch") == [ticket.id]


def test_two_messages_at_once_on_one_ticket_both_count(app, agent_client, backend):
    """Two workers add a message to one ticket at the same moment: the index must hold
    both messages' words, not only those of whoever wrote the document last."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers, so two transactions cannot race")
    ticket = _ticket(sender="a@example.com", subject="Lieferung", language="de", text="Hallo")
    first_written = threading.Event()
    first_may_commit = threading.Event()
    errors: list[BaseException] = []

    def worker(word: str, first: bool) -> None:
        with app.app_context():
            try:
                if not first:
                    first_written.wait()
                note = Message(ticket_id=ticket.id, channel="email", direction="note",
                               author_kind="agent", text=word, sent_at=utcnow())  # fmt: skip
                db.session.add(note)
                db.session.flush()  # the trigger runs now and locks the ticket's document
                if first:
                    first_written.set()
                    first_may_commit.wait()
                db.session.commit()
            except BaseException as error:  # report it to the test thread
                errors.append(error)
                first_written.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=("Kassenbon", True)),
               threading.Thread(target=worker, args=("Paketschein", False))]  # fmt: skip
    for thread in threads:
        thread.start()
    first_written.wait()
    _wait_until_blocked_on_a_lock(app)
    first_may_commit.set()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert _found(agent_client, "Kassenbon") == [ticket.id]
    assert _found(agent_client, "Paketschein") == [ticket.id]


def test_a_document_grown_message_by_message_holds_the_words_of_one_built_whole(
    app, agent_client, backend
):
    """PostgreSQL appends a new message's words to the ticket's document (b7a1c0de0013)
    instead of building it again: the words must be the same, and past the indexed
    length the document is built whole again (and cut off there)."""
    if backend != "postgresql":
        pytest.skip("SQLite's FTS5 index is written per message anyway")
    ticket = _ticket(sender="a@example.com", subject="Retoure", language="de",
                     text="Ich habe die Stiefel zurückgeschickt.")  # fmt: skip
    for text in ("Trotzdem kam eine Mahnung über 89,90 €.", "Sendungsnummer 00340434161234567890"):
        ingest(inbound(sender="a@example.com", subject="Re: Retoure", language="de", text=text,
                       references=(ticket.messages[0].external_id,)))  # fmt: skip
        db.session.commit()

    def words(source: str) -> list[str]:
        return db.session.scalar(db.text(
            f"SELECT tsvector_to_array(document) FROM {source} WHERE ticket_id = :id"
        ), {"id": ticket.id})  # fmt: skip

    assert words("ticket_search") == words("ticket_search_source")
    assert "mahnung" in words("ticket_search")
    assert _found(agent_client, "Mahnung Stiefel") == [ticket.id]

    long_text = "Paketband " * 25_000  # 250,000 characters: past the indexed length
    db.session.add(Message(ticket_id=ticket.id, channel="email", direction="note",
                           author_kind="agent", text=long_text, sent_at=utcnow()))  # fmt: skip
    db.session.commit()
    assert words("ticket_search") == words("ticket_search_source")  # built whole, cut off
