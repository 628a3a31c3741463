"""Turns the bytes of a text file into Unicode NFC Vietnamese, detecting UTF-8/16, Windows-1258, TCVN3 and VNI."""

from __future__ import annotations

import codecs
import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass

from content.errors import InputError
from content.ingest.legacy import (
    TCVN3_DECODE,
    TONES,
    VOWEL_MARKS,
    tcvn3_decode,
    vni_decode,
    vni_decode_counted,
)

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
            if char in TONES:
                tones += 1
                if not base or base not in "aeiouy":
                    return False
            elif char in VOWEL_MARKS:
                if not base or base not in VOWEL_MARKS[char]:
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
        text, left = vni_decode_counted(data)
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
        "not UTF-8, and read as Windows-1258, VNI or TCVN3 it still has {bad} words that are not Vietnamese "
        "(e.g. {shown}){guess}; save it as Unicode (UTF-8) and load it again", where=where, bad=bad, shown=shown,
        guess=guess)


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
        raise InputError("not valid {codec} text (byte {byte})", where=where, codec=codec.upper(),
                         byte=error.start) from None


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
        raise InputError("unknown encoding {encoding!r}; use one of {names}", where="--encoding", encoding=encoding,
                         names=", ".join(ENCODING_NAMES))
    return _finish(_strict(data, encoding, where), encoding)
