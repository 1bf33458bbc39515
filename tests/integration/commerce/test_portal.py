"""The self-service returns portal, through real HTTP requests on both databases."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Event, Message, Return, Stock
from helpdesk.services.returns import ReturnLine, register_return
from helpdesk.web.portal import LOOKUP_FAILED, status_token
from tests import factories
from tests.conftest import csrf_token

BERLIN = ZoneInfo("Europe/Berlin")
HELGA = "helga.brandt@example.de"


def visible(response) -> str:
    """The page's text as a reader sees it: no tags, no attributes, single spaces."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style|head)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def look_up(client: FlaskClient, number="100457", contact=HELGA, ip="198.51.100.7", **kw):
    token = csrf_token(client, "/returns")
    return client.post(
        "/returns",
        data={"order_number": number, "contact": contact, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
        **kw,
    )


def submit(client: FlaskClient, choices: dict, resolution: str = "refund"):
    """Step 2: `choices` maps an item to (quantity, reason) or (quantity, reason, exchange sku)."""
    data = {"resolution": resolution, "csrf_token": csrf_token(client, "/returns/items")}
    for item, (quantity, reason, *exchange) in choices.items():
        data[f"quantity-{item.id}"] = str(quantity)
        data[f"reason-{item.id}"] = reason
        if exchange:
            data[f"exchange-{item.id}"] = exchange[0]
    return client.post("/returns/items", data=data)


def options(page: str, select_id: str) -> list[str]:
    """The visible choices of one <select>, and whether it is disabled as a last entry."""
    match = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, flags=re.S)
    assert match, f"no select {select_id}"
    return [html.unescape(o).strip() for o in re.findall(r"<option[^>]*>(.*?)</option>", match[1])]


def test_a_customer_returns_one_of_two_items_and_follows_it(client):
    order = factories.order()
    shoes, shirts = order.items
    other = factories.order(number="100999", email="someone.else@example.com", name="Else")

    found = look_up(client)
    assert found.status_code == 302 and found.headers["Location"] == "/returns/items"
    step_two = client.get("/returns/items")
    page = step_two.get_data(as_text=True)
    text = visible(step_two)
    assert "Order 100457 from Demo Shop" in text
    assert "Sneaker Lauf, schwarz" in text and "T-Shirt Basic, weiß" in text
    assert "Ordered: 1, can still be returned: 1" in text
    assert "Ordered: 2, can still be returned: 2" in text
    assert "€89.95" in text
    assert options(page, f"reason-{shoes.id}") == [
        "Choose a reason", "Too small", "Too big", "Changed my mind", "Style does not suit me",
        "Not as described", "Defective", "Other",
    ]  # fmt: skip
    assert 'name="order' not in page, "the order is kept in the session, not in the form"

    # An item of someone else's order slipped into the form is ignored.
    done = submit(client, {shoes: (1, "too_small"), shirts: (0, ""), other.items[0]: (1, "style")})
    assert done.status_code == 302
    assert done.headers["Location"].startswith("/returns/done/")

    return_ = db.session.scalars(select(Return)).one()
    assert (return_.source, return_.resolution, return_.status) == ("portal", "refund", "requested")
    assert [(i.order_item.sku, i.quantity, i.reason) for i in return_.items] == [
        ("SHOE-BLK-40", 1, "too_small")
    ]
    assert return_.history[0]["actor"] == "portal"
    assert order.invoices[0].on_hold and order.invoices[0].hold_cents == 8995
    confirmation_sent = db.session.scalars(
        select(Message).where(Message.author_kind == "system")
    ).one()
    assert confirmation_sent.details["moment"] == "return_registered"

    confirmation = client.get(done.headers["Location"])
    text = visible(confirmation)
    assert f"Your return {return_.number} is registered" in text
    assert "1 × Sneaker Lauf, schwarz (Size 40) · Too small" in text
    assert "What happens next" in text and "we refund the amount" in text
    status_link = re.search(r'href="(/returns/status/[^"]+)"', confirmation.get_data(as_text=True))
    assert status_link, "the confirmation links to the status page"

    status = client.get(status_link[1])
    assert status.status_code == 200
    text = visible(status)
    assert f"Return {return_.number}" in text
    assert "Status: Return registered" in text and "You chose Refund" in text
    when = format_datetime(return_.requested_at, "d MMM yyyy, HH:mm", tzinfo=BERLIN, locale="en")
    assert f"Return registered {when}" in text
    assert "1 × Sneaker Lauf, schwarz (Size 40) · Too small" in text
    assert "T-Shirt" not in text
    assert other.returns == []


