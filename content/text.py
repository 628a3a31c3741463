"""Text as loa stores it: NFC, ``\n`` line ends, none of the control characters a paste can carry."""

from __future__ import annotations

import unicodedata

#: NUL, vertical tab, form feed and the like: never meant by an editor, and PostgreSQL refuses NUL.
_CONTROLS = {code: None for code in range(32) if chr(code) not in "\n\t"} | {0x7F: None}


def clean_text(text: str) -> str:
    """``text`` in NFC with line ends as ``\n``, other control characters dropped, surrounding space trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text).translate(_CONTROLS).strip()
