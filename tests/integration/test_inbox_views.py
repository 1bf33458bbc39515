"""The inbox as an agent meets it: views and their counts, keyset pages in every sort,
filters that combine and stay in the URL, bulk actions and who may use them."""

from __future__ import annotations

import base64
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Customer, Event, IntentTag, Team, Ticket, TicketTag, User
from helpdesk.services.inbox import ESCALATED_TAG, Filters, list_tickets
from helpdesk.services.inbox_counts import count_views
from helpdesk.services.replies import set_status
from tests.conftest import csrf_token, log_in, make_user

NOW = datetime.now(UTC).replace(microsecond=0)
UNSOLVED = ("new", "open", "pending", "on_hold")
SOCIAL = ("messenger", "instagram", "whatsapp", "x")
RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
_numbers = itertools.count(1)


def ticket(*, intents=(), rejected=(), tags=(), **fields) -> Ticket:
    """A ticket with a customer of its own; `rejected` intents were removed by an agent."""
    n = next(_numbers)
    fields.setdefault("channel", "email")
    fields.setdefault("status", "open")
    fields.setdefault("subject", f"Ticket {n}")
    fields.setdefault("last_activity_at", NOW - timedelta(minutes=n))
    created = Ticket(customer=Customer(name=f"Kunde {n}"), **fields)
    for intent in (*intents, *rejected):
        created.intent_tags.append(IntentTag(intent=intent, source="model", confidence=0.9))
    for intent in rejected:
        created.intent_tags.append(IntentTag(intent=intent, source="agent", rejected=True))
    created.tags = [TicketTag(name=name) for name in tags]
    db.session.add(created)
    db.session.flush()
    return created


def rows(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-ticket-row="(\d+)"', page)]


def walk(client, url: str) -> list[int]:
    """Every ticket number of a list, following "Next page" to the end."""
    found: list[int] = []
    for _ in range(200):
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_data(as_text=True)
        found += rows(page)
        following = re.search(r'rel="next" href="([^"]+)"', page)
        if not following:
            return found
        url = following.group(1).replace("&amp;", "&")
    raise AssertionError("more than 200 pages")


def sidebar_counts(page: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'data-(?:view|channel|intent)="(\w+)">\s*[^<]*<span class="count">([^<]*)<', page
        )
    )


@pytest.fixture
def small_pages(app, monkeypatch):
    monkeypatch.setitem(app.config, "INBOX_PAGE_SIZE", 3)


@pytest.fixture
def agent(app) -> tuple[object, User]:
    client = app.test_client()
    user = make_user("agent", name="Anna Agent")
    assert log_in(client, user.email).status_code == 302
    return client, user


# --- views and counts -------------------------------------------------------------------


def build_store(me: User) -> dict[str, set[int]]:
    """A store with something for every view; returns the numbers each view must show."""
    colleague = make_user("agent", "ben@shop.example", name="Ben")
    care = Team(name="Care")
    db.session.add(care)
    t = {
        "new_unassigned": ticket(status="new", language="de", intents=["return_status"]),
        "open_mine": ticket(assignee_id=me.id, sla_due_at=NOW - timedelta(hours=1)),
        "open_colleague": ticket(assignee_id=colleague.id, sla_due_at=NOW + timedelta(hours=1)),
        "pending_mine": ticket(
            status="pending", assignee_id=me.id, sla_due_at=NOW + timedelta(hours=5)
        ),  # fmt: skip
        "hold": ticket(status="on_hold", team=care, intents=["payment_reminder"]),
        "social_dm": ticket(channel="instagram", intents=["exchange_request"]),
        "escalated_care": ticket(channel="email", intents=["exchange_request"]),
        "tagged_escalated": ticket(channel="chat", tags=[ESCALATED_TAG]),
        "rejected_intent": ticket(intents=["return_status"], rejected=["payment_reminder"]),
        "solved": ticket(status="solved", assignee_id=me.id, sla_due_at=NOW),
        "closed": ticket(status="closed", channel="whatsapp"),
    }
    t["social_dm"].escalated_to_id = t["escalated_care"].id
    db.session.commit()
    ids = {name: created.id for name, created in t.items()}
    every = set(ids.values())
    unsolved = {ids[n] for n in ids if n not in ("solved", "closed")}
    return {
        "open": unsolved,
        "new": {ids["new_unassigned"]},
        "pending": {ids["pending_mine"]},
        "on_hold": {ids["hold"]},
        "mine": {ids["open_mine"], ids["pending_mine"]},
        "unassigned": unsolved - {ids["open_mine"], ids["open_colleague"], ids["pending_mine"]},
        "due_soon": {ids["open_mine"], ids["open_colleague"]},
        "escalated": {ids["escalated_care"], ids["tagged_escalated"]},
        "solved": {ids["solved"], ids["closed"]},
        "social": {i for n, i in ids.items() if t[n].channel in SOCIAL},
        "every": every,
        "_ids": ids,  # type: ignore[dict-item]
    }


