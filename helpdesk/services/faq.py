"""The FAQ as data: the entries the chatbot answers from and the public FAQ page shows.

Admins edit them at /admin/faq; every change is an event. The caller commits.
"""

from __future__ import annotations

import functools

from sqlalchemy import select

from helpdesk.errors import InvalidInput, NotFound
from helpdesk.extensions import db
from helpdesk.models import LANGUAGES, FaqEntry, User
from helpdesk.models.types import utcnow
from helpdesk.services.chatbot_match import FaqMatch, FaqMatcher, FaqText
from helpdesk.services.events import record_event
from helpdesk.services.faq_defaults import DEFAULT_FAQ

QUESTION_MAX = FaqEntry.question.type.length
TOPIC_MAX = FaqEntry.topic.type.length
ANSWER_MAX = 4000


def install_default_faq() -> int:
    """Add the standard entries that are missing (by topic and language); returns how
    many. Entries an admin changed or switched off stay as they are."""
    existing = set(db.session.execute(select(FaqEntry.topic, FaqEntry.language)).all())
    added = 0
    for entry in DEFAULT_FAQ:
        if (entry.topic, entry.language) in existing:
            continue
        db.session.add(
            FaqEntry(
                topic=entry.topic,
                language=entry.language,
                question=entry.question,
                alternatives="\n".join(entry.alternatives),
                answer=entry.answer,
                position=entry.position,
                active=True,
            )
        )
        added += 1
    db.session.flush()
    return added


def entries(*, language: str | None = None, active_only: bool = True) -> list[FaqEntry]:
    query = select(FaqEntry).order_by(FaqEntry.position, FaqEntry.topic, FaqEntry.language)
    if language is not None:
        query = query.where(FaqEntry.language == language)
    if active_only:
        query = query.where(FaqEntry.active.is_(True))
    return list(db.session.scalars(query))


def phrasings(entry: FaqEntry) -> tuple[str, ...]:
    lines = (line.strip() for line in entry.alternatives.splitlines())
    return (entry.question, *(line for line in lines if line))


def match_question(text: str, *, language: str | None = None) -> tuple[FaqEntry, FaqMatch] | None:
    """The active entry `text` asks for, or None when the bot should not guess.

    The entries are read on every call, so an admin's edit counts at once in every
    worker; the matcher built from them is kept while they read the same."""
    active = entries()
    matcher = _matcher(tuple(FaqText(e.id, e.topic, e.language, phrasings(e)) for e in active))
    found = matcher.match(text, language=language)
    if found is None:
        return None
    return next(e for e in active if e.id == found.entry_id), found


@functools.lru_cache(maxsize=4)
def _matcher(texts: tuple[FaqText, ...]) -> FaqMatcher:
    """Fitting the vectorizer is most of a chat message's answer (about 4 ms)."""
    return FaqMatcher(texts)


def save_entry(
    user: User,
    *,
    entry_id: int | None,
    topic: str,
    language: str,
    question: str,
    alternatives: str,
    answer: str,
    position: int,
    active: bool,
) -> FaqEntry:
    """Create (`entry_id` None) or change an entry, after checking every field."""
    topic, question, answer = topic.strip(), question.strip(), answer.strip()
    if not topic or len(topic) > TOPIC_MAX:
        raise InvalidInput(f"a topic needs 1 to {TOPIC_MAX} characters")
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}")
    if not question or len(question) > QUESTION_MAX:
        raise InvalidInput(f"a question needs 1 to {QUESTION_MAX} characters")
    if not answer or len(answer) > ANSWER_MAX:
        raise InvalidInput(f"an answer needs 1 to {ANSWER_MAX} characters")
    clash = db.session.scalar(
        select(FaqEntry).where(FaqEntry.topic == topic, FaqEntry.language == language)
    )
    if entry_id is None:
        if clash is not None:
            raise InvalidInput(f"there is an entry for {topic} in {language} already")
        entry = FaqEntry(topic=topic, language=language)
        db.session.add(entry)
    else:
        entry = db.session.get(FaqEntry, entry_id)
        if entry is None:
            raise NotFound(f"no FAQ entry {entry_id}")
        if clash is not None and clash.id != entry.id:
            raise InvalidInput(f"there is an entry for {topic} in {language} already")
    entry.topic, entry.language = topic, language
    entry.question, entry.answer = question, answer
    entry.alternatives = "\n".join(
        line.strip() for line in alternatives.splitlines() if line.strip()
    )
    entry.position, entry.active = position, active
    entry.updated_at = utcnow()
    db.session.flush()
    record_event("faq.saved", user=user, faq_id=entry.id, topic=topic,
                 language=language, active=active)  # fmt: skip
    return entry


def delete_entry(user: User, entry_id: int) -> None:
    entry = db.session.get(FaqEntry, entry_id)
    if entry is None:
        raise NotFound(f"no FAQ entry {entry_id}")
    record_event("faq.deleted", user=user, faq_id=entry.id, topic=entry.topic,
                 language=entry.language)  # fmt: skip
    db.session.delete(entry)