def test_a_wrong_number_and_a_wrong_address_get_the_same_answer(client):
    factories.order()
    wrong_number = look_up(client, number="100458")
    wrong_address = look_up(client, contact="helga@example.de")
    wrong_both = look_up(client, number="999999", contact="nobody@example.com")

    assert wrong_number.status_code == wrong_address.status_code == wrong_both.status_code == 422
    assert visible(wrong_number) == visible(wrong_address) == visible(wrong_both)
    assert "We could not find an order with these details." in visible(wrong_number)
    failures = db.session.scalars(select(Event).where(Event.kind == LOOKUP_FAILED)).all()
    assert [e.data for e in failures] == [
        {"ip": "198.51.100.7", "order_number": "100458"},
        {"ip": "198.51.100.7", "order_number": "100457"},
        {"ip": "198.51.100.7", "order_number": "999999"},
    ]
    assert client.get("/returns/items").headers["Location"] == "/returns"


def test_the_postcode_finds_the_order_as_well_as_the_address(client):
    factories.order(postcode="10115")
    assert look_up(client, contact="10117").status_code == 422
    assert look_up(client, number=" #100457 ", contact=" 101 15").status_code == 302
    assert "Sneaker Lauf" in visible(client.get("/returns/items"))

    other = client.application.test_client()
    assert look_up(other, contact="Helga.Brandt@Example.DE").status_code == 302


def test_guessing_at_one_order_number_is_stopped_and_told_when_to_try_again(client):
    factories.order()
    for attempt in range(5):  # from five addresses: the limit is per order number too
        answer = look_up(client, contact=f"guess{attempt}@example.com", ip=f"203.0.113.{attempt}")
        assert answer.status_code == 422

    blocked = look_up(client, contact=HELGA, ip="192.0.2.50")  # even the right address now
    assert blocked.status_code == 429
    first = db.session.scalars(
        select(Event.created_at).where(Event.kind == LOOKUP_FAILED).order_by(Event.created_at)
    ).first()
    again = format_datetime(first + timedelta(minutes=15), "HH:mm", tzinfo=BERLIN, locale="en")
    assert f"Too many attempts. Please try again at {again}" in visible(blocked)
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert look_up(client, number="#100457", ip="192.0.2.51").status_code == 429
    assert client.get("/returns/items").headers["Location"] == "/returns"

    # Another order from the same address is still answered normally.
    factories.order(number="100458", email="kai@example.com")
    assert (
        look_up(client, number="100458", contact="kai@example.com", ip="192.0.2.50").status_code
        == 302
    )


def test_guessing_from_one_address_is_stopped_after_twenty_failures(client):
    factories.order()
    for attempt in range(20):
        assert look_up(client, number=f"2000{attempt:02d}", ip="203.0.113.9").status_code == 422
    blocked = look_up(client, ip="203.0.113.9")
    assert blocked.status_code == 429
    assert "Too many attempts" in visible(blocked)
    assert look_up(client, ip="203.0.113.10").status_code == 302


def test_a_second_return_cannot_exceed_what_is_left(client):
    order = factories.order()
    shoes, shirts = order.items
    look_up(client)
    assert submit(client, {shirts: (1, "too_big")}).status_code == 302

    text = visible(client.get("/returns/items"))
    assert "Ordered: 2, can still be returned: 1" in text
    refused = submit(client, {shoes: (1, "defective"), shirts: (2, "too_big")})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "T-Shirt Basic, weiß: you can return at most 1." in visible(refused)
    assert '<option value="defective" selected>' in page, "the customer's choices are kept"
    assert '<option value="1" selected>' in page
    assert db.session.scalar(select(func.count()).select_from(Return)) == 1

    missing_reason = submit(client, {shoes: (1, "")})
    assert "Sneaker Lauf, schwarz: please tell us why you are returning it." in visible(
        missing_reason
    )
    nothing = submit(client, {shoes: (0, "")})
    assert "Choose at least one item to return." in visible(nothing)

    assert submit(client, {shoes: (1, "defective"), shirts: (1, "style")}).status_code == 302
    text = visible(client.get("/returns/items"))
    assert "Everything from this order is already being returned." in text
    assert "Register return" not in text