def test_every_view_shows_its_tickets_and_counts_them(agent, small_pages):
    client, me = agent
    expected = build_store(me)
    page = client.get("/inbox").get_data(as_text=True)
    counts = sidebar_counts(page)
    for view in ("unassigned", "mine", "open", "new", "pending", "on_hold", "due_soon",
                 "escalated", "solved"):  # fmt: skip
        assert set(walk(client, f"/inbox?view={view}")) == expected[view], view
        assert counts[view] == str(len(expected[view])), view
    assert counts["instagram"] == "1" and counts["email"] == str(
        len(expected["open"]) - 2  # the Instagram DM and the chat are not e-mail
    )
    # By intent counts what the ticket carries now: the rejected reminder is gone.
    assert counts["return_status"] == "2"
    assert counts["payment_reminder"] == "1"
    assert counts["exchange_request"] == "2"
    ids = expected["_ids"]
    assert set(walk(client, "/inbox?view=open&intent=payment_reminder")) == {ids["hold"]}


def test_social_media_managers_see_and_count_only_social_tickets(app):
    client = app.test_client()
    social = make_user("social", name="Sam")
    expected = build_store(make_user("agent", name="Anna"))
    assert log_in(client, social.email).status_code == 302
    page = client.get("/inbox?view=open").get_data(as_text=True)
    assert set(rows(page)) == expected["social"] - expected["solved"]
    counts = sidebar_counts(page)
    assert counts["open"] == "1" and counts["solved"] == "1" and counts["escalated"] == "0"
    assert "email" not in counts  # no e-mail channel in the sidebar at all
    assert set(walk(client, "/inbox?view=solved")) == expected["social"] & expected["solved"]
    assert walk(client, "/inbox?view=open&channel=email") == []


def test_intent_counts_follow_the_backlog_and_the_tags(agent):
    """The intent counts follow every change of the backlog and of the tags, including one
    ticket leaving as another comes back."""
    client, me = agent
    first = ticket(intents=["return_status"])
    second = ticket(intents=["order_status"], status="solved")
    db.session.commit()

    def intent_counts() -> tuple[str, str]:
        counts = sidebar_counts(client.get("/inbox").get_data(as_text=True))
        return counts["return_status"], counts["order_status"]

    assert intent_counts() == ("1", "0")
    assert intent_counts() == ("1", "0")  # and still right
    set_status(first, "solved", user=me)
    set_status(second, "open", user=me)  # same size of backlog, other ticket
    db.session.commit()
    assert intent_counts() == ("0", "1")
    db.session.add(IntentTag(ticket_id=second.id, intent="order_status", source="agent",
                             rejected=True))  # fmt: skip
    db.session.add(IntentTag(ticket_id=second.id, intent="return_status", source="agent"))
    db.session.commit()
    assert intent_counts() == ("1", "0")


def test_a_row_names_the_customer_as_the_ticket_page_does(agent):
    from helpdesk.models import CustomerIdentity

    client, _me = agent
    named = ticket()
    nameless = Ticket(subject="Ohne Namen", channel="email", status="open",
                      last_activity_at=NOW, customer=Customer(identities=[
                          CustomerIdentity(kind="email", value="erste@example.de"),
                          CustomerIdentity(kind="phone", value="+49 151 0000"),
                      ]))  # fmt: skip
    db.session.add(nameless)
    db.session.commit()
    page = client.get("/inbox").get_data(as_text=True)
    assert named.customer.display_name in page
    assert nameless.customer.display_name == "erste@example.de"
    assert "erste@example.de" in page and "+49 151 0000" not in page


