"""Reads Vietnamese telephone numbers digit by digit, group by group, with a short pause between groups."""

from __future__ import annotations

import re

from content.render.numbers import digits

# Digit groups split by one space, dot or dash, optionally after +84 or an area code in brackets:
# "0912 345 678", "091-234-5678", "024.3825.1234", "(0206) 3852 123", "+84 912 345 678", "1900 1234".
# Whether a run really is a telephone number is decided by its digits (see _national), not by its look.
_CANDIDATE = re.compile(
    r"(?<![\w.,/+\-])"
    r"(?:(?P<intl>\(\+84\)|\+\s?84)[ .\-]?|\((?P<area>0\d{2,3})\)\s?)?"
    r"(?P<groups>\d{1,11}(?:[ .\-]\d{1,4})*)"
    r"(?![\w²³]|[.,/\-]\d)"
)
_SEPARATOR = re.compile(r"[ .\-]")
_MOBILE = re.compile(r"0[35789]\d{8}")  # 10 digits since 2018
_LANDLINE = re.compile(r"02\d{9}")  # 0 + area code (2…) + subscriber: 11 digits since 2017
_HOTLINE = re.compile(r"1[89]00(?:\d{4}|\d{6})")  # 1900 (charged) and 1800 (free) service numbers

# 111 child protection, 112 rescue, 113 police, 114 fire, 115 ambulance: read "một một ba" when the
# text around says it is a number to call, and left as "một trăm mười ba" otherwise ("115 hộ").
_SHORT = re.compile(r"(?<![\w.,\-])11[1-5](?![\w²³%‰°]|[.,\-]\d|/(?!11[1-5]\b))")
_SERVICES = r"công an|cảnh sát|cứu hỏa|cứu hoả|chữa cháy|PCCC|cấp cứu|cứu thương|cứu nạn|cứu hộ|khẩn cấp"
_CALL_BEFORE = re.compile(
    rf"(?i:(?<!kêu )(?<!lời )\bgọi|\bquay|\bbấm|đường dây nóng|tổng đài|hotline|điện thoại|\bS?ĐT|{_SERVICES})"
    r"(?i:\s+(?:ngay|điện thoại|điện|đến|tới|cho|số|là))*\s*[:\-–]?\s*$"
)
_SERVICE_AFTER = re.compile(rf"\s*(?:\(|[:\-–]\s*)\s*(?i:{_SERVICES})")
# "cứu hộ 115 người", "Cấp cứu 115 ca": a count, not a number to call
_COUNTED = re.compile(
    r"\s*(?:người|hộ|ca|xe|chiếc|lượt|trường hợp|vụ|căn|ngôi|con|cán bộ|chiến sĩ|học sinh|đồng|triệu|nghìn"
    r"|tỷ|năm|ngày|tháng|giờ|phút|km|m|lần|tấn|ha|xã|thôn|điểm)(?!\w)"
)
_LIST_BETWEEN = re.compile(r"\s*(?:\([^()\d\n]{0,30}\))?\s*(?i:,|;|/|-|–|hoặc|và)\s*")


def _national(groups: list[str], intl: bool, area: str | None) -> bool:
    """Whether these digit groups make a whole Vietnamese number (mobile, landline or 1900/1800)."""
    number = (area or "") + "".join(groups)
    if intl:
        return bool(_MOBILE.fullmatch("0" + number) or _LANDLINE.fullmatch("0" + number))
    return bool(_MOBILE.fullmatch(number) or _LANDLINE.fullmatch(number) or _HOTLINE.fullmatch(number))


def _spoken(match: re.Match[str]) -> str:
    intl, area, written = match.group("intl"), match.group("area"), match.group("groups")
    groups = _SEPARATOR.split(written)
    # "0912 345 678 23 người": the longest run of leading groups that is a number is the phone number.
    for count in range(len(groups), 0, -1):
        if _national(groups[:count], bool(intl), area):
            said = [digits(group) for group in groups[:count]]
            if area:
                said.insert(0, digits(area))
            if intl:
                said.insert(0, "cộng tám bốn")
            rest = written[sum(len(group) + 1 for group in groups[:count]) - 1 :]
            return ", ".join(said) + rest
    return match.group(0)


def _short_numbers(text: str) -> str:
    spans: list[tuple[int, int]] = []
    for match in _SHORT.finditer(text):
        start, end = match.span()
        listed = bool(spans) and _LIST_BETWEEN.fullmatch(text, spans[-1][1], start) is not None
        if (text[start - 1 : start] == "/" and not listed) or _COUNTED.match(text, end):
            continue  # "49/115" is part of something else; "115 người" is a count
        if (listed or _CALL_BEFORE.search(text, max(0, start - 60), start)
                or _SERVICE_AFTER.match(text, end)):
            spans.append((start, end))
    for start, end in reversed(spans):
        before = text[:start]
        text = (before[:-1] + ", " if before.endswith("/") else before) + digits(text[start:end]) + text[end:]
    return text


def read_phone_numbers(text: str) -> str:
    """``text`` with each telephone number in words: "0912 345 678" → "không chín một hai, ba bốn năm,
    sáu bảy tám"; "gọi 113" → "gọi một một ba". Money, years, dates and decimals are left alone."""
    text = _CANDIDATE.sub(_spoken, text)
    return _short_numbers(text) if "11" in text else text
