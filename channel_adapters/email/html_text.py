"""Readable plain text from the HTML of an e-mail, for mail that came without a text part.

This is not a browser: it keeps what a support agent needs to read (paragraphs,
line breaks, list items, link texts, quoted history) and drops what a mail
client would not show (scripts, styles, the document title). Quoted history in
`<blockquote>` comes out prefixed with "> ", so `split_quoted` recognises it
just as in plain-text mail.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# fmt: off
#: Elements that start and end a line of their own.
_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "center", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
    "tbody", "thead", "tfoot", "tr", "ul",
})
#: Blocks that browsers render with space around them; they become paragraphs.
_PARAGRAPH = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "hr", "dl",
})
# fmt: on
#: Elements whose content is never shown to the reader.
_HIDDEN = frozenset({"script", "style", "title", "template", "xml", "noscript"})
_CELLS = frozenset(("td", "th"))
_WHITESPACE = re.compile(r"[ \t\n\r\f\v\xa0]+")


def html_to_text(html: str) -> str:
    """Return the text a reader sees in `html`, with line structure kept.

    Block elements and `<br>` become line breaks, paragraphs are separated by one
    blank line, list items start with "- ", links keep their text, scripts and
    styles are dropped, entities are decoded, runs of whitespace collapse to one
    space, and text inside `<blockquote>` is prefixed with "> ". Never raises on
    malformed markup.
    """
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return extractor.text()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[tuple[int, str]] = []  # finished lines with their quote depth
        self._line: list[str] = []
        self._line_depth = 0
        self._pending_breaks = 0  # line breaks asked for since the last text
        self._hidden = 0
        self._pre = 0
        self._quote = 0
        self._lists = 0
        self._bullet = ""  # written before the next text of a list item
        self._open: list[tuple[str, int]] = []  # open block elements and their line breaks

    # -- parser callbacks ------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self._break(1, force=True)
        elif tag in _BLOCK:
            breaks = self._block_breaks(tag, attrs)
            self._open.append((tag, breaks))
            self._break(breaks)
            if tag == "blockquote":
                self._quote += 1
            elif tag == "pre":
                self._pre += 1
            elif tag in ("ul", "ol"):
                self._lists += 1
            elif tag == "li":
                self._bullet = "  " * max(self._lists - 1, 0) + "- "
        elif tag in _CELLS:
            self._write(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # `<br/>` and friends: a self-closed hidden element hides nothing.
        if tag not in _HIDDEN:
            self.handle_starttag(tag, attrs)
            if tag in _BLOCK:
                self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in _BLOCK:
            if tag == "blockquote":
                self._break(2)
                self._quote = max(self._quote - 1, 0)
            elif tag == "pre":
                self._pre = max(self._pre - 1, 0)
            elif tag in ("ul", "ol"):
                self._lists = max(self._lists - 1, 0)
            self._break(self._close(tag))

    def _close(self, tag: str) -> int:
        """Pop the open block `tag` (and anything left unclosed inside it); its line breaks."""
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                breaks = self._open[index][1]
                del self._open[index:]
                return breaks
        return 1  # a stray end tag still ends a line

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre:
            first, *rest = data.replace("\r\n", "\n").split("\n")
            self._write(first, keep_spaces=True)
            for line in rest:
                self._break(1, force=True)
                self._write(line, keep_spaces=True)
        elif "\xa0" in data and not data.strip(" \t\n\r\f\v\xa0"):
            self._write("", keep_spaces=True)  # "<p>&nbsp;</p>" is how Outlook writes a blank line
        else:
            self._write(_WHITESPACE.sub(" ", data))

    # -- building lines --------------------------------------------------------------
    def _block_breaks(self, tag: str, attrs: list[tuple[str, str | None]]) -> int:
        # Outlook writes every line as <p class=MsoNormal> with zero margins; treating
        # those as paragraphs would put a blank line after every line of the mail.
        if tag == "p" and "msonormal" in (dict(attrs).get("class") or "").lower():
            return 1
        if tag in ("ul", "ol") and self._lists:
            return 1  # a nested list continues its parent item
        return 2 if tag in _PARAGRAPH else 1

    def _break(self, count: int, *, force: bool = False) -> None:
        """Ask for `count` line breaks before the next text; `force` adds to what is asked."""
        if force:
            self._pending_breaks += count
        else:
            self._pending_breaks = max(self._pending_breaks, count)

    def _write(self, text: str, *, keep_spaces: bool = False) -> None:
        if not keep_spaces and (not text or (text == " " and not self._line)):
            return
        if self._pending_breaks:
            self._finish_line()
            # A blank line between quoted and unquoted text belongs to the outer level.
            depth = min(self._line_depth, self._quote)
            self._lines.extend([(depth, "")] * (self._pending_breaks - 1))
            self._pending_breaks = 0
        if not self._line:
            self._line_depth = self._quote
            if not keep_spaces:
                text = text.lstrip(" ")
            if self._bullet and text.strip():
                text, self._bullet = self._bullet + text, ""
        elif not keep_spaces and text.startswith(" ") and self._line[-1].endswith(" "):
            text = text[1:]
        self._line.append(text)

    def _finish_line(self) -> None:
        self._lines.append((self._line_depth, "".join(self._line).rstrip()))
        self._line = []

    def text(self) -> str:
        """The collected text: quote prefixes added, at most one blank line in a row."""
        if self._line:
            self._finish_line()
        out: list[str] = []
        for depth, line in self._lines:
            rendered = ("> " * depth + line).rstrip() if depth else line
            if not line and out and not out[-1].lstrip("> "):
                continue  # collapse runs of blank lines, quoted or not
            out.append(rendered)
        return "\n".join(out).strip("\n")