def test_rows_show_their_tags_in_order(agent):
    client, _me = agent
    tagged = ticket(status="open", tags=["versand", "eilig", "retoure"])
    plain = ticket(status="open")
    db.session.commit()
    page = client.get("/inbox").get_data(as_text=True)

    def row(number: int) -> str:
        start = page.index(f'data-ticket-row="{number}"')
        return page[start : page.index("</tr>", start)]

    assert re.findall(r'class="badge tag">([^<]+)<', row(tagged.id)) == [
        "eilig", "retoure", "versand"
    ]  # fmt: skip
    assert 'class="badge tag"' not in row(plain.id)


def test_kept_rows_follow_every_change_and_each_agents_language(app, agent):
    """Rows are kept rendered by what they show: a change, or another language, shows."""
    client, me = agent
    shown = ticket(status="open", subject="Kaputte Lieferung")
    db.session.commit()

    def row() -> str:
        page = client.get("/inbox").get_data(as_text=True)
        start = page.index(f'data-ticket-row="{shown.id}"')
        return page[start : page.index("</tr>", start)]

    assert "Anna Agent" not in row() and 'class="badge tag"' not in row()
    changed = db.session.get(Ticket, shown.id)
    changed.assignee_id = me.id
    changed.tags.append(TicketTag(name="eilig"))
    changed.status = "pending"
    db.session.commit()
    again = row()
    assert "Anna Agent" in again and ">eilig<" in again and "status-pending" in again

    german = app.test_client()
    assert (
        log_in(german, make_user("agent", "de@shop.example", language="de").email).status_code
        == 302
    )
    page = german.get("/inbox").get_data(as_text=True)
    start = page.index(f'data-ticket-row="{shown.id}"')
    assert "Wartend" in page[start : page.index("</tr>", start)]


def test_the_solved_count_stops_at_its_cap(agent, monkeypatch):
    _client, me = agent
    monkeypatch.setattr("helpdesk.services.inbox_counts.SOLVED_COUNT_CAP", 3)
    for _ in range(5):
        ticket(status="closed")
    db.session.commit()
    counts = count_views(me)
    assert counts.views["solved"] == 3 and counts.capped == {"solved"}
    page = agent[0].get("/inbox").get_data(as_text=True)
    assert sidebar_counts(page)["solved"] == "3+"
    # With unsolved tickets the solved count comes with their grouped counts.
    ticket(status="open")
    ticket(status="closed")
    db.session.commit()
    counts = count_views(me)
    assert counts.views["solved"] == 3 and counts.capped == {"solved"}
    assert counts.views["open"] == 1


def test_a_small_solved_count_is_exact_beside_unsolved_tickets(agent):
    _client, me = agent
    for status in ("closed", "solved", "open", "pending"):
        ticket(status=status)
    db.session.commit()
    counts = count_views(me)
    assert counts.views["solved"] == 2 and not counts.capped
    assert counts.views["open"] == 2 and counts.views["pending"] == 1


# --- sorting and keyset pages -----------------------------------------------------------


def tied_store() -> list[Ticket]:
    """Tickets whose sort keys tie in groups: three times, two SLA times, all priorities."""
    made = []
    times = [NOW - timedelta(hours=h) for h in (1, 1, 1, 2, 2, 3)]
    slas = [NOW + timedelta(hours=1), NOW + timedelta(hours=1), None, NOW - timedelta(hours=3)]
    priorities = ["normal", "urgent", "low", "high", "normal"]
    for i in range(23):
        made.append(
            ticket(
                status=UNSOLVED[i % 4],
                last_activity_at=times[i % len(times)],
                sla_due_at=slas[i % len(slas)],
                priority=priorities[i % len(priorities)],
            )
        )
    ticket(status="solved", last_activity_at=times[0])  # not in the open view
    db.session.commit()
    return made


def expected_order(tickets: list[Ticket], sort: str) -> list[int]:
    def newest(t: Ticket):
        return (-t.last_activity_at.timestamp(), -t.id)

    if sort == "activity":
        key = newest
    elif sort == "sla":

        def key(t: Ticket):
            due = t.sla_due_at
            return (due is None, due.timestamp() if due else 0, t.id)
    else:

        def key(t: Ticket):
            return (RANK[t.priority], *newest(t))

    return [t.id for t in sorted(tickets, key=key)]


