"""Customer HTML made safe to show in the agent's browser."""

from __future__ import annotations

import nh3

# Remote images are tracking pixels as often as content; inline (cid:) and data
# images are kept, remote ones are dropped until an agent asks for them.
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}


def sanitise_html(html: str | None) -> str | None:
    """Strip scripts, event handlers, styles that escape the box, and dangerous URLs."""
    if not html:
        return None
    return nh3.clean(
        html,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_drop_remote_images,
    )


def _drop_remote_images(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and value.lower().startswith(("http:", "https:")):
        return None
    if (
        attribute == "src"
        and value.lower().startswith("data:")
        and not value.lower().startswith("data:image/")
    ):
        return None
    return value
