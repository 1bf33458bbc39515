"""One customer across channels: automatic links on strong evidence, an agent's merge
from the customer page with unmerge, and suggestions of likely duplicates."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from channel_adapters.base import Identity
from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Customer, CustomerIdentity, CustomerMerge, Event, Ticket
from tests.conftest import log_in, make_user
from tests.factories import inbound


def signed_in(app, role: str):
    client = app.test_client()
    user = make_user(role)
    assert log_in(client, user.email).status_code == 302
    return client, user


def post(client, page: str, path: str, data: dict):
    shown = client.get(page).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', shown).group(1)
    return client.post(path, data={**data, "csrf_token": token})


def text_of(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(page)).replace("\u00a0", " ")


def identities_of(customer_id: int) -> set[str]:
    rows = db.session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id)
    )
    return {f"{i.kind}:{i.value}" for i in rows}


def tickets_of(customer_id: int) -> set[int]:
    return set(db.session.scalars(select(Ticket.id).where(Ticket.customer_id == customer_id)))


def test_a_chat_visitor_who_gives_a_known_email_is_that_customer(app):
    mail = ingest(inbound("email", "ole.hansen@example.dk", "Where is my parcel?"))
    chat = ingest(inbound("chat", "visitor-7f3a", "Hi, I wrote an email yesterday",
                          also_known_as=(Identity("email", "Ole.Hansen@example.dk"),)))  # fmt: skip
    db.session.commit()
    assert chat.ticket.customer_id == mail.ticket.customer_id
    assert identities_of(mail.ticket.customer_id) == {
        "email:ole.hansen@example.dk", "chat_visitor:visitor-7f3a"}  # fmt: skip


def test_evidence_joining_two_known_customers_is_recorded_and_can_be_undone(app):
    mail = ingest(inbound("email", "ole.hansen@example.dk", "Where is my parcel?"))
    chat = ingest(inbound("chat", "visitor-7f3a", "Hello?"))
    db.session.commit()
    keep, gone = mail.ticket.customer_id, chat.ticket.customer_id
    assert keep != gone
    ingest(inbound("chat", "visitor-7f3a", "my email is ole.hansen@example.dk",
                   also_known_as=(Identity("email", "ole.hansen@example.dk"),)))  # fmt: skip
    db.session.commit()
    record = db.session.scalar(select(CustomerMerge))
    assert (record.kept_id, record.merged_id) == (keep, gone)
    assert record.actor == "ingest" and record.ticket_ids == [chat.ticket_id]

    client, _agent = signed_in(app, "agent")
    page = f"/customers/{record.kept_id}"
    assert post(client, page, f"/customers/merges/{record.id}/undo", {}).status_code == 302
    db.session.expire_all()
    assert tickets_of(record.merged_id) == {chat.ticket_id}
    assert db.session.get(Customer, record.merged_id).merged_into_id is None


def test_merge_and_unmerge_from_the_customer_page_round_trip(app):
    client, agent = signed_in(app, "agent")
    mail = ingest(inbound("email", "anna.schmidt@example.de", "Rücksendung", display_name="Anna"))
    dm = ingest(inbound("instagram", "17841400000000001", "Hallo! Meine Retoure?",
                        display_name="anna_s"))  # fmt: skip
    call = ingest(inbound("phone", "+4930111222", "Anruf", external_id="call-1"))
    db.session.commit()
    keep, gone = mail.ticket.customer_id, dm.ticket.customer_id
    db.session.execute(
        Customer.__table__.update().where(Customer.id == keep).values(name=None)
    )  # the kept customer has no name yet: it takes the other's, and gives it back
    db.session.commit()
    before_keep, before_gone = identities_of(keep), identities_of(gone)

    page = f"/customers/{keep}"
    answer = post(client, page, f"{page}/merge", {"other": f"#{gone}"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert identities_of(keep) == before_keep | before_gone and not identities_of(gone)
    assert tickets_of(keep) == {mail.ticket_id, dm.ticket_id}
    assert db.session.get(Customer, gone).merged_into_id == keep
    assert db.session.get(Customer, keep).name == "anna_s"
    merged_page = text_of(client.get(page))
    assert "Hallo! Meine Retoure?" in merged_page and "Rücksendung" in merged_page
    # The merged customer's page leads to the one kept.
    assert client.get(f"/customers/{gone}").location.endswith(f"/customers/{keep}")

    # Something new reaches the kept customer after the merge: it stays there.
    later = ingest(inbound("instagram", "17841400000000001", "Noch da?", thread_key="other"))
    db.session.commit()
    record = db.session.scalar(select(CustomerMerge).where(CustomerMerge.merged_id == gone))
    assert post(client, page, f"/customers/merges/{record.id}/undo", {}).status_code == 302
    db.session.expire_all()
    assert identities_of(keep) == before_keep and identities_of(gone) == before_gone
    assert tickets_of(gone) == {dm.ticket_id}
    assert later.ticket_id in tickets_of(keep) and mail.ticket_id in tickets_of(keep)
    assert db.session.get(Customer, gone).merged_into_id is None
    assert db.session.get(Customer, keep).name is None
    assert db.session.get(CustomerMerge, record.id).undone_by_id == agent.id
    kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.id))]
    assert "customer.merged" in kinds and kinds.count("customer.unmerged") == 2
    # Undoing twice is refused and changes nothing.
    again = post(client, page, f"/customers/merges/{record.id}/undo", {})
    assert "undone already" in text_of(client.get(again.location))
    assert call.ticket.customer_id not in (keep, gone)


def test_merging_a_customer_into_itself_is_refused(app):
    client, _agent = signed_in(app, "agent")
    mail = ingest(inbound("email", "anna.schmidt@example.de", "Hallo"))
    db.session.commit()
    page = f"/customers/{mail.ticket.customer_id}"
    answer = post(client, page, f"{page}/merge", {"other": str(mail.ticket.customer_id)})
    assert "same customer already" in text_of(client.get(answer.location))
    assert db.session.scalar(select(CustomerMerge)) is None


def test_likely_duplicates_are_suggested_for_the_agent_to_confirm(app):
    client, _agent = signed_in(app, "agent")
    one = ingest(inbound("email", "anna.schmidt@example.de", "a", display_name="Anna Schmidt"))
    two = ingest(inbound("email", "anna.schmidt@gmail.example", "b", display_name="Anna Schmidt"))
    typo = ingest(inbound("email", "ana.schmitt@example.de", "c", display_name="anna schmidt"))
    other = ingest(inbound("email", "a.meyer@example.de", "d", display_name="Anna Schmidt"))
    namesake = ingest(inbound("email", "anna.schmidt@example.com", "e", display_name="Anna Meyer"))
    db.session.commit()
    page = text_of(client.get(f"/customers/{one.ticket.customer_id}"))
    assert "Possibly the same person" in page
    assert f"#{two.ticket.customer_id} " in page and f"#{typo.ticket.customer_id} " in page
    assert f"#{other.ticket.customer_id} " not in page
    assert f"#{namesake.ticket.customer_id} " not in page
    # Nothing is merged until the agent confirms.
    assert db.session.scalar(select(CustomerMerge)) is None
    keep, gone = one.ticket.customer_id, two.ticket.customer_id
    page = f"/customers/{keep}"
    post(client, page, f"{page}/merge", {"other": gone})
    db.session.expire_all()
    assert db.session.get(Customer, gone).merged_into_id == keep


def test_social_sees_the_customer_but_not_care_content_and_cannot_merge(app):
    client, _social = signed_in(app, "social")
    mail = ingest(inbound("email", "anna.schmidt@example.de", "Geheimer Inhalt der Mail",
                          subject="Erstattung fehlt"))  # fmt: skip
    dm = ingest(inbound("instagram", "17841400000000001", "Hallo von Instagram",
                        also_known_as=(Identity("email", "anna.schmidt@example.de"),)))  # fmt: skip
    db.session.commit()
    page = text_of(client.get(f"/customers/{mail.ticket.customer_id}"))
    assert "Hallo von Instagram" in page
    assert "Geheimer Inhalt" not in page and "Erstattung fehlt" not in page
    assert f"#{mail.ticket_id}" in page and "not answered yet" in page
    answer = client.post(f"/customers/{dm.ticket.customer_id}/merge", data={"other": "1"})
    assert answer.status_code in (400, 403)