@pytest.mark.parametrize("sort", ["activity", "sla", "priority"])
def test_each_sort_pages_through_every_ticket_exactly_once(agent, small_pages, sort):
    client, _me = agent
    tickets = tied_store()
    seen = walk(client, f"/inbox?view=open&sort={sort}")
    assert seen == expected_order(tickets, sort)
    assert len(seen) == len(set(seen)) == 23


def test_pages_in_the_service_match_the_web_and_go_deep(agent):
    """The service pages alone (2 per page); every phase of the SLA sort is crossed."""
    _client, me = agent
    tickets = tied_store()
    seen, cursor = [], None
    while True:
        page = list_tickets(me, view="open", sort="sla", cursor=cursor, limit=2)
        seen += [t.id for t in page.tickets]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected_order(tickets, "sla")


# --- filters ----------------------------------------------------------------------------


def test_filters_combine_and_stay_in_the_url_across_pages(agent, small_pages):
    client, me = agent
    care = Team(name="Care")
    other = make_user("agent", "ben@shop.example", name="Ben")
    db.session.add(care)
    match = dict(channel="email", language="de", team=care, assignee_id=me.id,
                 intents=["return_status"], tags=["retoure"])  # fmt: skip
    wanted = [ticket(**match) for _ in range(5)]
    near_misses = [
        ticket(**{**match, "channel": "chat"}),
        ticket(**{**match, "language": "en"}),
        ticket(**{**match, "team": None}),
        ticket(**{**match, "assignee_id": other.id}),
        ticket(**{**match, "intents": ["order_status"]}),
        ticket(**{**match, "tags": ["versand"]}),
        ticket(**{**match, "status": "pending"}),
        ticket(**{**match, "rejected": ["return_status"], "intents": []}),
    ]
    db.session.commit()
    query = (f"channel=email&language=de&team={care.id}&assignee=me&intent=return_status"
             "&tag=Retoure&status=open")  # fmt: skip
    first = client.get(f"/inbox?view=open&{query}").get_data(as_text=True)
    following = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    kept = parse_qs(urlsplit(following).query)
    assert kept["tag"] == ["retoure"] and kept["intent"] == ["return_status"]
    assert kept["assignee"] == ["me"] and kept["team"] == [str(care.id)] and "cursor" in kept
    assert sorted(walk(client, f"/inbox?view=open&{query}")) == sorted(t.id for t in wanted)
    # Each filter on its own lets its near miss through.
    assert near_misses[0].id in walk(client, "/inbox?view=open&language=de&tag=retoure")
    assert near_misses[4].id not in walk(client, "/inbox?view=open&intent=return_status")
    assert near_misses[7].id not in walk(client, "/inbox?view=open&intent=return_status")
    assert set(walk(client, f"/inbox?assignee={other.id}")) == {near_misses[3].id}
    assert set(walk(client, "/inbox?team=none")) == {near_misses[2].id}
    assert set(walk(client, "/inbox?view=pending&assignee=me")) == {near_misses[6].id}
    assert walk(client, "/inbox?view=solved&channel=email") == []
    # A status filter narrows the view's statuses; outside them nothing is left.
    assert set(walk(client, "/inbox?view=open&status=pending")) == {near_misses[6].id}
    assert walk(client, "/inbox?view=solved&status=pending") == []
    assert walk(client, "/inbox?view=new&status=open") == []


def test_filters_work_in_the_service_with_the_solved_view(agent):
    _client, me = agent
    done = ticket(status="closed", channel="x", language="en")
    ticket(status="closed", channel="x", language="de")
    ticket(status="open", channel="x", language="en")
    db.session.commit()
    page = list_tickets(me, view="solved", filters=Filters(channel="x", language="en"))
    assert [t.id for t in page.tickets] == [done.id]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("view=everything", "Unknown view"),
        ("sort=random", "Unknown sort"),
        ("channel=fax", "Unknown channel"),
        ("intent=complaint", "Unknown intent"),
        ("status=lost", "Unknown status"),
        ("assignee=someone", "The assignee filter takes"),
        ("team=99999999999999", "The team filter takes"),
        ("language=deutsch!", "The language filter takes"),
        ("tag=" + "x" * 61, "A tag is one word"),
    ],
)
def test_a_bad_address_is_a_clear_400(agent, query, says):
    response = agent[0].get(f"/inbox?{query}")
    assert response.status_code == 400
    assert says in response.get_data(as_text=True)


