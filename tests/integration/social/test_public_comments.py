"""Public comments on the page's Facebook posts and the shop's Instagram media: signed
webhooks store each comment once as a public conversation of its customer, the page's own
comments are recognised and not stored, the social view lists comments beside DMs, and an
agent's answer is posted under the comment through the Graph API (a local server that
checks every request).

No public sample of these webhooks is in ../shared/data/webhooks (only WhatsApp's), so the
bodies are built exactly as Meta documents them: Page `feed` changes with item "comment"
(created_time in Unix seconds, comment ids "<post>_<comment>"), Instagram `comments`
changes (from.id the IGSID, from.username, media.id and media_product_type).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.ingest import ingest
from helpdesk.models import Customer, CustomerIdentity, Message, OutboxItem, Ticket
from helpdesk.services.delivery import deliver_due
from helpdesk.services.replies import add_reply
from tests.conftest import log_in, make_user
from tests.factories import inbound
from tests.integration.social.conftest import PAGE_TOKEN, post_meta

PAGE = "104365328934221"
POST = f"{PAGE}_288731331545014"
COMMENT = "288731331545014_288738774877603"
USER = "7214563827491023"  # the commenter's id, the same as their Messenger id
IG_ACCOUNT = "17841405822304914"
IGSID = "6754321987654321"
MEDIA = "18023345678901234"


def unix(ago: timedelta = timedelta(minutes=5)) -> int:
    return int((datetime.now(UTC) - ago).timestamp())


def feed(*values: dict, page: str = PAGE, at: int | None = None) -> dict:
    """A Page webhook body with one `feed` change per value."""
    changes = [{"field": "feed", "value": value} for value in values]
    return {"object": "page", "entry": [{"id": page, "time": at or unix(), "changes": changes}]}


def fb_comment(comment_id: str = COMMENT, text: str = "Gibt es die Jacke noch in M?", *,
               sender: str = USER, name: str = "Helga Brandt", verb: str = "add",
               parent: str = POST, ago: timedelta = timedelta(minutes=5)) -> dict:  # fmt: skip
    return {
        "from": {"id": sender, "name": name},
        "post": {
            "status_type": "added_photos",
            "is_published": True,
            "permalink_url": "https://www.facebook.com/demo.shop/posts/288731331545014",
            "id": POST,
        },  # fmt: skip
        "message": text,
        "post_id": POST,
        "comment_id": comment_id,
        "created_time": unix(ago),
        "item": "comment",
        "parent_id": parent,
        "verb": verb,
    }


def instagram(*values: dict, field: str = "comments") -> dict:
    changes = [{"field": field, "value": value} for value in values]
    return {"object": "instagram",
            "entry": [{"id": IG_ACCOUNT, "time": unix(), "changes": changes}]}  # fmt: skip


def ig_comment(comment_id: str, text: str, *, sender: str = IGSID, username: str = "mia.k",
               parent: str | None = None) -> dict:  # fmt: skip
    value = {
        "from": {"id": sender, "username": username},
        "media": {"id": MEDIA, "media_product_type": "FEED"},
        "id": comment_id,
        "text": text,
    }
    if parent:
        value["parent_id"] = parent
    return value


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def text_of(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(page)).replace("\u00a0", " ")


def compose(client, ticket: Ticket, text: str, channel: str):
    """The composer's form, as the browser posts it from the ticket page."""
    path = f"/tickets/{ticket.number}"
    shown = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', shown).group(1)
    seen = re.search(r'name="seen" value="(\d+)"', shown).group(1)
    data = {"kind": "reply", "text": text, "channel": channel, "seen": seen, "csrf_token": token}
    return client.post(f"{path}/compose", data=data)


def the_comment() -> Message:
    return db.session.scalars(select(Message).where(Message.direction == "inbound")).one()


def outbound() -> Message:
    return db.session.scalars(select(Message).where(Message.direction == "outbound")).one()


# --- receiving ------------------------------------------------------------------------------


