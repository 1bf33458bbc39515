"""Names for Messenger and Instagram customers, looked up by the worker.

A Messenger or Instagram DM carries only the sender's scoped id, so the inbox would show
"1234567890123456". The worker asks the Graph API once per new identity, outside the
webhook's answer: Messenger's User Profile API `GET /{version}/{psid}?fields=first_name,
last_name` and Instagram's `GET /{version}/{igsid}?fields=name,username`, with the token
that sends replies. `display_name` NULL means "not asked yet"; an answer without a name,
or a refusal that asking again would not change (no permission, a user who blocked the
page), leaves "" so nobody is asked twice; timeouts, 5xx and rate limits wait for the
next run. A name fills `Customer.name` only where nobody has written one.
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import select

from channel_adapters.base import SendError
from channel_adapters.social.common import get_json
from helpdesk.extensions import db
from helpdesk.models import Customer, CustomerIdentity
from helpdesk.services.social_send import adapter_config

log = logging.getLogger(__name__)

#: What each platform's profile answer is asked for.
FIELDS = {"messenger": "first_name,last_name", "instagram": "name,username"}
PLATFORMS = {"messenger": "Messenger", "instagram": "Instagram"}


def lookup_names(limit: int = 50) -> Counter:
    """Ask for the names of up to `limit` identities not asked yet, newest first; counts
    of "named", "nameless", "refused" and "later"."""
    configs = {kind: adapter_config(kind) for kind in FIELDS}
    kinds = [kind for kind, config in configs.items() if config]
    counts: Counter = Counter()
    if not kinds:
        return counts
    wanted = db.session.execute(
        select(CustomerIdentity.id, CustomerIdentity.kind, CustomerIdentity.value)
        .where(CustomerIdentity.kind.in_(kinds), CustomerIdentity.display_name.is_(None))
        .order_by(CustomerIdentity.id.desc())
        .limit(limit)
    ).all()
    db.session.commit()  # nothing stays open while the platform answers
    found: dict[int, str] = {}
    for identity_id, kind, value in wanted:
        try:
            name = _ask(configs[kind], kind, value)
        except SendError as error:
            if error.retryable:
                counts["later"] += 1
                continue
            log.info("%s %s: no name (%s)", PLATFORMS[kind], value, error)
            name, outcome = "", "refused"
        else:
            outcome = "named" if name else "nameless"
        found[identity_id] = name
        counts[outcome] += 1
    for identity_id, name in found.items():
        identity = db.session.get(CustomerIdentity, identity_id)
        if identity is None or identity.display_name is not None:
            continue  # merged away, or named meanwhile
        identity.display_name = name
        customer = db.session.get(Customer, identity.customer_id)
        if name and customer is not None and not customer.name:
            customer.name = name
    return counts


def _ask(config: dict, kind: str, user_id: str) -> str:
    base = config["api_base"].rstrip("/")
    answer = get_json(
        f"{base}/{config['graph_version']}/{user_id}",
        params={"fields": FIELDS[kind]},
        headers={"Authorization": f"Bearer {config['access_token']}"},
        platform=PLATFORMS[kind],
    )
    if kind == "messenger":
        parts = [answer.get("first_name"), answer.get("last_name")]
        return " ".join(str(p).strip() for p in parts if p and str(p).strip())[:200]
    name = answer.get("name") or answer.get("username") or ""
    return str(name).strip()[:200]