# --- cursors ----------------------------------------------------------------------------


def _cursor(data) -> str:
    raw = json.dumps(data).encode() if not isinstance(data, bytes) else data
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!!",
        "Zm9v",  # "foo": base64, not JSON
        _cursor({"s": "sla", "p": 0, "k": ["2026-01-01T00:00:00+00:00", 1]}),  # other sort
        _cursor({"s": "activity", "p": 3, "k": ["2026-01-01T00:00:00+00:00", 1]}),
        _cursor({"s": "activity", "p": -1, "k": ["2026-01-01T00:00:00+00:00", 1]}),
        _cursor({"s": "activity", "p": 0, "k": ["2026-01-01T00:00:00", 1]}),  # no zone
        _cursor({"s": "activity", "p": 0, "k": ["yesterday", 1]}),
        _cursor({"s": "activity", "p": 0, "k": ["2026-01-01T00:00:00+00:00", "1"]}),
        _cursor({"s": "activity", "p": 0, "k": ["2026-01-01T00:00:00+00:00"]}),
        _cursor([1, 2, 3]),
        _cursor(b"\xff\xfe"),
    ],
)
def test_a_changed_cursor_is_refused_with_a_clear_400(agent, cursor):
    ticket()
    db.session.commit()
    response = agent[0].get(f"/inbox?view=open&cursor={cursor}")
    assert response.status_code == 400
    assert "start again from the first page" in response.get_data(as_text=True)


def test_a_cursor_must_name_its_phase_as_a_number(agent):
    ticket(sla_due_at=None)
    db.session.commit()
    good = _cursor({"s": "sla", "p": 1, "k": [1]})
    assert agent[0].get(f"/inbox?view=open&sort=sla&cursor={good}").status_code == 200
    bad = _cursor({"s": "sla", "p": True, "k": [1]})
    assert agent[0].get(f"/inbox?view=open&sort=sla&cursor={bad}").status_code == 400


def test_the_search_box_asks_the_search_page(agent):
    page = agent[0].get("/inbox").get_data(as_text=True)
    assert re.search(r'<form class="inbox-search" method="get" action="/search"', page)
    assert 'name="q"' in page


# --- bulk actions -----------------------------------------------------------------------


def bulk(client, tickets, next_url="/inbox?view=open&channel=email", **form):
    data = {"csrf_token": csrf_token(client, "/inbox"), "next": next_url, **form}
    data["ticket"] = [str(t.id if isinstance(t, Ticket) else t) for t in tickets]
    return client.post("/inbox/bulk", data=data)


def events(kind: str) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def test_bulk_assign_to_me_to_a_colleague_and_to_nobody(agent):
    client, me = agent
    ben = make_user("agent", "ben@shop.example", name="Ben")
    first, second = ticket(), ticket(assignee_id=ben.id)
    db.session.commit()

    response = bulk(client, [first, second], action="assign", assignee="me")
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox?view=open&channel=email"
    db.session.expire_all()
    assert first.assignee_id == me.id and second.assignee_id == me.id
    assigned = events("ticket.assigned")
    assert [(e.ticket_id, e.data["old"], e.data["new"], e.user_id) for e in assigned] == [
        (first.id, None, me.id, me.id),
        (second.id, ben.id, me.id, me.id),
    ]
    assert "2 tickets changed." in client.get("/inbox").get_data(as_text=True)

    bulk(client, [first], action="assign", assignee=str(ben.id))
    bulk(client, [second], action="assign", assignee="none")
    db.session.expire_all()
    assert first.assignee_id == ben.id and second.assignee_id is None
    assert len(events("ticket.assigned")) == 4


def test_bulk_status_and_tag_record_events_and_skip_what_is_already_so(agent):
    client, me = agent
    one, two = ticket(status="open"), ticket(status="pending", tags=["retoure"])
    db.session.commit()

    bulk(client, [one, two], action="status", status="pending")
    bulk(client, [one, two], action="tag", tag="Retoure")
    db.session.expire_all()
    assert one.status == two.status == "pending"
    assert [t.name for t in one.tags] == ["retoure"] and [t.name for t in two.tags] == ["retoure"]
    assert [e.ticket_id for e in events("ticket.status_changed")] == [one.id]
    assert [(e.ticket_id, e.data["tag"]) for e in events("ticket.tag_added")] == [
        (one.id, "retoure")
    ]
    page = client.get("/inbox?view=pending&tag=retoure").get_data(as_text=True)
    assert set(rows(page)) == {one.id, two.id}


