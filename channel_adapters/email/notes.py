"""The defect collector shared by the e-mail parsing modules.

Parsing never fails on broken mail; it degrades and writes down what it had to
work around. One `Notes` travels through a whole parse (headers, charsets, the
MIME walk) and ends up in the message's `metadata["defects"]` and
`metadata["charset_fallback"]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Notes:
    """What went wrong while reading, for `metadata`."""

    defects: list[str] = field(default_factory=list)
    charset_guessed: bool = False

    def defect(self, text: str) -> None:
        if text not in self.defects:
            self.defects.append(text)
