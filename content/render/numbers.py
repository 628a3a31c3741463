"""Vietnamese words for numbers: cardinals of any size, decimals, ordinals, days, months, Roman numerals."""

from __future__ import annotations

import re

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ((10**9, "tỷ"), (10**6, "triệu"), (10**3, "nghìn"))
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_ENGLISH = re.compile(r"\d{1,3}(?:,\d{3})+\.\d+")
_ROMAN_FORM = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")


def _below_hundred(n: int, after_hundreds: bool) -> str:
    """1…99, read after a hundreds word ("linh" before a lone unit) or on its own."""
    tens, unit = divmod(n, 10)
    if tens == 0:
        return f"linh {_DIGITS[unit]}" if after_hundreds else _DIGITS[unit]
    head = "mười" if tens == 1 else f"{_DIGITS[tens]} mươi"
    if unit == 0:
        return head
    if unit == 5:
        tail = "lăm"
    elif unit == 1 and tens >= 2:
        tail = "mốt"
    elif unit == 4 and tens >= 2:
        tail = "tư"
    else:
        tail = _DIGITS[unit]
    return f"{head} {tail}"


def _hundreds(n: int, full: bool) -> str:
    """0…999; ``full`` says "không trăm" for a group that follows a larger one (2.005, 1.000.050)."""
    hundreds, rest = divmod(n, 100)
    if hundreds == 0 and not full:
        return _below_hundred(rest, False) if rest else _DIGITS[0]
    words = f"{_DIGITS[hundreds]} trăm"
    return f"{words} {_below_hundred(rest, True)}" if rest else words


def cardinal(n: int, *, full: bool = False) -> str:
    """``n`` in words: 2020 → "hai nghìn không trăm hai mươi", 10**12 → "một nghìn tỷ"."""
    if n < 0:
        return f"âm {cardinal(-n)}"
    if n < 1000:
        return _hundreds(n, full)
    for scale, word in _SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            words = f"{cardinal(head, full=full)} {word}"
            return f"{words} {cardinal(rest, full=True)}" if rest else words
    raise AssertionError("unreachable")


def digits(text: str) -> str:
    """Each digit of ``text`` in words, for codes and numbers with leading zeros (0912…)."""
    return " ".join(_DIGITS[int(d)] for d in text if d.isdigit())


def number(text: str) -> str:
    """A number as written in Vietnamese text: "3.321", "1,5", "0,05", "1.000.000", "2021", "0912"."""
    whole, comma, fraction = text.partition(",")
    if "," in fraction or "." in fraction:
        if _ENGLISH.fullmatch(text):  # "1,234.5" copied from an English source
            whole, _, fraction = text.replace(",", "").partition(".")
            return f"{number(whole)} chấm {number(fraction)}"
        # "lớp 1,2,3": a list written without spaces, each number on its own
        return ", ".join(" chấm ".join(number(piece) for piece in item.split(".")) for item in text.split(","))
    if "." in whole:
        groups = whole.split(".")
        if all(len(g) == 3 for g in groups[1:]) and groups[0] and not comma:
            whole = "".join(groups)
        elif not comma and len(groups) == 2:  # "1.5": a decimal point written the English way
            return f"{number(groups[0])} chấm {number(groups[1])}"
        else:
            whole = "".join(groups)
    if len(whole) > 1 and whole.startswith("0") and not comma:
        return digits(whole)
    words = cardinal(int(whole or "0"))
    if comma and fraction:
        zeros = len(fraction) - len(fraction.lstrip("0"))
        rest = fraction.lstrip("0")
        spoken = " ".join([_DIGITS[0]] * zeros + ([cardinal(int(rest))] if rest else []))
        words = f"{words} phẩy {spoken}"
    return words


def ordinal(n: int) -> str:
    """The word after "thứ": 1 → "nhất", 4 → "tư", others as cardinals."""
    return {1: "nhất", 4: "tư"}.get(n, cardinal(n))


def day(n: int) -> str:
    """A day of the month: 1…10 take "mồng" (mồng một … mồng mười)."""
    return f"mồng {cardinal(n)}" if 1 <= n <= 10 else cardinal(n)


def month(n: int) -> str:
    """A month number as said after "tháng": 4 is "tư"."""
    return "tư" if n == 4 else cardinal(n)


def roman(text: str) -> int | None:
    """The value of an upper-case Roman numeral, or None when ``text`` is not a well-formed one."""
    if not text or not _ROMAN_FORM.fullmatch(text):
        return None
    total = 0
    for here, after in zip(text, [*text[1:], ""], strict=True):
        value = _ROMAN[here]
        total += -value if after and _ROMAN[after] > value else value
    return total
