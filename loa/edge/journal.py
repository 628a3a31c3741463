"""The agent's memory on disk: the as-played records not yet accepted by loa (in ``seq`` order), which items
have played, and the item playing now (a checkpoint, so a killed agent reports the part it played)."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


class Journal:
    """``journal.jsonl`` (records), ``state.json`` (next seq, accepted seq, played items), ``playing.json``."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.records_path = folder / "journal.jsonl"
        self.state_path = folder / "state.json"
        self.playing_path = folder / "playing.json"
        self.lock = threading.RLock()  # the player and the link both write here
        try:
            self.state: dict[str, Any] = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            self.state = {"next_seq": 1, "accepted_through": 0, "played": {}, "offset_s": 0.0}

    def _save(self) -> None:
        _write_text(self.state_path, json.dumps(self.state))

    # --- what has played --------------------------------------------------------------------------------------

    def played(self, delivery_id: str, item: str) -> bool:
        return f"{delivery_id}/{item}" in self.state["played"]

    def record(self, *, delivery_id: str, item: str, started_at: datetime, ended_at: datetime, played_s: float,
               complete: bool) -> dict[str, Any]:
        """Append one as-played record (synced to disk) and remember the item as played."""
        with self.lock:
            return self._record(delivery_id, item, started_at, ended_at, played_s, complete)

    def _record(self, delivery_id: str, item: str, started_at: datetime, ended_at: datetime, played_s: float,
                complete: bool) -> dict[str, Any]:
        record = {"seq": self.state["next_seq"], "delivery_id": delivery_id, "item": item,
                  "started_at": started_at.isoformat(), "ended_at": ended_at.isoformat(),
                  "played_s": round(played_s, 3), "complete": complete}
        with self.records_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.state["next_seq"] += 1
        self.state["played"][f"{delivery_id}/{item}"] = ended_at.isoformat()
        horizon = (ended_at - timedelta(days=30)).isoformat()
        self.state["played"] = {k: v for k, v in self.state["played"].items() if v >= horizon}
        self._save()
        return record

    # --- the rounds of an emergency -----------------------------------------------------------------------------

    def round_of(self, emergency_ref: str) -> int:
        """The last round of an emergency this device began playing (round k is due at its start + k repeats);
        -1 when it has not played it at all."""
        return int(self.state.get("rounds", {}).get(emergency_ref, -1))

    def begin_round(self, emergency_ref: str, round_no: int) -> None:
        with self.lock:
            self.state.setdefault("rounds", {})[emergency_ref] = round_no
            self._save()

    # --- the item playing now ---------------------------------------------------------------------------------

    def playing(self, *, delivery_id: str, item: str, started_at: datetime, played_s: float, at: datetime) -> None:
        _write_text(self.playing_path, json.dumps({"delivery_id": delivery_id, "item": item, "played_s": played_s,
                                                   "started_at": started_at.isoformat(), "at": at.isoformat()}))

    def done_playing(self) -> None:
        self.playing_path.unlink(missing_ok=True)

    def recover(self) -> dict[str, Any] | None:
        """After a crash or kill: the record of the item that was playing (partial, as far as its last checkpoint)."""
        try:
            last = json.loads(self.playing_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        record = self.record(delivery_id=last["delivery_id"], item=last["item"],
                             started_at=datetime.fromisoformat(last["started_at"]),
                             ended_at=datetime.fromisoformat(last["at"]), played_s=float(last["played_s"]),
                             complete=False)
        self.done_playing()
        return record

    # --- sending ----------------------------------------------------------------------------------------------

    def unsent(self, limit: int = 500) -> list[dict[str, Any]]:
        """The records loa has not accepted yet, oldest first."""
        try:
            lines = self.records_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        found = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:  # a line cut short by a power loss
                continue
            if record["seq"] > self.state["accepted_through"]:
                found.append(record)
        return found[:limit]

    def accepted(self, through: int) -> None:
        """loa keeps every record up to ``through``: forget them."""
        with self.lock:
            self._accepted(through)

    def _accepted(self, through: int) -> None:
        if through <= self.state["accepted_through"]:
            return
        self.state["accepted_through"] = through
        self._save()
        rest = [json.dumps(r) for r in self.unsent(limit=10**9)]
        _write_text(self.records_path, "".join(line + "\n" for line in rest))

    @property
    def offset_s(self) -> float:
        return float(self.state.get("offset_s", 0.0))

    def keep_offset(self, offset_s: float) -> None:
        with self.lock:
            if abs(offset_s - self.offset_s) > 0.5:
                self.state["offset_s"] = offset_s
                self._save()


def _write_text(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.part")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
