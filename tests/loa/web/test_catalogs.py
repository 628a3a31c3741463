"""The Vietnamese catalog translates every message the templates use; English stays the source text."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from loa.web import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"


def _template_messages() -> set[str]:
    found = extract_from_dir(str(TEMPLATES), method_map=[("**.html", "jinja2.ext:babel_extract")])
    return {message for _, _, message, _, _ in found} | set(i18n.DYNAMIC)


def test_every_template_message_has_a_vietnamese_translation():
    with (i18n.LOCALES / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(_template_messages() - translated)
    assert not missing, f"add these to loa/web/locales/vi/LC_MESSAGES/messages.po: {missing}"


def test_catalogs_compile_at_run_time_and_dates_are_day_first():
    assert i18n.translations("vi").gettext("Log in") == "Đăng nhập"
    assert i18n.translations("en").gettext("Log in") == "Log in"
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    moment = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # already 1 January in Vietnam
    assert i18n.fmt_datetime(moment, zone) == "01/01/2027 00:30"
