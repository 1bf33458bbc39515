"""Turning the bytes of an e-mail into text, however they are labelled.

Undoes transfer encodings (including damaged base64), maps the charset labels
mail actually uses onto Python codecs, corrects the usual mislabels and guesses
when the label is missing or wrong. Every function here degrades instead of
failing and records what it had to work around in a `Notes`.
"""

from __future__ import annotations

import binascii
import codecs
import re
from email.message import Message

import charset_normalizer

from channel_adapters.email.notes import Notes

_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=\r\n]")
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]+")
_TRANSFER_ENCODINGS = frozenset(
    {"", "7bit", "8bit", "binary", "quoted-printable", "x-uuencode", "uuencode", "x-uue", "uue"}
)
_SURROGATE = re.compile(r"[\udc80-\udcff]")
#: Labels mail uses that Python does not know, and labels whose real-world use is a
#: superset, decoded as browsers do (WHATWG Encoding Standard): text labelled GB2312
#: is in practice GBK, EUC-KR is Windows-949, Shift_JIS is Windows-31J.
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",  # "-i"/"-e" only mark the text direction
    "iso-8859-6-i": "iso-8859-6",
    "iso-8859-6-e": "iso-8859-6",
    "iso-8859-8-e": "iso-8859-8",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-mac-roman": "mac-roman",
    "windows-874": "cp874",
    "unicode-1-1-utf-7": "utf-7",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
}
#: Codecs Python knows that no mail client means: they would interpret the bytes as code.
_REFUSED_CODECS = frozenset({"unicode_escape", "raw_unicode_escape", "idna", "punycode"})


def payload_bytes(part: Message, encoding: str, notes: Notes) -> bytes:
    """The part's content with its transfer `encoding` undone; never raises."""
    if encoding == "base64":
        # Base64 text is ASCII, so the undecoded payload is exact; the stdlib's own
        # decoder returns the encoded text unchanged when it meets damage.
        payload = str(part.get_payload())
        if _looks_like_base64(payload):
            return b64decode_lenient(payload.encode("ascii", "ignore"), notes)
        notes.defect("declared base64 but is not")
        return payload.encode("utf-8", "surrogateescape")
    if encoding not in _TRANSFER_ENCODINGS:
        notes.defect(f"unknown transfer encoding {encoding[:30]!r}")
    try:
        # Only with decode=True does the stdlib hand back 8-bit bytes as they came;
        # without it, it decodes them by the declared charset and replaces the rest.
        decoded = part.get_payload(decode=True)
    except Exception as error:  # a header the modern policy cannot read
        notes.defect(f"payload not decodable ({type(error).__name__})")
        decoded = str(part.get_payload()).encode("utf-8", "replace")
    return decoded if isinstance(decoded, bytes) else b""


def _looks_like_base64(payload: str) -> bool:
    """False for text that only claims to be base64: it has spaces and punctuation inside lines."""
    foreign = len(_NOT_BASE64.findall(payload))
    return foreign <= 0.05 * len(payload)


def b64decode_lenient(data: bytes, notes: Notes | None = None) -> bytes:
    """Decode what is intact of damaged base64: stray characters, missing or inner padding.

    Some senders pad every line, some truncate the last group; each run between
    padding is decoded on its own and an incomplete last group is dropped.
    """
    out = bytearray()
    for run in _BASE64_RUN.findall(re.sub(rb"[^A-Za-z0-9+/=]", b"", data)):
        remainder = len(run) % 4
        if remainder == 1:
            run = run[:-1]
            if notes:
                notes.defect("truncated base64")
        out += binascii.a2b_base64(run + b"=" * (-len(run) % 4))
    return bytes(out)


#: Declared charsets that senders routinely get wrong: text labelled ASCII or
#: ISO-8859-1 is in practice often UTF-8 or Windows-1252 (€, typographic quotes).
#: Browsers read both labels as Windows-1252 for the same reason (WHATWG).
_MISLABELLED = frozenset({"ascii", "iso8859-1"})
#: Non-ASCII characters of German, English and neighbouring languages, as Windows-1252
#: decodes them; text made mostly of these is Western European.
_WESTERN = frozenset("äöüÄÖÜßéèêëàâáíìîïóòôúùûçñÉÈÊÀÂÇÑåÅæÆøØœŒãõÃÕ€„“”‚‘’–—…•°§²³½¼«»·×©®™¡¿\xa0")


def decode_bytes(data: bytes, charset: str | None, notes: Notes, *, short: bool = False) -> str:
    """Decode text by its declared charset, correcting the usual mislabels, else guess.

    `short` marks header fragments, too short for statistical guessing.
    """
    codec = _codec(charset)
    if codec in _MISLABELLED:
        if data.isascii():
            return data.decode("ascii")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return _cp1252(data)
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):  # LookupError: not a text codec ("base64")
            notes.defect(f"text is not valid {codec}")
    elif charset:
        notes.defect(f"unknown charset {charset[:40]!r}")
    return _guess(data, notes, short=short)


def from_raw_bytes(value: str, notes: Notes) -> str:
    """Undo the parser's surrogate escapes: 8-bit bytes in headers, charset undeclared."""
    if not _SURROGATE.search(value):
        return value
    notes.defect("undeclared 8-bit header")
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _mostly_utf8(data) or _cp1252(data)


def _codec(charset: str | None) -> str | None:
    """Python's codec name for a declared charset; None if missing, unknown or refused."""
    name = (charset or "").strip().strip("\"'").split("*")[0].strip().lower()
    name = name.removeprefix("charset=")  # seen in the wild: charset="charset=us-ascii"
    if not name:
        return None
    try:
        codec = codecs.lookup(_CHARSET_ALIASES.get(name, name)).name
    except LookupError:
        return None
    return None if codec in _REFUSED_CODECS else codec


def _guess(data: bytes, notes: Notes, *, short: bool) -> str:
    """Decode text whose charset is undeclared or wrong.

    UTF-8 is unambiguous, so it is tried first, then UTF-8 with a few damaged
    sequences. charset-normalizer is unreliable on short German text (it reads
    "Grüße" as Big5), so text that reads as plausible Western European in
    Windows-1252 is taken as that before asking it. Body text that needed any of
    this is flagged (`metadata["charset_fallback"]`); headers are too short to guess.
    """
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    western = _cp1252(data)
    if short:
        return _mostly_utf8(data) or western
    notes.charset_guessed = True
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return mostly
    if _looks_western(western):
        return western
    best = charset_normalizer.from_bytes(data).best()
    return str(best) if best is not None else western


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few damaged sequences (a name cut off mid-character), else None.

    Many valid multi-byte characters against few errors cannot happen by chance in
    a single-byte charset; "Frösche" in Latin-1 has no valid sequence at all.
    """
    text = data.decode("utf-8", "replace")
    errors = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    valid = sum(1 for char in text if ord(char) > 127) - text.count("\ufffd")
    return text if valid >= 4 * errors else None


def _looks_western(text: str) -> bool:
    unusual = [char for char in text if ord(char) > 127]
    return sum(char in _WESTERN for char in unusual) >= 0.9 * len(unusual)


def _cp1252(data: bytes) -> str:
    """Windows-1252, with its five undefined bytes read as ISO-8859-1: never fails."""
    text = data.decode("cp1252", "surrogateescape")
    return _SURROGATE.sub(lambda match: chr(ord(match.group()) - 0xDC00), text)
