"""A piece's content hash: what it covers, and the fields added later (level, slogan) that leave the hashes of
revisions approved before them as they were."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from test_pieces import BODY, TITLE, content

from content.errors import InputError
from content.pieces import MAX_SLOGAN, PieceContent, content_hash


def test_hash_ignores_where_content_came_from() -> None:
    assert content_hash(content(origin="a.txt")) == content_hash(content(origin="feed item 7"))


def test_the_level_hashes_as_the_urgent_flag_it_replaced() -> None:
    """Revisions approved before levels keep their hash: priority hashes as ``urgent: true``, normal as false."""
    def old_hash(urgent: bool) -> str:
        document = {"title": TITLE, "body": BODY, "campaign": None, "channels": ["loudspeaker"], "valid_from": None,
                    "valid_until": None, "priority": 5, "urgent": urgent, "audio_sha256": None, "image_sha256": None}
        payload = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    base = PieceContent(TITLE, BODY, channels=("loudspeaker",))
    assert content_hash(base) == old_hash(False)
    assert content_hash(PieceContent(TITLE, BODY, channels=("loudspeaker",), level="priority")) == old_hash(True)
    hashes = {content_hash(PieceContent(TITLE, BODY, channels=("loudspeaker",), level=level))
              for level in ("normal", "priority", "emergency")}
    assert len(hashes) == 3


def test_the_slogan_mark_leaves_unmarked_hashes_as_they_were_and_keeps_slogans_short() -> None:
    """Revisions hashed before the mark existed keep their hash (an unset mark is left out); a slogan is short."""
    plain = PieceContent("Khẩu hiệu", "Học, học nữa, học mãi!")
    assert content_hash(plain) == "9f7694928ae427c6f08e7eda6020d7cf7e7ed2a6dafea489407ad6ccb1402720"  # as before 0020
    marked = replace(plain, slogan=True)
    assert content_hash(plain) == content_hash(replace(plain, slogan=False)) != content_hash(marked)
    with pytest.raises(InputError, match="slogan has at most 400") as caught:
        replace(plain, slogan=True, body="Chữ " * MAX_SLOGAN).checked()
    assert caught.value.where == "body"
