"""Separate what a customer just wrote from the quoted history and signature below it.

German and English mail clients mark quoted history in a handful of ways: "> "
prefixes, an attribution line ("Am 12.11.2026 um 10:14 schrieb Anna Weber:",
"On Tue, 12 Nov 2026, Anna Weber wrote:"), Outlook's "-----Ursprüngliche
Nachricht-----" or its "Von:/Gesendet:/An:/Betreff:" header block, separator
lines, a "-- " signature delimiter and the footers phones add ("Von meinem
iPhone gesendet"). Everything from the first such marker on is history.

A greeting ("Viele Grüße") is deliberately *not* a marker: customers put their
name, address and order number below it, and the agent needs those.
"""

from __future__ import annotations

import re

# Every dated attribution has a digit in it; requiring one keeps a customer's own
# "Am Montag ... schrieb mir der Fahrer:" from counting as history.
_ATTRIBUTION = (
    # "Am 12.11.2026 um 10:14 schrieb Anna Weber <anna@example.com>:"
    re.compile(r"^am\s(?=[^:]*\d).{3,200}?\sschrieb\s.{1,200}:$", re.IGNORECASE),
    # "On Tue, 12 Nov 2026 at 10:14, Anna Weber <anna@example.com> wrote:"
    re.compile(r"^on\s(?=.*\d).{3,200}?\swrote:$", re.IGNORECASE),
    # "Anna Weber <anna@example.com> schrieb am 12.11.2026 10:14:" (GMX, web.de, Apple)
    re.compile(r"^.{1,200}\sschrieb am\s(?=.*\d).{3,100}:$", re.IGNORECASE),
)
#: "Anna Weber schrieb:" is only an attribution when quoted lines follow it.
_BARE_ATTRIBUTION = re.compile(r"^.{1,150}\s(schrieb|wrote)\s?:$", re.IGNORECASE)

_SEPARATOR = re.compile(
    r"^(-{2,}\s*(original message|ursprüngliche nachricht|original-nachricht|"
    r"originalnachricht)\s*-{2,}|_{20,})$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^-{2,}\s*(forwarded message|weitergeleitete nachricht)\s*-*$"
    r"|^(begin forwarded message|anfang der weitergeleiteten (nachricht|e-mail)):$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")
_MOBILE_FOOTER = re.compile(
    r"^(von meinem .{1,60} gesendet|gesendet von (meinem|outlook|mail|yahoo|gmx|web\.de)\b.{0,60}"
    r"|sent from my .{1,60}|sent from (outlook|mail|yahoo mail)\b.{0,40}"
    r"|get outlook for \w+|outlook für \w+ beziehen"
    r"|diese nachricht wurde von meinem .{1,60} gesendet)\.?$",
    re.IGNORECASE,
)
# One line of an Outlook-style header block, also as Outlook's HTML renders it ("*Von:* ...").
_HEADER_LINE = re.compile(
    r"^\*?(von|from|gesendet|sent|datum|date|an|to|cc|kopie|betreff|subject)\s?:\*?\s",
    re.IGNORECASE,
)
_SENDER_LINE = re.compile(r"^\*?(von|from)\s?:\*?\s", re.IGNORECASE)


def split_quoted(text: str) -> tuple[str, str]:
    """Split `text` into (what the sender wrote now, quoted history and signature).

    The cut is made at the first quote marker. A forwarded message at the very top
    is the content, not history, so its forward header is skipped. If cutting
    would leave nothing new (a bare forward, a top-quote with nothing added), the
    whole text is returned as new and the quoted part is empty. Both parts have
    leading and trailing blank lines removed.
    """
    lines = text.split("\n")
    start = _skip_top_forward(lines)
    cut = _first_marker(lines, start)
    # A forward header alone is not something the sender wrote.
    if cut is None or not _strip_blank_lines(lines[start:cut]):
        return _strip_blank_lines(lines), ""
    return _strip_blank_lines(lines[:cut]), _strip_blank_lines(lines[cut:])


def _strip_blank_lines(lines: list[str]) -> str:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])


def _skip_top_forward(lines: list[str]) -> int:
    """Index after a forward marker and its header block, if they open the text; else 0."""
    index = _next_content(lines, 0)
    if index >= len(lines) or not _FORWARD.match(lines[index].strip()):
        return 0
    index = _next_content(lines, index + 1)
    while index < len(lines) and _HEADER_LINE.match(lines[index].strip()):
        index += 1
    return index


def _next_content(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _first_marker(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if _is_marker(lines, index):
            return index
    return None


def _is_marker(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if not line:
        return False
    if line.startswith(">") or _SEPARATOR.match(line) or _FORWARD.match(line):
        return True
    if _SIGNATURE.match(lines[index]) or _MOBILE_FOOTER.match(line):
        return True
    return _is_attribution(lines, index) or _is_header_block(lines, index)


def _is_attribution(lines: list[str], index: int) -> bool:
    # Clients wrap long attributions, typically before the address or before "wrote:",
    # so the line is also tried joined with the one or two lines after it.
    for end in range(index + 1, min(index + 4, len(lines) + 1)):
        if not lines[end - 1].strip():
            break
        joined = " ".join(part.strip() for part in lines[index:end])
        if any(pattern.match(joined) for pattern in _ATTRIBUTION):
            return True
    if _BARE_ATTRIBUTION.match(lines[index].strip()):
        following = _next_content(lines, index + 1)
        return following < len(lines) and lines[following].lstrip().startswith(">")
    return False


def _is_header_block(lines: list[str], index: int) -> bool:
    """Two or more header lines in a row, one of them naming the sender ("Von:", "From:").

    Outlook starts with "Von:", GMX and web.de with "Gesendet:"; either way a
    sender line is part of the block, which a customer's own "Betreff:" is not.
    """
    end = index
    while end < len(lines) and _HEADER_LINE.match(lines[end].strip()):
        end += 1
    block = [line.strip() for line in lines[index:end]]
    return len(block) >= 2 and any(_SENDER_LINE.match(line) for line in block)
