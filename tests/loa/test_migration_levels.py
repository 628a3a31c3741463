"""Migration 0017: the urgent flag becomes the level of Circular 39/2020; approved pieces stay airable."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from content.db import session_factory, unit_of_work
from content.models import Revision
from content.pieces import check_airable, content_hash, content_of
from loa import database

TITLE, BODY = "Lịch cắt điện", "Thứ Tư cắt điện thôn Đông từ 7 giờ đến 11 giờ."


def _old_hash(urgent: bool) -> str:
    """The content hash as loa wrote it before levels (the urgent flag in the document)."""
    document = {"title": TITLE, "body": BODY, "campaign": None, "channels": ["loudspeaker"], "valid_from": None,
                "valid_until": None, "priority": 5, "urgent": urgent, "audio_sha256": None, "image_sha256": None}
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode()).hexdigest()


def test_an_urgent_revision_becomes_priority_and_stays_airable(tmp_path) -> None:
    engine = database.open_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = database.alembic_config(engine.url.render_as_string(hide_password=False))
    at = datetime(2026, 11, 1, 8)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0016")
        connection.execute(text("INSERT INTO users (id, name, role, stations, created_at) "
                                "VALUES (1, 'lan', 'editor', '[]', :at)"), {"at": at})
        for piece, urgent in ((1, True), (2, False)):
            digest = _old_hash(urgent)
            connection.execute(text(
                "INSERT INTO pieces (id, state, author_id, approved_sha256, created_at, updated_at) "
                "VALUES (:id, 'approved', 1, :sha, :at, :at)"), {"id": piece, "sha": digest, "at": at})
            connection.execute(text(
                "INSERT INTO revisions (id, piece_id, number, title, body, channels, priority, urgent, sha256, "
                "created_by_id, created_at) VALUES (:id, :id, 1, :title, :body, '[\"loudspeaker\"]', 5, :urgent, "
                ":sha, 1, :at)"), {"id": piece, "title": TITLE, "body": BODY, "urgent": urgent, "sha": digest,
                                   "at": at})
            connection.execute(text("INSERT INTO revision_stations (revision_id, station) VALUES (:id, '*')"),
                               {"id": piece})
            connection.execute(text("UPDATE pieces SET current_revision_id = :id, approved_revision_id = :id "
                                    "WHERE id = :id"), {"id": piece})
    database.upgrade(engine)
    assert "urgent" not in {column["name"] for column in inspect(engine).get_columns("revisions")}
    with unit_of_work(session_factory(engine)) as session:
        urgent, plain = session.get(Revision, 1), session.get(Revision, 2)
        assert (urgent.level, plain.level) == ("priority", "normal")
        # the hash is unchanged, so the approvals still hold
        assert content_hash(content_of(urgent)) == _old_hash(True) == urgent.sha256
        assert content_hash(content_of(plain)) == _old_hash(False) == plain.sha256
        for revision_id in (1, 2):
            assert check_airable(session, revision_id, datetime(2026, 11, 2, tzinfo=UTC)) is None
    engine.dispose()


def test_downgrade_gives_priority_back_as_urgent(tmp_path) -> None:
    engine = database.open_engine(f"sqlite:///{tmp_path / 'new.db'}")
    config = database.alembic_config(engine.url.render_as_string(hide_password=False))
    database.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (id, name, role, stations, created_at) "
                                "VALUES (1, 'lan', 'editor', '[]', '2026-11-01')"))
        connection.execute(text("INSERT INTO pieces (id, state, author_id, created_at, updated_at) "
                                "VALUES (1, 'draft', 1, '2026-11-01', '2026-11-01')"))
        for number, level in enumerate(("normal", "priority", "emergency"), start=1):
            connection.execute(text(
                "INSERT INTO revisions (id, piece_id, number, title, body, channels, priority, level, sha256, "
                "created_by_id, created_at) VALUES (:n, 1, :n, 't', 'b', '[]', 5, :level, 'x', 1, '2026-11-01')"),
                {"n": number, "level": level})
        config.attributes["connection"] = connection
        command.downgrade(config, "0016")
        rows = connection.execute(text("SELECT urgent FROM revisions ORDER BY id")).scalars().all()
    assert [bool(value) for value in rows] == [False, True, False]
    engine.dispose()
