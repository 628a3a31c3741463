"""What a reviewer is shown when the piece changed between opening it and deciding: the new text's diff."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from content.errors import Stale
from content.models import LEVEL_NAMES, Revision

#: The API's 409 message; the pages show the same in the reader's language (messages.po).
MESSAGE_VI = ("Bài #{piece} đã thay đổi từ khi bạn mở: bạn đã đọc {seen}, nay là phiên bản {now}. "
              "Hãy đọc lại các thay đổi trước khi quyết định.")


def revision_lines(revision: Revision | None, date: Any, names: Any = None) -> list[str]:
    """A revision as lines of text, the form the review diffs compare: in the reader's language with ``names``
    (``loa.web.names.Names``), else with both languages' labels (the API's diff)."""
    if revision is None:
        return []
    if names is None:
        stations = ", ".join(revision.stations)
        head = [
            f"Tiêu đề / Title: {revision.title}",
            f"Chiến dịch / Campaign: {revision.campaign or '-'}",
            f"Kênh / Channels: {', '.join(revision.channels)}",
            f"Xã / Stations: {stations}",
            f"Hiệu lực / Valid: {date(revision.valid_from) or '-'} → {date(revision.valid_until) or '-'}",
            f"Mức độ / Level: {LEVEL_NAMES[revision.level]} / {revision.level}",
            f"Ưu tiên / Priority: {revision.priority}{' (khẩu hiệu / slogan)' if revision.slogan else ''}",
            f"Âm thanh / Audio: {revision.audio_sha256 or '-'}",
            f"Ảnh / Image: {revision.image_sha256 or '-'}",
        ]
    else:
        _ = names._
        valid = (f"{date(revision.valid_from) or '…'} → {date(revision.valid_until) or '…'}"
                 if revision.valid_from or revision.valid_until else _("no limit"))
        head = [
            f"{_('Title')}: {revision.title}",
            f"{_('Campaign')}: {names.campaign(revision.campaign) or '–'}",
            f"{_('Channels')}: {names.outlets(revision.channels)}",
            f"{_('Stations')}: {', '.join(_('All stations') if s == '*' else s for s in revision.stations)}",
            f"{_('Valid')}: {valid}",
            f"{_('Level')}: {_(revision.level)}",
            f"{_('Priority')}: {revision.priority}{' · ' + _('Slogan') if revision.slogan else ''}",
            f"{_('Recording')}: {revision.audio_sha256[:12] if revision.audio_sha256 else '–'}",
            f"{_('Image')}: {revision.image_sha256[:12] if revision.image_sha256 else '–'}",
        ]
    return [*head, "", *revision.body.splitlines()]


@dataclass(frozen=True)
class Changed:
    """The revision the reviewer read (None when the id they sent is not of this piece) and the current one."""

    seen: Revision | None
    current: Revision

    def seen_label(self) -> str:
        return f"r{self.seen.number}" if self.seen is not None else "?"

    def message_vi(self) -> str:
        seen = f"phiên bản {self.seen.number}" if self.seen is not None else "một phiên bản khác"
        return MESSAGE_VI.format(piece=self.current.piece_id, seen=seen, now=self.current.number)

    def unified(self, date: Any) -> str:
        return "\n".join(difflib.unified_diff(revision_lines(self.seen, date), revision_lines(self.current, date),
                                              self.seen_label(), f"r{self.current.number}", lineterm=""))

    def table(self, date: Any, names: Any) -> str:
        from loa.web.diff import html_diff

        return html_diff(revision_lines(self.seen, date, names), revision_lines(self.current, date, names),
                         removed=self.seen_label(), added=f"r{self.current.number}")


def changed(session: Session, stale: Stale) -> Changed:
    """The two revisions of a Stale refusal, read back."""
    current = session.get(Revision, stale.current[0])
    assert current is not None
    seen = session.get(Revision, stale.seen[0]) if stale.seen[0] is not None else None
    if seen is not None and seen.piece_id != current.piece_id:
        seen = None
    return Changed(seen, current)
