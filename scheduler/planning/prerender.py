"""Renders the speech a re-plan will measure before its write transaction, so no synthesis holds the write lock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from content.config import RenderSettings
from content.db import unit_of_work
from content.pieces import airable_revisions
from content.render.renditions import find_speech, render_speech
from scheduler.outlets import RULES, Form

#: Told (done, total) as the missing speech is rendered.
Progress = Callable[[int, int], None]


def render_airable(sessions: sessionmaker[Session], render: RenderSettings, *, now: datetime,
                   abbreviations: Mapping[str, str] | None = None,
                   progress: Progress | None = None) -> dict[int, Exception]:
    """Render the speech of every airable revision that has none stored yet: the revisions are read in one
    short transaction, each is spoken with none open and stored in a short one of its own (see
    :func:`content.render.renditions.render_speech`), so an approval never waits behind a synthesis.

    Returns the revisions that could not be rendered, with the error (the re-plan reports them unmeasured).
    """
    spoken = {str(outlet) for outlet, rules in RULES.items() if rules.form is Form.SPEECH}
    with unit_of_work(sessions) as session:
        missing = [revision.id for revision in airable_revisions(session)
                   if spoken & set(revision.channels) and find_speech(session, revision, render) is None]
    failed: dict[int, Exception] = {}
    for done, revision_id in enumerate(missing):
        if progress:
            progress(done, len(missing))
        for rendered, result in render_speech(sessions, [revision_id], render, now=now,
                                              abbreviations=abbreviations).items():
            if isinstance(result, Exception):
                failed[rendered] = result
    if progress:
        progress(len(missing), len(missing))
    return failed
