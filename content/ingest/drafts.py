"""Stores loaded content as draft pieces, skipping what is already there (same source or same content)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from content import audit
from content.models import Piece, Revision, User
from content.pieces import PieceContent, add_piece, content_hash
from content.users import require_role


@dataclass
class IngestResult:
    """What one ingest did: pieces added (id, title, what was converted) and items skipped (title, why)."""

    source: str
    added: list[tuple[int, str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "added": [{"id": i, "title": t, "converted": c} for i, t, c in self.added],
            "skipped": [{"title": t, "reason": r} for t, r in self.skipped],
            "notes": list(self.notes),
        }


def duplicate_of(session: Session, content: PieceContent, source_key: str | None) -> str | None:
    """Why ``content`` is already stored (same source item or identical content), or None."""
    if source_key is not None:
        found = session.scalar(select(Piece.id).where(or_(
            Piece.source_ref == source_key, Piece.source_ref.startswith(source_key + " ", autoescape=True))))
        if found is not None:
            return f"already loaded as piece {found} (same {source_key.split(':', 1)[0]})"
    digest = content_hash(content)
    found = session.scalar(select(Revision.piece_id).where(Revision.sha256 == digest).limit(1))
    if found is not None:
        return f"identical to piece {found}"
    return None


def store_drafts(
    session: Session,
    result: IngestResult,
    items: list[tuple[PieceContent, str | None, str | None, str]],
    *,
    author: User,
    now: datetime,
    kind: str,
) -> IngestResult:
    """Add each (content, source key, source_ref, conversion report) as a draft unless already stored.

    Every content is checked before anything is written, so one bad item stores nothing; the whole
    ingest is one audit entry (each piece also gets its own ``piece.create``).
    """
    require_role(author, "editor", "approver")
    checked = [(content.checked(), key, ref, report) for content, key, ref, report in items]
    for content, key, ref, report in checked:
        reason = duplicate_of(session, content, key)
        if reason is not None:
            result.skipped.append((content.title, reason))
            continue
        piece = add_piece(session, content, author=author, now=now, source_ref=ref)
        result.added.append((piece.id, content.title, report))
    audit.record(session, actor=author.name, action=f"ingest.{kind}", subject=result.source[:120], at=now,
                 details={"added": [i for i, _, _ in result.added], "skipped": len(result.skipped),
                          "converted": sorted({r for _, _, r in result.added if r})})
    return result
