"""What the agent keeps to play without loa: the last signed schedule and the files it lists, each file stored
under its SHA-256 only after it hashed to it, and hashed again (with its item seal checked) before it plays."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from loa.edge import protocol


class Refused(Exception):
    """A cached item must not play: its file is altered or missing, or its seal is not loa's."""


class Cache:
    """Files under ``<dir>/files/<sha256>``, the schedule in ``<dir>/schedule.json``."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.files = folder / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        self.key = key
        self.schedule_path = folder / "schedule.json"

    # --- the schedule ---------------------------------------------------------------------------------------

    def schedule(self) -> dict[str, Any]:
        try:
            return json.loads(self.schedule_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {"programs": [], "emergencies": []}

    def keep_schedule(self, document: dict[str, Any]) -> None:
        """Keep the last signed schedule in place of the one before: loa lists only what it still stands by, so
        a program it withheld since (a piece withdrawn, a seal broken) is no longer played."""
        _write(self.schedule_path, json.dumps(document, ensure_ascii=False).encode("utf-8"))

    def programs(self) -> list[dict[str, Any]]:
        return sorted(self.schedule().get("programs", []), key=lambda p: p["start_at"])

    def rotations(self) -> list[dict[str, Any]]:
        """A board device's rotations (their ``items`` are the slide images)."""
        return sorted(self.schedule().get("rotations", []), key=lambda r: r["start_at"])

    # --- the files ------------------------------------------------------------------------------------------

    def path(self, sha256: str) -> Path:
        return self.files / sha256.lower()

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def store(self, sha256: str, data: bytes) -> None:
        """Keep ``data`` as the file ``sha256``; Refused when it does not hash to it (nothing is kept)."""
        if hashlib.sha256(data).hexdigest() != sha256.lower():
            raise Refused(f"file {sha256[:12]}… from loa does not match its SHA-256; not kept")
        _write(self.path(sha256), data)

    def checked(self, delivery_id: str, item: dict[str, Any]) -> Path:
        """The cached file of ``item`` after checking its seal and hashing it again; Refused (and the file
        dropped, to be fetched again) when either fails."""
        sha = str(item.get("sha256", "")).lower()
        if not protocol.item_seal_valid(self.key, delivery_id, str(item.get("item")), sha, item.get("seal", "")):
            raise Refused(f"{delivery_id}/{item.get('item')}: its seal is not loa's; not played")
        path = self.path(sha)
        if not path.is_file():
            raise Refused(f"{delivery_id}/{item.get('item')}: file {sha[:12]}… is not cached; not played")
        if protocol.file_sha256(path) != sha:
            path.unlink(missing_ok=True)
            raise Refused(f"{delivery_id}/{item.get('item')}: cached file {sha[:12]}… was altered; refused, "
                          "not played")
        return path

    def wanted(self) -> list[str]:
        """The SHA-256 of every file the schedule lists that is not cached yet."""
        listed = [i["sha256"] for p in [*self.programs(), *self.rotations(), *self.schedule().get("emergencies", [])]
                  for i in [*p["items"], *p.get("all_clear", [])]]
        return [sha for sha in dict.fromkeys(listed) if not self.has(sha)]

    def prune(self) -> None:
        """Drop files no program or emergency of the schedule lists any more."""
        listed = {i["sha256"] for p in [*self.programs(), *self.rotations(), *self.schedule().get("emergencies", [])]
                  for i in [*p["items"], *p.get("all_clear", [])]}
        for path in self.files.iterdir():
            if path.name not in listed and not path.name.startswith("."):
                path.unlink(missing_ok=True)

    def cache_until(self) -> datetime | None:
        """The end of the last program whose files are all cached."""
        ends = [datetime.fromisoformat(p["end_at"]) for p in self.programs()
                if all(self.has(i["sha256"]) for i in p["items"])]
        return max(ends) if ends else None


def _write(path: Path, data: bytes) -> None:
    """Write whole or not at all: a temporary file, flushed, then renamed into place."""
    partial = path.with_name(f".{path.name}.part")
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
