"""loa's own tables for the legacy Vietnamese font encodings TCVN3 (ABC) and VNI, and Windows-1258 writing."""

from __future__ import annotations

import re
import unicodedata

# --- TCVN3 (ABC, fonts .VnTime/.VnTimeH): one byte per letter; capitals with tone marks do not
# exist (a capitals font draws the lower-case codes as capitals), so they decode to lower case.
_TCVN3_LETTERS = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
}
# Tone rows: grave, hook, tilde, acute, dot below (TCVN3 orders them this way in every row).
_TCVN3_ROWS = {
    "a": (0xB5, 0xB6, 0xB7, 0xB8, 0xB9), "ă": (0xBB, 0xBC, 0xBD, 0xBE, 0xC6), "â": (0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": (0xCC, 0xCE, 0xCF, 0xD0, 0xD1), "ê": (0xD2, 0xD3, 0xD4, 0xD5, 0xD6), "i": (0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (0xDF, 0xE1, 0xE2, 0xE3, 0xE4), "ô": (0xE5, 0xE6, 0xE7, 0xE8, 0xE9), "ơ": (0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": (0xEF, 0xF1, 0xF2, 0xF3, 0xF4), "ư": (0xF5, 0xF6, 0xF7, 0xF8, 0xF9), "y": (0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
_TONES = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # grave, hook, tilde, acute, dot below
TCVN3_DECODE: dict[int, str] = dict(_TCVN3_LETTERS)
for _base, _codes in _TCVN3_ROWS.items():
    for _code, _tone in zip(_codes, _TONES, strict=True):
        TCVN3_DECODE[_code] = unicodedata.normalize("NFC", _base + _tone)
TCVN3_ENCODE = {letter: code for code, letter in TCVN3_DECODE.items()}
# Bytes outside the table read as Windows-1252, through one str.translate over the Latin-1 reading.
_TCVN3_TABLE = {b: TCVN3_DECODE.get(b) or bytes([b]).decode("cp1252", "replace") for b in range(0x80, 0x100)}

# --- VNI (fonts VNI-Times…): a base letter followed by a mark character; a few letters are one byte.
# Marks are written as Windows-1252 characters; the upper-case mark goes with an upper-case letter.
_VNI_MARKS = {  # lower-case mark character -> (vowel mark, tone)
    "ø": ("", "\u0300"), "ù": ("", "\u0301"), "û": ("", "\u0309"), "õ": ("", "\u0303"), "ï": ("", "\u0323"),
    "â": ("\u0302", ""), "á": ("\u0302", "\u0301"), "à": ("\u0302", "\u0300"), "å": ("\u0302", "\u0309"),
    "ã": ("\u0302", "\u0303"), "ä": ("\u0302", "\u0323"),
    "ê": ("\u0306", ""), "é": ("\u0306", "\u0301"), "è": ("\u0306", "\u0300"), "ú": ("\u0306", "\u0309"),
    "ü": ("\u0306", "\u0303"), "ë": ("\u0306", "\u0323"),
}
_VNI_SINGLE = {  # lower-case character standing alone -> the Vietnamese letter
    "ô": "ơ", "ö": "ư", "ñ": "đ", "ì": "ì", "í": "í", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",
}
_VNI_TAKES_MARK = set("aeiouy") | {"ơ", "ư"}
VNI_MARK_OF = {marks: char for char, marks in _VNI_MARKS.items()}
VNI_SINGLE_OF = {letter: char for char, letter in _VNI_SINGLE.items()}

VOWEL_MARKS = {"\u0302": "aeo", "\u0306": "a", "\u031b": "ou"}  # circumflex, breve, horn: the vowels they go on
TONES = frozenset(_TONES)
_WORD = re.compile(r"[^\W\d_]+")


def tcvn3_decode(data: bytes) -> str:
    """TCVN3 bytes to Unicode; a word typed in a capitals font comes back in capitals."""
    return _WORD.sub(_recapitalise, data.decode("latin-1").translate(_TCVN3_TABLE))


def _recapitalise(match: re.Match[str]) -> str:
    word = match.group()
    ascii_letters = [c for c in word if c.isascii()]
    if len(ascii_letters) >= 1 and all(c.isupper() for c in ascii_letters) and len(word) > 1:
        return word.upper()
    return word


def tcvn3_encode(text: str) -> bytes:
    """Unicode to TCVN3 (capitals with tone marks become the lower-case code, as a capitals font shows them)."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        code = TCVN3_ENCODE.get(char)
        if code is None and char.lower() != char:
            code = TCVN3_ENCODE.get(char.lower())
        out.extend(bytes([code]) if code is not None else char.encode("cp1252"))
    return bytes(out)


def vni_decode(data: bytes | str) -> str:
    """VNI bytes (or their Windows-1252 reading) to Unicode NFC."""
    return vni_decode_counted(data)[0]


def vni_decode_counted(data: bytes | str) -> tuple[str, int]:
    """The text, and how many mark characters stood after no vowel or in the other case than their vowel
    (never so in real VNI text)."""
    chars = data.decode("cp1252", "replace") if isinstance(data, bytes) else data
    out: list[str] = []
    leftovers = 0
    for char in chars:
        lower = char.lower()
        previous = out[-1] if out else ""
        if lower in _VNI_MARKS and previous.lower() in _VNI_TAKES_MARK:
            vowel_mark, tone = _VNI_MARKS[lower]
            if not vowel_mark or previous.lower() in VOWEL_MARKS[vowel_mark]:
                out[-1] = unicodedata.normalize("NFC", previous + vowel_mark + tone)
                leftovers += (char == lower) != (previous == previous.lower())  # VNI marks follow the case
                continue
        if lower in _VNI_SINGLE:
            letter = _VNI_SINGLE[lower]
            out.append(letter.upper() if char != lower else letter)
            continue
        leftovers += lower in _VNI_MARKS
        out.append(char)
    return "".join(out), leftovers


def vni_encode(text: str) -> bytes:
    """Unicode to VNI bytes, the way a VNI keyboard and font store it."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        lower, upper = char.lower(), char != char.lower()
        if lower in VNI_SINGLE_OF:
            single = VNI_SINGLE_OF[lower]
            out.append(single.upper() if upper else single)
            continue
        parts = unicodedata.normalize("NFD", lower)
        base, marks = parts[0], parts[1:]
        horn = "\u031b" in marks
        vowel_mark = next((m for m in marks if m in ("\u0302", "\u0306")), "")
        tone = next((m for m in marks if m in TONES), "")
        if horn:  # ơ and ư are single VNI characters that take a tone mark after them
            base = VNI_SINGLE_OF["ơ" if base == "o" else "ư"]
        elif base == "i" and tone:
            base = VNI_SINGLE_OF[unicodedata.normalize("NFC", "i" + tone)]
            tone = ""
        elif base == "y" and tone == "\u0323":
            base, tone = VNI_SINGLE_OF["ỵ"], ""
        mark = VNI_MARK_OF.get((vowel_mark, tone), "") if (vowel_mark or tone) else ""
        if (vowel_mark or tone) and not mark:
            mark = char  # not a Vietnamese letter: keep it (it may not fit in VNI; encode below says so)
            base = ""
        out.append((base.upper() if upper else base) + (mark.upper() if upper else mark))
    return "".join(out).encode("cp1252")


def windows1258_encode(text: str) -> bytes:
    """Unicode to Windows-1258: letters it lacks are written as the letter without tone plus a combining tone."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out.extend(char.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            tone = next((m for m in parts if m in TONES), "")
            base = unicodedata.normalize("NFC", parts.replace(tone, ""))
            out.extend((base + tone).encode("cp1258"))
    return bytes(out)
