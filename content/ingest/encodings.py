"""Turns the bytes of a text file into Unicode NFC Vietnamese, detecting UTF-8/16, Windows-1258, TCVN3 and VNI."""

from __future__ import annotations

import codecs
import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass

from content.errors import InputError

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

_VOWEL_MARKS = {"\u0302": "aeo", "\u0306": "a", "\u031b": "ou"}  # circumflex, breve, horn
_TONE_SET = set(_TONES)
_WORD = re.compile(r"[^\W\d_]+")
_JUNK = re.compile(r"[\u0080-\u00bf]")  # symbols (¸ µ ¶ « ¬ soft hyphen …) legacy text shows when misread

ENCODING_NAMES = {
    "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "cp1258": "Windows-1258",
    "tcvn3": "TCVN3 (ABC)", "vni": "VNI", "ascii": "ASCII",
}


@dataclass(frozen=True)
class Decoded:
    """Text in NFC and what was done to get it, for the editor to check."""

    text: str
    encoding: str           # a key of ENCODING_NAMES
    composed: int = 0       # characters that arrived decomposed (NFD) and were composed
    notes: tuple[str, ...] = ()

    @property
    def converted(self) -> bool:
        return self.encoding in ("cp1258", "tcvn3", "vni") or self.composed > 0 or bool(self.notes)

    def report(self) -> str:
        """One line saying what was converted, e.g. ``converted from VNI to Unicode (NFC)``."""
        parts = []
        if self.encoding in ("cp1258", "tcvn3", "vni"):
            parts.append(f"converted from {ENCODING_NAMES[self.encoding]} to Unicode (NFC)")
        else:
            parts.append(f"read as {ENCODING_NAMES[self.encoding]}")
        if self.composed:
            parts.append(f"{self.composed} decomposed (NFD) letters composed to NFC")
        parts.extend(self.notes)
        return "; ".join(parts)


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
    return _vni_decode(data)[0]


def _vni_decode(data: bytes | str) -> tuple[str, int]:
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
            if not vowel_mark or previous.lower() in _VOWEL_MARKS[vowel_mark]:
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
        tone = next((m for m in marks if m in _TONE_SET), "")
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
            tone = next((m for m in parts if m in _TONE_SET), "")
            base = unicodedata.normalize("NFC", parts.replace(tone, ""))
            out.extend((base + tone).encode("cp1258"))
    return bytes(out)


# Vowel nuclei of Vietnamese syllables, without tone marks.
_NUCLEI_TEXT = ("a ă â e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iê iu oa oă oai oao oay oe oeo oi ôi ơi "
                "oo ua uâ uây uê ui uô uôi uơ uy uya uyê uyu ưa ưi ươ ươi ươu ưu yê yêu iêu uă ue uo uao uai uôu")
_NUCLEI = frozenset(_NUCLEI_TEXT.split())
_VOWEL_RUN = re.compile(r"[aeiouyăâêôơư]+")


@functools.lru_cache(maxsize=65536)  # documents repeat their words; the check is the cost of detection
def is_vietnamese_word(word: str) -> bool:
    """Whether ``word`` is spelled as a Vietnamese syllable: marks only where they belong, one tone, and
    one vowel group that Vietnamese has."""
    tones = 0
    base = ""
    bare: list[str] = []
    for char in unicodedata.normalize("NFD", word):
        if unicodedata.combining(char):
            if char in _TONE_SET:
                tones += 1
                if not base or base not in "aeiouy":
                    return False
            elif char in _VOWEL_MARKS:
                if not base or base not in _VOWEL_MARKS[char]:
                    return False
                bare[-1] = unicodedata.normalize("NFC", bare[-1] + char)
            else:
                return False
            continue
        base = char.lower()
        if not (base.isascii() and base.isalpha()) and base != "đ":
            return False
        bare.append(base)
    composed = unicodedata.normalize("NFC", word)
    if any(a.islower() and b.isupper() for a, b in itertools.pairwise(composed)):
        return False  # a capital after a small letter: "khÝch" is a misreading, not a word
    letters = "".join(bare)
    if letters.startswith(("gi", "qu")) and len(letters) > 2 and _VOWEL_RUN.match(letters[2]):
        letters = letters[2:]  # the i of gi- and the u of qu- belong to the onset
    runs = _VOWEL_RUN.findall(letters)
    if not runs:
        return letters == "đ"  # every syllable has a vowel; a lone đ is the currency (5.000đ)
    return tones <= 1 and len(runs) == 1 and runs[0] in _NUCLEI


def problems(text: str) -> tuple[int, int, list[str]]:
    """(non-ASCII words, words or symbols that are not Vietnamese, a few examples of them)."""
    bad: list[str] = [m.group() for m in _JUNK.finditer(text)]
    count = 0
    for match in _WORD.finditer(text):
        word = match.group()
        if word.isascii():
            continue
        count += 1
        if not is_vietnamese_word(word):
            bad.append(word)
    return count, len(bad), bad[:3]