def test_a_facebook_comment_is_stored_once_as_a_public_conversation(client, social_config):
    body = feed(fb_comment())  # built once: its times are in whole seconds of the clock
    response = post_meta(client, body)
    assert response.status_code == 200
    assert response.get_json()["stored"] == 1

    comment = the_comment()
    assert (comment.channel, comment.external_id) == ("messenger", COMMENT)
    assert comment.text == "Gibt es die Jacke noch in M?"
    assert comment.details["public"] is True and comment.details["kind"] == "comment"
    assert comment.details["platform"] == "facebook"
    assert (comment.details["post_id"], comment.details["reply_to"]) == (POST, COMMENT)
    assert comment.details["permalink"].startswith("https://www.facebook.com/")
    assert comment.thread_key == f"comment:{PAGE}:{POST}:{USER}"
    assert comment.raw_source is not None  # the change as Meta sent it, for audit
    identity = db.session.scalars(select(CustomerIdentity)).one()
    assert (identity.kind, identity.value, identity.display_name) == (
        "messenger", USER, "Helga Brandt")  # fmt: skip
    assert comment.ticket.customer.name == "Helga Brandt"

    again = post_meta(client, body)  # the same body: a redelivery
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    resent = post_meta(client, feed(fb_comment(), at=unix() + 7))  # same comment, new body
    assert resent.status_code == 200
    assert (resent.get_json()["stored"], resent.get_json()["duplicates"]) == (0, 1)
    assert (count(Message), count(Ticket), count(Customer)) == (1, 1, 1)


def test_one_ticket_per_customer_and_post(client, social_config):
    """A second comment under the same post continues the customer's conversation; a
    comment under another post, or another customer's, is a conversation of its own; a DM
    of the same person goes to their DM ticket, and they stay one customer."""
    post_meta(client, feed(fb_comment()))
    post_meta(client, feed(fb_comment(f"{COMMENT[:-1]}9", "Und in L?")))
    other_post = fb_comment("399_400", "Wann kommt die neue Kollektion?")
    other_post["post_id"] = other_post["parent_id"] = f"{PAGE}_399"
    post_meta(
        client,
        feed(
            other_post,
            fb_comment("288731331545014_5", "Ich auch!", sender="8000000000000001", name="Tom"),
        ),
    )
    dm = {"sender": {"id": USER}, "recipient": {"id": PAGE}, "timestamp": unix() * 1000,
          "message": {"mid": "m_dm_1", "text": "Ich schreibe lieber privat."}}  # fmt: skip
    post_meta(client, {"object": "page", "entry": [{"id": PAGE, "time": unix() * 1000,
                                                    "messaging": [dm]}]})  # fmt: skip

    assert count(Message) == 5
    helga = db.session.scalars(select(Customer).where(Customer.name == "Helga Brandt")).one()
    tickets = db.session.scalars(select(Ticket).where(Ticket.customer_id == helga.id)).all()
    sizes = sorted(len(t.messages) for t in tickets)
    assert sizes == [1, 1, 2]  # both comments under the post; the other post; the DM
    assert count(Customer) == 2


def test_the_pages_own_comments_edits_and_removals_store_nothing(client, social_config):
    own = fb_comment("288731331545014_777", "Danke für dein Interesse!", sender=PAGE,
                     name="Demo Shop", parent=COMMENT)  # fmt: skip
    edited = fb_comment(verb="edited", text="Gibt es die Jacke in L?")
    removed = {"item": "comment", "verb": "remove", "comment_id": COMMENT, "post_id": POST,
               "parent_id": POST, "from": {"id": USER, "name": "Helga Brandt"},
               "created_time": unix()}  # fmt: skip
    liked = {"item": "reaction", "verb": "add", "reaction_type": "like", "post_id": POST,
             "from": {"id": USER, "name": "Helga Brandt"}, "created_time": unix()}  # fmt: skip
    answer = post_meta(client, feed(own, edited, removed, liked))
    assert answer.status_code == 200
    summary = answer.get_json()
    assert (summary["messages"], summary["echoes"], summary["our_echoes"]) == (0, 1, 0)
    assert summary["skipped"] == {"comment_edited": 1, "comment_remove": 1, "change:feed": 1}
    assert count(Message) == 0 and count(Customer) == 0


