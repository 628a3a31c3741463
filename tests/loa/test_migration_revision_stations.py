"""Migration 0013: pieces approved before stations existed target every station and stay airable."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from content.db import session_factory, unit_of_work
from content.models import Revision
from content.pieces import PieceContent, check_airable, content_hash, content_of
from loa import database

CONTENT = PieceContent("Lịch tiêm chủng", "Trạm y tế xã tiêm chủng sáng thứ Bảy.", channels=("loudspeaker",))


def test_existing_revisions_target_every_station_and_keep_their_approved_hash(tmp_path) -> None:
    engine = database.open_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = database.alembic_config(engine.url.render_as_string(hide_password=False))
    at = datetime(2026, 11, 1, 8)
    digest = content_hash(CONTENT)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
        connection.execute(text("INSERT INTO users (id, name, role, stations, created_at) "
                                "VALUES (1, 'lan', 'editor', '[]', :at)"), {"at": at})
        connection.execute(text(
            "INSERT INTO pieces (id, state, author_id, approved_sha256, created_at, updated_at) "
            "VALUES (1, 'approved', 1, :sha, :at, :at)"), {"sha": digest, "at": at})
        connection.execute(text(
            "INSERT INTO revisions (id, piece_id, number, title, body, channels, priority, urgent, sha256, "
            "created_by_id, created_at) VALUES (1, 1, 1, :title, :body, '[\"loudspeaker\"]', 5, 0, :sha, 1, :at)"),
            {"title": CONTENT.title, "body": CONTENT.body, "sha": digest, "at": at})
        connection.execute(text("UPDATE pieces SET current_revision_id = 1, approved_revision_id = 1"))
    database.upgrade(engine)
    with unit_of_work(session_factory(engine)) as session:
        revision = session.get(Revision, 1)
        assert revision.stations == ("*",)
        assert content_hash(content_of(revision)) == digest
        assert check_airable(session, 1, datetime(2026, 11, 2, tzinfo=UTC)) is None
        # a piece for some stations only hashes them: the approval vouches for where it airs
        assert content_hash(PieceContent(**{**vars(CONTENT), "stations": ("99001",)})) != digest
    engine.dispose()
