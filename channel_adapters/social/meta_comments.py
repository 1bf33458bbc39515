"""Public comments on a Facebook Page's posts and on an Instagram account's media.

Meta reports them in an entry's `changes`, beside the DMs' `messaging`:

Facebook (object "page", field "feed"; `created_time` in Unix seconds):

    {"field": "feed", "value": {"item": "comment", "verb": "add",
      "comment_id": "<post>_<comment>", "post_id": "<page>_<post>",
      "parent_id": "<the post, or the comment this one answers>",
      "from": {"id": "<user id>", "name": "Helga Brandt"}, "message": "...",
      "created_time": 1733390000, "post": {"permalink_url": "...", ...},
      "photo": "<url>"}}

`verb` is "add", "edited", "remove", "hide" or "unhide"; `item` also names posts,
reactions, shares and likes, which are not comments and are skipped.

Instagram (object "instagram", field "comments"; no time of its own, the entry's is used):

    {"field": "comments", "value": {"id": "<comment id>", "text": "...",
      "parent_id": "<the comment this one answers, when it is a reply>",
      "from": {"id": "<IGSID>", "username": "mia.k"},
      "media": {"id": "<media id>", "media_product_type": "FEED"}}}

A comment by the page or account itself (`from.id` is the entry's id) is ours: it becomes
an `Echo`, recognised when it is a reply the helpdesk sent, never a customer message.
Edits keep the comment as first received (as DM edits do); removals and hiding are
acknowledged and skipped on purpose: the stored copy stays as the evidence of what was
written. Instagram `mentions` name only a media and a comment id (the text would need a
Graph API call) and are skipped, as are comments on live videos.

A comment becomes an `InboundMessage` on the channel of its platform's DMs ("messenger"
for Facebook, "instagram"), from the same kind of identity as a DM, so a customer who
comments and writes is one customer. Its thread key groups one customer's comments under
one post into one conversation: `comment:<account>:<post>:<customer>`.

Answering: POST {api_base}/{version}/{comment-id}/comments (Facebook) or
/{ig-comment-id}/replies (Instagram) with {"message": text} and the same bearer token as
the Send API; the answer's `id` is the new comment's. A public reply has no messaging window.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from channel_adapters.base import Identity, InboundMessage, OutboundMessage, ParseError, SendError
from channel_adapters.social.common import (
    DeliveryBuilder,
    Echo,
    as_dict,
    compact_json,
    required_text,
)

#: Thread keys of comment conversations start with this; DMs' never do.
COMMENT_THREAD_PREFIX = "comment:"
#: The OutboundMessage header that makes a reply a public answer to this comment id.
REPLY_TO_COMMENT = "reply_to_comment"
#: The longest comment each platform takes (Facebook 8,000 characters, Instagram 2,200).
COMMENT_TEXT_LIMITS = {"messenger": 8000, "instagram": 2200}
#: Where a reply to a comment is posted, by channel.
REPLY_EDGES = {"messenger": "comments", "instagram": "replies"}
PLATFORMS = {"messenger": "facebook", "instagram": "instagram"}
#: Fields of `changes` we acknowledge without storing, and why.
IGNORED_FIELDS = {
    "mentions": "an @mention names only media and comment ids; its text is not fetched",
    "mention": "a mention of the page in someone else's post is not a conversation",
    "live_comments": "comments on a live video are answered in the live video",
    "story_insights": "story figures, not a message",
}
#: Graph ids are digits, sometimes two joined by "_"; nothing else goes into a URL path.
_GRAPH_ID = re.compile(r"[0-9A-Za-z_.-]{1,100}")
#: Below this a number is a time in seconds, above it in milliseconds.
_MILLIS_FROM = 10**11


def is_comment_thread(thread_key: str | None) -> bool:
    """Whether a message's thread key names a public comment conversation."""
    return bool(thread_key) and thread_key.startswith(COMMENT_THREAD_PREFIX)


def take_change(
    found: DeliveryBuilder, channel: str, account: str, entry: dict, change: Any, where: str
) -> None:
    """Read one item of an entry's `changes` into `found` (a comment, our own comment, or
    a skip with its reason); `ParseError` when a comment lacks what it must have."""
    change = as_dict(change, where)
    field = str(change.get("field") or "?")
    value = as_dict(change.get("value"), f"{where}.value")
    if channel == "messenger" and field == "feed":
        _feed_change(found, account, entry, change, value, where)
    elif channel == "instagram" and field == "comments":
        _comment(found, channel, account, entry, change, _instagram_fields(value, where), where)
    elif field in IGNORED_FIELDS:
        found.skip(channel, f"change:{field}", IGNORED_FIELDS[field])
    else:
        found.skip(channel, f"change:{field}", "a change we do not use", known=False)