def test_an_instagram_comment_joins_the_customer_known_from_dms(client, social_config):
    ingest(inbound("instagram", IGSID, "Hallo, habt ihr geöffnet?", external_id="ig_m_1",
                   thread_key=f"{IG_ACCOUNT}:{IGSID}"))  # fmt: skip
    db.session.commit()
    own = ig_comment("17800000000000001", "Ja, bis 18 Uhr!", sender=IG_ACCOUNT, username="shop")
    mention = {"media_id": "17900000000000001", "comment_id": "17900000000000002"}
    answer = post_meta(client, instagram(ig_comment("17865799348089039", "Preis? 😍"), own))
    assert answer.get_json()["stored"] == 1 and answer.get_json()["echoes"] == 1
    skipped = post_meta(client, instagram(mention, field="mentions")).get_json()
    assert skipped["skipped"] == {"change:mentions": 1}

    comment = db.session.scalars(
        select(Message).where(Message.external_id == "17865799348089039")).one()  # fmt: skip
    assert comment.channel == "instagram" and comment.details["public"] is True
    assert comment.details["media_product_type"] == "FEED"
    assert comment.thread_key == f"comment:{IG_ACCOUNT}:{MEDIA}:{IGSID}"
    assert count(Customer) == 1 and count(Ticket) == 2  # one customer: a DM and a comment
    assert comment.ticket.customer.name == "@mia.k"  # the handle names the customer now


def test_a_comment_without_its_author_is_quarantined_alone(client, social_config):
    anonymous = fb_comment("288731331545014_1")
    del anonymous["from"]
    answer = post_meta(client, feed(anonymous, fb_comment()))
    assert answer.status_code == 200
    assert (answer.get_json()["stored"], answer.get_json()["rejected"]) == (1, 1)


# --- the social view ------------------------------------------------------------------------


def test_the_social_view_lists_comments_beside_dms_with_response_times(app, social_config):
    client = app.test_client()
    make_user("social")
    assert log_in(client, "social@shop.example").status_code == 302
    post_meta(client, feed(fb_comment()))
    dm = ingest(inbound("messenger", "5521", "Wann liefert ihr?", display_name="Tom",
                        thread_key=f"{PAGE}:5521"))  # fmt: skip
    db.session.flush()
    commented = db.session.scalars(select(Ticket).where(Ticket.id != dm.ticket_id)).one()
    commented.first_response_at = commented.created_at + timedelta(minutes=12)
    db.session.commit()

    response = client.get("/social")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = {kind: re.search(rf'<tr data-kind="{kind}">(.*?)</tr>', page, re.S).group(1)
            for kind in ("comment", "dm")}  # fmt: skip
    assert f"#{commented.number}" in rows["comment"] and "Public comment" in rows["comment"]
    assert "12 minutes" in rows["comment"]
    assert f"#{dm.ticket.number}" in rows["dm"] and "DM" in rows["dm"]
    assert "waiting" in rows["dm"]
    words = text_of(response)
    assert "Public comments on Facebook: median first response: 12 minutes" in words
    assert "DMs: no answers yet · 1 waiting" in words


def test_the_social_view_in_german(app, social_config):
    client = app.test_client()
    make_user("social", language="de")
    assert log_in(client, "social@shop.example").status_code == 302
    post_meta(client, feed(fb_comment()))
    page = client.get("/social").get_data(as_text=True)
    assert "<th>Art</th>" in page  # the kind column, labelled in the user's language
    assert 'data-kind="comment"' in page


# --- answering ------------------------------------------------------------------------------


