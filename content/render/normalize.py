"""Turns Vietnamese text as plans write it into the words a speech engine should read aloud.

Telephone numbers, numbers, dates, times and hour ranges, ranges, percentages, units and rates, Roman
numerals, document numbers and the abbreviations of public administration are written out, one output
line per input line, NFC.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import resources

from content.render.numbers import cardinal, day, month, number, ordinal, roman
from content.render.phones import read_phone_numbers

#: Part of every rendition key: bump it when the output of ``normalize`` changes for any input.
VERSION = "3"

_NUM = r"\d+(?:[.,]\d+)*"
_CODE = r"[A-ZĐ][A-Za-zĐđ&]*(?:-[A-Za-zĐđ&]+)*"
# 1373/QĐ-TTg · 49/2021/NĐ-CP · 49-KL/TW · 231/KH-UBND
_DOCUMENT = re.compile(rf"(?<![\w/.,])(\d+)(?:/(\d{{4}}))?[/-]({_CODE})(?:/({_CODE}))?(?![\w/])")
_TIME_H = re.compile(r"(?<![\w.,/])(\d{1,2})\s?h\s?(\d{2})?(?:ph|p|')?(?!\w)")
_TIME_COLON = re.compile(r"(?<![\w.,/:])(\d{1,2}):(\d{2})(?![\d:])")
# 7h-11h · 7h30 - 11h · 7-11h · 7:30-11:00: the second end says it is a time, the first may not
_CLOCK = r"(\d{1,2})(?:\s?h\s?(\d{2})?(?:ph|p|')?|:(\d{2}))"
_TIME_RANGE = re.compile(rf"(?<![\w.,/:])(?:{_CLOCK}|(\d{{1,2}}))\s*[-–—]\s*{_CLOCK}(?![\w:])")
_DATE_FULL = re.compile(r"(?<![\w/.,])(?:(ngày)\s+)?(\d{1,2})([/.-])(\d{1,2})\3(\d{4})(?![\d/])", re.I)
_DAY_RANGE = re.compile(r"(?<![\w/.,])(?:(ngày)\s+)?(\d{1,2})\s*[-–]\s*(\d{1,2})/(\d{1,2})(?:/(\d{4}))?(?![\d/])", re.I)
_DATE_DAY_MONTH = re.compile(r"(?<![\w/.,])(?:(ngày)\s+)?(\d{1,2})/(\d{1,2})(?![\d/])", re.I)
_DATE_MONTH_YEAR = re.compile(r"(?<![\w/.,])(?:(tháng)\s+)?(\d{1,2})/(\d{4})(?![\d/])", re.I)
_DAY_WORD = re.compile(r"\b(ngày)\s+(\d{1,2})(?![\d/.,])", re.I)
_MONTH_WORD = re.compile(r"\b(tháng)\s+(\d{1,2})(?![\d/.,])", re.I)
_ORDINAL = re.compile(r"\b(thứ)\s+(\d{1,3})(?![\d.,/])", re.I)
_ROMAN_AFTER = re.compile(
    r"\b((?i:phần|chương|mục|quý|khóa|khoá|kỳ|kì|thế kỷ|thế kỉ|đại hội|lần|tập|điều|giai đoạn))\s+"
    r"([IVXLC]+)(?![\w])"
)
_ROMAN_HEADING = re.compile(r"^([IVXL]+)([.)])(?=\s)")
_ROMAN_WORD = re.compile(r"\b[IVXLC]+\b")
_RANGE = re.compile(rf"(?<![\w.,/])({_NUM})\s*[-–—]\s*({_NUM})(?=oC\b|(?![\w/]))")
_NUMBER = re.compile(_NUM)
_DIGIT = re.compile(r"\d")
_SPACES = re.compile(r"[ \t\u00a0]+")


@cache
def _table(name: str) -> dict[str, str]:
    text = resources.files("content.render").joinpath(f"data/{name}").read_text("utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        short, _, spoken = line.partition("\t")
        table[unicodedata.normalize("NFC", short.strip())] = unicodedata.normalize("NFC", spoken.strip())
    return table


def _either(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_UNITS = _table("units.tsv")
_PER = {**_table("rates.tsv"), **_UNITS}
_UNIT = re.compile(rf"({_NUM})\s?({_either(_UNITS)})(?![\w²³/])")
_SQUARE_CUBE = re.compile(rf"(?<!\w)(?:{_either(u for u in _UNITS if u[-1] in '²³')})(?!\w)")  # "giá mỗi m²"
_WORD = r"[^\W\d_][^\W_]*[²³]?"
# 15.000.000 đồng/lớp · 60 km/h · 100.000 đồng/người/ngày · 20 học sinh/lớp · 0,5%/tháng: "/" is "một" (per)
_RATE = re.compile(rf"(?<=\d)(\s?(?:{_WORD}\s){{0,2}})({_WORD}|%|‰)((?:/(?:{_either(_PER)}))+)(?![\w²³/])")
_UNIT_RATE = re.compile(rf"(?<![\w/])()({_either(_UNITS)})((?:/(?:{_either(_PER)}))+)(?![\w²³/])")  # "(kg/ha)"
_SYMBOLS = {"°C": " độ C", "°": " độ", "%": " phần trăm", "‰": " phần nghìn", "&": " và "}
_SYMBOL = re.compile(r"°C|[°%‰&]")


def builtin_abbreviations() -> dict[str, str]:
    """The abbreviation list shipped in ``content/render/data/abbreviations.tsv``."""
    return dict(_table("abbreviations.tsv"))


def document_kinds() -> dict[str, str]:
    """Kinds of official documents by their code (QĐ → Quyết định), from ``data/documents.tsv``."""
    return dict(_table("documents.tsv"))


@cache
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first so "QĐ-TTg" wins over "TTg" and "TT&TT" over any part of it; \w-boundaries keep "TP"
    # inside "TPHCM" untouched. An "&" compound not in the list is read part by part: "UBND&HĐND".
    return re.compile(rf"(?<![\w-])(?:{_either(keys)})(?![\w-])")


def _document(match: re.Match[str], table: Mapping[str, str]) -> str:
    """A document number as a reader says it: "1373/QĐ-TTg" after "Quyết định số" is
    "một nghìn ba trăm bảy mươi ba của Thủ tướng Chính phủ"."""
    serial, year, code, issuer = match.groups()
    parts = code.split("-") + (issuer.split("-") if issuer else [])
    kinds = {key.upper(): value for key, value in document_kinds().items()}
    folded = {key.upper(): value for key, value in table.items()}
    words = [number(serial)]
    if year:
        words.append(f"năm {cardinal(int(year))}")
    kind = kinds.get(parts[0].upper())
    if kind is not None:
        parts = parts[1:]
        before = match.string[max(0, match.start() - 40) : match.start()].lower()
        if not re.search(rf"{re.escape(kind.lower())}(?:\s+số)?[\s:]*$", before):
            words.append(kind[0].lower() + kind[1:])
    if parts:
        issuer = " ".join(folded.get(part.upper(), part) for part in parts)
        after = match.string[match.end() : match.end() + 80].lower()
        # "… 1373/QĐ-TTg ngày … của Thủ tướng Chính phủ" names the issuer once, not twice
        if f"của {issuer.lower()}" not in after and f"của {' '.join(parts).lower()}" not in after:
            words.append(f"của {issuer}")
    return " ".join(words)


def _time(hour: str, minute: str | None, original: str) -> str:
    h, m = int(hour), int(minute or 0)
    if h > 24 or m > 59:
        return original
    return f"{cardinal(h)} giờ" + (f" {cardinal(m)} phút" if minute and m else "")


def _time_range(match: re.Match[str]) -> str:
    first_h, first_hm, first_cm, bare, last_h, last_hm, last_cm = match.groups()
    last = _time(last_h, last_hm or last_cm, "")
    if first_h is None:
        first = cardinal(int(bare)) if int(bare) <= 24 else ""  # "7-11h": "bảy đến mười một giờ"
    else:
        first = _time(first_h, first_hm or first_cm, "")
    return f"{first} đến {last}" if first and last else match.group(0)


def _rate(match: re.Match[str]) -> str:
    words, unit, per = match.groups()
    spoken = _PER.get(unit) or _SYMBOLS.get(unit, unit).strip()
    return f"{words}{spoken} một " + " một ".join(_PER[item] for item in per[1:].split("/"))


def _date(match: re.Match[str], word: str | None, d: int | None, m: int, y: int | None) -> str:
    if (d is not None and not 1 <= d <= 31) or not 1 <= m <= 12:
        return match.group(0)
    words = []
    if d is not None:
        words.append(f"{word or 'ngày'} {day(d)}")
    words.append(f"tháng {month(m)}")
    if y is not None:
        words.append(f"năm {cardinal(y)}")
    return " ".join(words)


def _day_range(match: re.Match[str]) -> str:
    word, first, last, m, y = match.groups()
    if not (1 <= int(first) <= 31 and 1 <= int(last) <= 31 and 1 <= int(m) <= 12):
        return match.group(0)
    spoken = f"{word or 'ngày'} {day(int(first))} đến {day(int(last))} tháng {month(int(m))}"
    return spoken + (f" năm {cardinal(int(y))}" if y else "")


def _month_year(match: re.Match[str]) -> str:
    word, m, y = match.groups()
    if not 1 <= int(m) <= 12:
        return match.group(0)
    return f"{word or 'tháng'} {month(int(m))} năm {cardinal(int(y))}"


def _in_range(value: int, low: int, high: int, spoken: Callable[[int], str]) -> str | None:
    return spoken(value) if low <= value <= high else None


def _roman_after(match: re.Match[str]) -> str:
    value = roman(match.group(2))
    return match.group(0) if value is None else f"{match.group(1)} {cardinal(value)}"


def _roman_heading(match: re.Match[str]) -> str:
    value = roman(match.group(1))
    if value is None:
        return match.group(0)
    spoken = cardinal(value)
    return spoken[0].upper() + spoken[1:] + match.group(2)


def _spaced_number(match: re.Match[str]) -> str:
    """A number in words, kept apart from letters it was written against ("A1", "25h")."""
    text, start, end = match.string, match.start(), match.end()
    before = " " if start > 0 and text[start - 1].isalpha() else ""
    after = " " if end < len(text) and text[end].isalpha() else ""
    return f"{before}{number(match.group(0))}{after}"


def _times_and_dates(line: str) -> str:
    line = _TIME_RANGE.sub(_time_range, line)
    line = _TIME_H.sub(lambda m: _time(m.group(1), m.group(2), m.group(0)), line)
    line = _TIME_COLON.sub(lambda m: _time(m.group(1), m.group(2), m.group(0)), line)
    line = _DAY_RANGE.sub(_day_range, line)
    line = _DATE_FULL.sub(
        lambda m: _date(m, m.group(1), int(m.group(2)), int(m.group(4)), int(m.group(5))), line)
    line = _DATE_DAY_MONTH.sub(lambda m: _date(m, m.group(1), int(m.group(2)), int(m.group(3)), None), line)
    line = _DATE_MONTH_YEAR.sub(_month_year, line)
    line = _DAY_WORD.sub(lambda m: f"{m.group(1)} {_in_range(int(m.group(2)), 1, 31, day) or m.group(2)}", line)
    line = _MONTH_WORD.sub(
        lambda m: f"{m.group(1)} {_in_range(int(m.group(2)), 1, 12, month) or m.group(2)}", line)
    return _ORDINAL.sub(lambda m: f"{m.group(1)} {ordinal(int(m.group(2)))}", line)


def _line(line: str, table: Mapping[str, str], abbreviations: re.Pattern[str]) -> str:
    line = _SPACES.sub(" ", line).strip()
    # Most lines of a bulletin have no digit, "/" or ²: the rules that need one are skipped there.
    if _DIGIT.search(line):
        line = read_phone_numbers(line)
        line = _DOCUMENT.sub(lambda m: _document(m, table), line)
    line = abbreviations.sub(lambda m: table[m.group(0)], line)
    if "/" in line:
        line = _RATE.sub(_rate, line)
        line = _UNIT_RATE.sub(_rate, line)
    has_digit = _DIGIT.search(line) is not None
    if has_digit:
        line = _times_and_dates(line)
    if _ROMAN_WORD.search(line):
        line = _ROMAN_AFTER.sub(_roman_after, line)
        line = _ROMAN_HEADING.sub(_roman_heading, line)
    if has_digit:
        line = _RANGE.sub(r"\1 đến \2", line)  # numbers stay digits so a unit after the second still applies
        line = _UNIT.sub(lambda m: f"{number(m.group(1))} {_UNITS[m.group(2)]}", line)
    if "²" in line or "³" in line:
        line = _SQUARE_CUBE.sub(lambda m: _UNITS[m.group(0)], line)
    line = _SYMBOL.sub(lambda m: _SYMBOLS[m.group(0)], line)
    if has_digit:
        line = _NUMBER.sub(_spaced_number, line)
    return _SPACES.sub(" ", line).strip()


def normalize(text: str, extra_abbreviations: Mapping[str, str] | None = None) -> str:
    """``text`` as the speech engine should read it: NFC, every number in words, one line per input line."""
    table = builtin_abbreviations()
    for short, spoken in (extra_abbreviations or {}).items():
        table[unicodedata.normalize("NFC", short)] = unicodedata.normalize("NFC", spoken)
    pattern = _pattern(tuple(table))
    return "\n".join(_line(line, table, pattern) for line in unicodedata.normalize("NFC", text).splitlines())
