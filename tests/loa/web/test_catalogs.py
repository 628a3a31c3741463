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


#: The modules whose refusals reach the web app's forms and pages (and ``loa alert``, which speaks Vietnamese):
#: their messages must read in Vietnamese.
ERROR_SOURCES = ("content/pieces.py", "content/dates.py", "content/users.py", "content/accounts.py",
                 "scheduler/planning/editing.py",
                 "scheduler/dispatch/outbox.py", "scheduler/emergencies/service.py", "loa/web", "content/ingest/cap.py",
                 "content/ingest/cap_signature.py", "content/ingest/fetch.py", "content/ingest/feeds.py",
                 "content/ingest/polling.py", "content/media.py", "content/render/renditions.py",
                 "content/render/program.py", "content/seals.py", "content/audit.py", "scheduler/reports",
                 "loa/serve.py", "loa/dbcopy.py")
ERROR_KEYWORDS = {name: None for name in ("LoaError", "InputError", "NotFound", "NotAllowed", "StateError",
                                          "IntegrityError", "ConfigError", "gettext")}


def _error_messages() -> set[str]:
    from babel.messages.extract import extract_from_dir, extract_from_file

    root = Path(i18n.__file__).parents[2]
    found: set[str] = set()
    for source in ERROR_SOURCES:
        path = root / source
        if path.is_dir():
            messages = (m for _, _, m, _, _ in extract_from_dir(str(path), method_map=[("*.py", "python")],
                                                                  keywords=ERROR_KEYWORDS))
        else:
            messages = (m for _, m, _, _ in extract_from_file("python", str(path), keywords=ERROR_KEYWORDS))
        found |= {m for m in messages if isinstance(m, str)}
    return found


def test_every_error_a_form_can_show_has_a_vietnamese_translation():
    with (i18n.LOCALES / "vi" / "LC_MESSAGES" / "errors.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    messages = _error_messages()
    assert "choose at least one station" in messages  # the extraction reads the sources
    missing = sorted(messages - translated)
    assert not missing, f"add these to loa/web/locales/vi/LC_MESSAGES/errors.po: {missing}"


def test_an_error_reads_in_vietnamese_with_its_parameters_and_without_cli_hints():
    from content.errors import InputError, NotAllowed, NotFound

    error = InputError("{text!r} is not a date like 31/12/2026 or 31/12/2026 17:00", where="valid_from",
                       text="31/02/2026")
    assert str(error) == "valid_from: '31/02/2026' is not a date like 31/12/2026 or 31/12/2026 17:00"
    assert i18n.error_text(error, "vi") == ("“31/02/2026” không phải ngày hợp lệ; hãy nhập dạng 31/12/2026 "
                                            "hoặc 31/12/2026 17:00")
    assert i18n.error_text(error, "en") == "'31/02/2026' is not a date like 31/12/2026 or 31/12/2026 17:00"
    missing = NotFound("no piece with id {id}", id=8, hint="see `loa piece list`")
    assert str(missing) == "no piece with id 8; see `loa piece list`"
    assert i18n.error_text(missing, "vi") == "Không có bài số 8"
    refused = NotAllowed("user {name!r} is {role}; this needs {roles}", name="lan", role="editor",
                         roles=("editor", "approver"))
    assert str(refused) == "user 'lan' is editor; this needs editor or approver"
    assert i18n.error_text(refused, "vi") == ("Tài khoản “lan” là biên tập viên; việc này cần quyền biên tập viên "
                                              "hoặc người duyệt")