def _feed_change(
    found: DeliveryBuilder, account: str, entry: dict, change: dict, value: dict, where: str
) -> None:
    item, verb = value.get("item"), value.get("verb")
    if item != "comment":
        found.skip("messenger", "change:feed", f"a feed item ({item}) that is not a comment")
    elif verb == "edited":
        found.skip("messenger", "comment_edited", "edits keep the comment as first received")
    elif verb in ("remove", "hide", "unhide"):
        found.skip("messenger", f"comment_{verb}",
                   "the stored comment stays as it was received")  # fmt: skip
    elif verb != "add":
        found.skip("messenger", f"comment_{verb}", "a comment verb we do not know", known=False)
    else:
        _comment(found, "messenger", account, entry, change, _facebook_fields(value, where), where)


def _facebook_fields(value: dict, where: str) -> dict[str, Any]:
    author = as_dict(value.get("from"), f"{where}.value.from")
    post = required_text(value, "post_id", f"{where}.value")
    comment = required_text(value, "comment_id", f"{where}.value")
    parent = str(value.get("parent_id") or "")
    lines = [str(value["message"])] if value.get("message") else []
    lines += [f"[{kind}] {value[kind]}" for kind in ("photo", "video") if value.get(kind)]
    details = as_dict(value.get("post"), f"{where}.value.post")
    return {
        "comment": comment,
        "post": post,
        # Replies go into the top-level comment's thread, where the customer reads them.
        "parent": parent if parent and parent != post else None,
        "sender": required_text(author, "id", f"{where}.value.from"),
        "name": str(author.get("name") or "") or None,
        "lines": lines,
        "time": value.get("created_time"),
        "extra": {"permalink": details.get("permalink_url")} if details.get("permalink_url")
        else {},
    }  # fmt: skip


def _instagram_fields(value: dict, where: str) -> dict[str, Any]:
    author = as_dict(value.get("from"), f"{where}.value.from")
    media = as_dict(value.get("media"), f"{where}.value.media")
    username = str(author.get("username") or "")
    extra = {"media_product_type": media["media_product_type"]} if media.get(
        "media_product_type") else {}  # fmt: skip
    if media.get("ad_id"):
        extra["ad_id"] = str(media["ad_id"])
    return {
        "comment": required_text(value, "id", f"{where}.value"),
        "post": required_text(media, "id", f"{where}.value.media"),
        "parent": str(value.get("parent_id") or "") or None,
        "sender": required_text(author, "id", f"{where}.value.from"),
        "name": f"@{username}" if username else None,
        "lines": [str(value["text"])] if value.get("text") else [],
        "time": None,
        "extra": extra,
    }


def _comment(
    found: DeliveryBuilder,
    channel: str,
    account: str,
    entry: dict,
    change: dict,
    fields: dict[str, Any],
    where: str,
) -> None:
    text = "\n".join(fields["lines"]) or "[comment without text]"
    if account and fields["sender"] == account:
        # Written by the page or account itself, in the helpdesk or in Meta's own apps.
        found.echoes.append(Echo(channel, fields["comment"], fields["post"], text))
        return
    sent_at = _time(fields["time"], where) or _time(entry.get("time"), where)
    if sent_at is None:
        raise ParseError(f"{where} has no time (neither created_time nor the entry's time)")
    found.messages.append(
        InboundMessage(
            channel=channel,
            external_id=fields["comment"],
            sender=Identity(channel, fields["sender"], fields["name"]),
            text=text,
            sent_at=sent_at,
            thread_key=f"{COMMENT_THREAD_PREFIX}{account}:{fields['post']}:{fields['sender']}",
            recipient=account or None,
            raw=compact_json(change),
            raw_content_type="application/json",
            metadata={
                "platform": PLATFORMS[channel],
                "kind": "comment",
                "public": True,  # the answer is visible to everyone who sees the post
                "comment_id": fields["comment"],
                "post_id": fields["post"],
                **({"parent_id": fields["parent"]} if fields["parent"] else {}),
                "reply_to": fields["parent"] or fields["comment"],
                **fields["extra"],
            },
        )
    )


def _time(value: Any, where: str) -> datetime | None:
    """Unix seconds or milliseconds (as a number or digits), or an ISO 8601 time."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ParseError(f"{where}: {value!r} is not a time")
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        number = int(value)
        try:
            return datetime.fromtimestamp(number / (1000 if number >= _MILLIS_FROM else 1), UTC)
        except (OverflowError, OSError, ValueError):
            raise ParseError(f"{where}: {value!r} is not a time") from None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ParseError(f"{where}: {value!r} is not a time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- answering ----------------------------------------------------------------------------


def comment_reply_request(message: OutboundMessage) -> tuple[str, dict[str, Any]]:
    """The Graph API path (after the version) and body of a public reply to a comment."""
    target = message.headers.get(REPLY_TO_COMMENT) or ""
    if not _GRAPH_ID.fullmatch(target):
        raise SendError(f"{message.channel}: {target!r} is not a comment id", retryable=False)
    if message.attachments:
        raise SendError(f"{message.channel}: a comment reply carries text only", retryable=False)
    limit = COMMENT_TEXT_LIMITS[message.channel]
    if len(message.text) > limit:
        raise SendError(f"{message.channel}: a comment takes at most {limit} characters",
                        retryable=False)  # fmt: skip
    return f"{target}/{REPLY_EDGES[message.channel]}", {"message": message.text}