def test_an_exchange_offers_only_sizes_in_stock(client):
    order = factories.order(
        stock={
            "SHOE-BLK-40": ("Sneaker Lauf", "40", 3),
            "SHOE-BLK-41": ("Sneaker Lauf", "41", 2),
            "SHOE-BLK-42": ("Sneaker Lauf", "42", 0),
            "SHOE-BLK-43": ("Sneaker Lauf", "43", 1),
        }
    )
    shoes, shirts = order.items
    look_up(client)
    page = client.get("/returns/items").get_data(as_text=True)
    assert options(page, f"exchange-{shoes.id}") == ["Choose a size or colour", "41", "43"]
    assert re.search(rf'<select id="exchange-{shirts.id}"[^>]*disabled', page)
    assert options(page, f"exchange-{shirts.id}") == ["Not available"]

    sold_out = submit(client, {shoes: (1, "too_small", "SHOE-BLK-42")}, "exchange")
    assert sold_out.status_code == 422
    assert "Sneaker Lauf, schwarz: choose the size or colour you want instead." in visible(sold_out)
    no_options = submit(client, {shirts: (1, "too_small")}, "exchange")
    assert "T-Shirt Basic, weiß cannot be exchanged" in visible(no_options)

    done = submit(client, {shoes: (1, "too_small", "SHOE-BLK-41")}, "exchange")
    assert done.status_code == 302
    assert db.session.get(Stock, (order.shop_id, "SHOE-BLK-41")).quantity == 1
    status = visible(client.get(done.headers["Location"]))
    assert "Too small · exchange for 41" in status
    assert "we send you the new size or colour" in status


def test_a_tampered_or_foreign_status_token_is_not_found(app, client):
    order = factories.order()
    return_ = register_return(order, [ReturnLine(order.items[0], 1, "too_big")], source="portal")
    db.session.commit()
    token = status_token(return_.id)
    assert client.get(f"/returns/status/{token}").status_code == 200

    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_salt = URLSafeSerializer(app.secret_key, salt="something else").dumps(return_.id)
    other_key = URLSafeSerializer("not our key", salt="helpdesk.returns-portal.status")
    for bad in (tampered, other_salt, other_key.dumps(return_.id), status_token(return_.id + 1)):
        for page in ("status", "done"):
            answer = client.get(f"/returns/{page}/{bad}")
            assert answer.status_code == 404
            assert "We could not find this page." in visible(answer)
    assert client.get(f"/returns/status/{return_.id}").status_code == 404


def test_the_portal_speaks_german_and_english(client):
    order = factories.order()
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    english = {"Accept-Language": "en-GB,en;q=0.8"}
    assert "Artikel zurücksenden" in visible(client.get("/returns", headers=german))
    assert "Return an item" in visible(client.get("/returns", headers=english))

    look_up(client, headers=german)
    done = submit(client, {order.items[0]: (1, "too_small")})
    status_url = done.headers["Location"].replace("/done/", "/status/")
    requested = db.session.scalars(select(Return)).one().requested_at

    text = visible(client.get(status_url, headers=german))
    assert "Status: Retoure angemeldet" in text and "Zu klein" in text and "Erstattung" in text
    assert format_datetime(requested, "dd.MM.yyyy, HH:mm", tzinfo=BERLIN, locale="de") in text

    # The customer's choice beats the browser's and stays for the visit.
    switch = client.post(
        "/language",
        data={"language": "en", "next": status_url, "csrf_token": csrf_token(client, "/returns")},
        headers=german,
    )
    assert switch.headers["Location"] == status_url
    text = visible(client.get(status_url, headers=german))
    assert "Status: Return registered" in text and "Too small" in text
    assert format_datetime(requested, "d MMM yyyy, HH:mm", tzinfo=BERLIN, locale="en") in text
    assert "Choose what to return" in visible(client.get("/returns/items", headers=german))


def test_every_portal_form_needs_its_csrf_token(client):
    factories.order()
    refused = client.post("/returns", data={"order_number": "100457", "contact": HELGA})
    assert refused.status_code == 400
    assert "This page was open for too long." in visible(refused)
    look_up(client)
    assert client.post("/returns/items", data={"resolution": "refund"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Return)) == 0


def test_the_portal_needs_no_login_and_starts_over_without_an_order(client):
    page = client.get("/returns")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    assert "<script" not in page.get_data(as_text=True)
    assert client.get("/returns/items").headers["Location"] == "/returns"
    empty = client.post("/returns", data={"csrf_token": csrf_token(client, "/returns")})
    assert empty.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