def test_an_agents_answer_is_posted_under_the_facebook_comment(agent_client, platform):
    # Three days old: a DM could not be answered any more, a comment can.
    post_meta(agent_client, feed(fb_comment(ago=timedelta(days=3))))
    ticket = the_comment().ticket
    shown = agent_client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Public comment on Facebook" in html.unescape(shown)  # the composer warns
    sent = compose(agent_client, ticket, "Ja, M ist noch da! Schreib uns gern per DM.",
                   "messenger")  # fmt: skip
    assert sent.status_code == 302
    platform.answer(200, {"id": "288731331545014_288738999999999"})

    assert deliver_due() == {"sent": 1}

    (request,) = platform.requests
    assert (request["method"], request["path"]) == ("POST", f"/v21.0/{COMMENT}/comments")
    assert request["headers"]["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert request["json"] == {"message": "Ja, M ist noch da! Schreib uns gern per DM."}
    reply = outbound()
    assert reply.external_id == "288731331545014_288738999999999"  # the new comment's id
    assert reply.details["delivery"]["status"] == "sent"
    assert reply.ticket.first_response_at is not None

    # Meta reports the page's new comment: recognised as our reply, not stored again.
    own = fb_comment("288731331545014_288738999999999", reply.text, sender=PAGE,
                     name="Demo Shop", parent=COMMENT)  # fmt: skip
    answer = post_meta(agent_client, feed(own)).get_json()
    assert answer["our_echoes"] == 1 and answer["stored"] == 0
    assert count(Message) == 2


def test_an_answer_to_an_instagram_reply_goes_to_the_top_level_comment(agent_client, platform):
    """Instagram nests replies one level deep: the answer goes under the comment the
    customer replied to, where they read it."""
    top = "17865799348089039"
    post_meta(agent_client, instagram(ig_comment("17865799348089040", "Und in Blau?",
                                                 parent=top)))  # fmt: skip
    ticket = the_comment().ticket
    assert compose(agent_client, ticket, "Blau kommt nächste Woche!", "instagram").status_code \
        == 302  # fmt: skip
    platform.answer(200, {"id": "17999999999999999"})
    assert deliver_due() == {"sent": 1}
    (request,) = platform.requests
    assert request["path"] == f"/v21.0/{top}/replies"
    assert request["headers"]["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert request["json"] == {"message": "Blau kommt nächste Woche!"}


def test_a_too_long_public_answer_is_refused_in_the_composer(agent_client, platform):
    post_meta(agent_client, instagram(ig_comment("17865799348089039", "Preis?")))
    refused = compose(agent_client, the_comment().ticket, "x" * 2201, "instagram")
    assert refused.status_code == 422
    assert "at most 2200 characters" in html.unescape(refused.get_data(as_text=True))
    assert count(OutboxItem) == 0


def test_an_automatic_answer_is_never_posted_in_public(client, platform):
    """A rule's canned answer may name an order or a tracking number: on a public comment
    it fails on the ticket with the reason instead of being posted."""
    post_meta(client, feed(fb_comment(text="Wo ist meine Bestellung 100457?")))
    ticket = the_comment().ticket
    add_reply(ticket, None, "Ihre Sendung 00340434161094042557 ...", channel="messenger",
              author_kind="system")  # fmt: skip
    db.session.commit()
    assert deliver_due() == {"failed": 1}
    assert platform.requests == []
    delivery = outbound().details["delivery"]
    assert delivery["status"] == "failed" and "not posted as public comments" in delivery["error"]


def test_a_platform_refusal_is_shown_on_the_reply(agent_client, platform):
    post_meta(agent_client, feed(fb_comment()))
    compose(agent_client, the_comment().ticket, "Hallo!", "messenger")
    platform.answer(400, {"error": {"message": "(#100) The comment was deleted",
                                    "type": "OAuthException", "code": 100}})  # fmt: skip
    assert deliver_due() == {"failed": 1}
    delivery = outbound().details["delivery"]
    assert "The comment was deleted" in delivery["error"]
