"""What one prepared batch of deliveries reads once and shares: airability, revisions, campaign names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.models import Revision
from content.pieces import check_airable
from scheduler.models import Campaign


class Batch:
    """The reads of one batch, in one session: many programs hold the same pieces, so each revision is
    checked once per moment and loaded once (and held, so the session does not forget it)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._airable: dict[tuple[int, datetime], str | None] = {}
        self._revisions: dict[int, Revision] = {}
        self._campaign_names: dict[str, str] | None = None

    def airable(self, revision_id: int, moment: datetime) -> str | None:
        """``check_airable``: None when the revision may go out at ``moment``, else why not.
        Raises IntegrityError on tampering (never kept: asked again, it raises again)."""
        key = (revision_id, moment)
        if key not in self._airable:
            self._airable[key] = check_airable(self.session, revision_id, moment)
        return self._airable[key]

    def revision(self, revision_id: int) -> Revision:
        if revision_id not in self._revisions:
            revision = self.session.get(Revision, revision_id)
            assert revision is not None, f"revision {revision_id} passed check_airable, so it exists"
            self._revisions[revision_id] = revision
        return self._revisions[revision_id]

    def campaign_names(self) -> dict[str, str]:
        if self._campaign_names is None:
            self._campaign_names = dict(self.session.execute(select(Campaign.code, Campaign.name)).all())
        return self._campaign_names