def _acceptable(text: str) -> bool:
    words, bad, _ = problems(text)
    return bad <= max(0, (words + bad) // 50)  # a stray symbol per fifty words is tolerated


_SAMPLE = 32 * 1024  # bytes enough to tell the encodings apart; the whole text is checked once chosen


def _read_as(name: str, data: bytes) -> tuple[str, int] | None:
    """``data`` read in one legacy encoding, with the count of bytes that reading leaves unexplained."""
    if name == "vni":
        text, left = _vni_decode(data)
    elif name == "tcvn3":
        text, left = tcvn3_decode(data), sum(1 for byte in data if byte >= 0x80 and byte not in TCVN3_DECODE)
    else:
        try:
            text, left = data.decode("cp1258"), 0
        except UnicodeDecodeError:  # bytes Windows-1258 leaves undefined
            return None
    return unicodedata.normalize("NFC", text), left


def _choose(data: bytes, names: tuple[str, ...] = ("vni", "tcvn3", "cp1258")) -> tuple[str, str, bool]:
    """The most Vietnamese reading of ``data`` (a tie goes to the earlier name: VNI, then TCVN3, as
    Windows-1258 files are rare in Vietnamese offices), and whether it is Vietnamese enough."""
    sample = data if len(data) <= _SAMPLE else data[:data.rfind(b" ", 0, _SAMPLE) + 1 or _SAMPLE]
    scored = []
    for index, name in enumerate(names):
        reading = _read_as(name, sample)
        if reading is not None:
            words, bad, _ = problems(reading[0])
            scored.append((bad + reading[1], index, name, reading, words))
    bad, _, name, reading, words = min(scored)
    if sample is not data:
        reading = _read_as(name, data)
        if reading is None:
            return name, "", False
        words, bad, _ = problems(reading[0])
        bad += reading[1]
    return name, reading[0], bad <= (words + bad) // 50  # a stray symbol per fifty words is tolerated


def _utf16_without_bom(data: bytes) -> str | None:
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = len(data) // 2
    for zeros, codec in ((odd, "utf-16-le"), (even, "utf-16-be")):
        if zeros > half * 0.3:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                return None
            controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t")
            return text if controls == 0 else None
    return None


def decode_text(data: bytes, *, where: str, encoding: str | None = None) -> Decoded:
    """Detect the encoding of ``data`` (or use ``encoding``, a key of ENCODING_NAMES) and return its text
    in NFC, or InputError saying why not."""
    if encoding is not None:
        return _named(data, encoding, where)
    if data.startswith(codecs.BOM_UTF8):
        return _finish(_strict(data[3:], "utf-8", where), "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _finish(_strict(data, "utf-16", where), "utf-16")
    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is None:
            raise InputError("this is a binary file, not text (it contains NUL bytes)", where=where)
        return _finish(text, "utf-16")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _legacy(data, where)
    decoded = _finish(text, "ascii" if text.isascii() else "utf-8")
    return repair(decoded)


def repair(decoded: Decoded) -> Decoded:
    """Unicode text typed in a VNI or TCVN3 font (as .docx files from old offices hold it), converted."""
    if _acceptable(decoded.text):
        return decoded
    try:
        raw = decoded.text.encode("cp1252")
    except UnicodeEncodeError:
        return decoded
    name, text, good = _choose(raw, ("vni", "tcvn3"))
    if not good:
        return decoded
    font = ENCODING_NAMES[name]
    return Decoded(text, name, decoded.composed, (*decoded.notes, f"the text was typed in a {font} font"))


def _legacy(data: bytes, where: str) -> Decoded:
    name, text, good = _choose(data)
    if good:
        return Decoded(text, name, 0)
    _, bad, examples = problems(text)
    guess = _charset_guess(data)
    shown = ", ".join(repr(e) for e in examples)
    raise InputError(
        f"not UTF-8, and read as Windows-1258, VNI or TCVN3 it still has {bad} words that are not Vietnamese "
        f"(e.g. {shown}){guess}; save it as Unicode (UTF-8) and load it again", where=where)


def _charset_guess(data: bytes) -> str:
    from charset_normalizer import from_bytes

    match = from_bytes(data).best()
    if match is None:
        return ""
    return f"; it looks like {match.encoding} text"


def _strict(data: bytes, codec: str, where: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        raise InputError(f"not valid {codec.upper()} text (byte {error.start})", where=where) from None


def _finish(text: str, encoding: str) -> Decoded:
    return Decoded(unicodedata.normalize("NFC", text), encoding, _decomposed_letters(text))


def _decomposed_letters(text: str) -> int:
    """How many letters of ``text`` are written as a base letter followed by combining marks."""
    if unicodedata.is_normalized("NFC", text):
        return 0
    count, previous_combining = 0, True
    for char in text:
        combining = bool(unicodedata.combining(char))
        if combining and not previous_combining:
            count += 1
        previous_combining = combining
    return count


def _named(data: bytes, encoding: str, where: str) -> Decoded:
    if encoding == "vni":
        return _finish(vni_decode(data), "vni")
    if encoding == "tcvn3":
        return _finish(tcvn3_decode(data), "tcvn3")
    if encoding not in ENCODING_NAMES:
        raise InputError(f"unknown encoding {encoding!r}; use one of {', '.join(ENCODING_NAMES)}", where="--encoding")
    return _finish(_strict(data, encoding, where), encoding)