def test_bulk_merge_puts_the_selected_into_one(agent):
    client, me = agent
    older, newer, newest = ticket(), ticket(), ticket()
    db.session.commit()
    response = bulk(client, [newer, older, newest], action="merge", target=f"#{newer.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assert older.merged_into_id == newer.id and newest.merged_into_id == newer.id
    assert older.status == newest.status == "closed" and newer.merged_into_id is None
    assert {e.ticket_id for e in events("ticket.merged")} == {older.id, newest.id}


def test_bulk_mistakes_are_shown_and_change_nothing(agent):
    client, _me = agent
    one = ticket(status="open")
    db.session.commit()
    for form, message in (
        ({"action": "status", "status": "lost"}, "Choose one of the statuses offered."),
        ({"action": "tag", "tag": "   "}, "A tag is one word"),
        ({"action": "assign", "assignee": "424242"}, "Choose an active colleague"),
        ({"action": "merge"}, "Select at least two tickets to merge."),
        ({"action": "explode"}, "Unknown action"),
    ):
        response = bulk(client, [one], **form)
        assert response.status_code == 302, form
        assert message in client.get("/inbox").get_data(as_text=True), form
    assert bulk(client, [], action="status", status="solved").status_code == 302
    assert "Select at least one ticket." in client.get("/inbox").get_data(as_text=True)
    db.session.expire_all()
    assert one.status == "open" and one.tags == [] and events("ticket.assigned") == []


def test_bulk_never_leaves_for_another_site(agent):
    client, _me = agent
    one = ticket()
    db.session.commit()
    for target in ("https://evil.example/inbox", "//evil.example/inbox", "/login"):
        response = bulk(client, [one], next_url=target, action="status", status="pending")
        assert response.headers["Location"] == "/inbox"


def test_bulk_needs_the_csrf_token_and_a_login(app, agent):
    client, _me = agent
    one = ticket()
    db.session.commit()
    refused = client.post("/inbox/bulk", data={"ticket": [one.id], "action": "status",
                                               "status": "solved"})  # fmt: skip
    assert refused.status_code == 400
    anonymous = app.test_client().post("/inbox/bulk", data={"ticket": [one.id]})
    assert anonymous.status_code in (302, 400)
    db.session.expire_all()
    assert one.status == "open"


def test_social_may_change_social_tickets_only(app):
    client = app.test_client()
    social = make_user("social", name="Sam")
    agent_user = make_user("agent", name="Anna")
    assert log_in(client, social.email).status_code == 302
    dm, mail = ticket(channel="instagram"), ticket(channel="email")
    db.session.commit()

    for action in ({"action": "status", "status": "solved"}, {"action": "tag", "tag": "x"},
                   {"action": "assign", "assignee": "me"}, {"action": "merge"}):  # fmt: skip
        assert bulk(client, [dm, mail], **action).status_code == 403
        assert bulk(client, [mail], **action).status_code == 403
    db.session.expire_all()
    assert dm.status == mail.status == "open" and dm.tags == [] and mail.tags == []
    assert events("ticket.assigned") == [] and events("ticket.tag_added") == []

    assert bulk(client, [dm], action="status", status="pending").status_code == 302
    assert bulk(client, [dm], action="assign", assignee=str(agent_user.id)).status_code == 302
    db.session.expire_all()
    assert dm.status == "pending" and dm.assignee_id == agent_user.id


def test_a_social_colleague_gets_no_care_tickets_in_bulk(agent):
    client, _me = agent
    sam = make_user("social", name="Sam")
    mail = ticket(channel="email")
    db.session.commit()
    bulk(client, [mail], action="assign", assignee=str(sam.id))
    assert "Sam cannot work on this ticket." in client.get("/inbox").get_data(as_text=True)
    db.session.expire_all()
    assert mail.assignee_id is None


def test_bulk_on_a_missing_ticket_is_404_and_changes_nothing(agent):
    client, _me = agent
    one = ticket()
    db.session.commit()
    assert bulk(client, [one.id, 999999], action="status", status="solved").status_code == 404
    db.session.expire_all()
    assert one.status == "open"
