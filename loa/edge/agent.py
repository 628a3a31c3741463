"""The ``loa edge`` agent: pulls its station's programs ahead into a verified cache, plays each at its time from
the cache whether or not loa answers, plays emergencies at once, and sends back signed as-played records.

Two threads: the *link* (pull the schedule and files, poll emergencies every few seconds, heartbeat, send the
journal in ``seq`` order) and the *player* (the main thread: the item due now, from the cache only). Neither waits
for the other: the player never needs loa, and the link never needs the speaker.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from datetime import datetime
from typing import Any

import loa
from loa.edge.cache import Cache, Refused
from loa.edge.clock import EdgeClock
from loa.edge.journal import Journal
from loa.edge.link import Link, LinkDown, Revoked
from loa.edge.player import Output, OutputFault, play
from loa.edge.settings import EdgeSettings

log = logging.getLogger("loa.edge")


class Agent:
    """One device's agent, for the life of the process."""

    def __init__(self, settings: EdgeSettings, clock: EdgeClock) -> None:
        self.settings = settings
        self.clock = clock
        self.cache = Cache(settings.cache_dir, settings.key)
        self.journal = Journal(settings.cache_dir)
        clock.offset_s = self.journal.offset_s  # loa's time as last learnt, for a start with the link down
        self.link = Link(settings, clock)
        self.output = Output(settings)
        self.stopping = threading.Event()
        self.interrupt = threading.Event()  # an emergency arrived: stop the item playing
        self.beat_now = threading.Event()
        self.last_error: str | None = None
        self.audio_output = "unknown"
        self.revoked = False
        self._emergencies: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    # --- the player -------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Play until stopped (SIGTERM/SIGINT set ``stopping``)."""
        recovered = self.journal.recover()
        if recovered:
            log.warning("resumed after an interruption: %s/%s played %.1f s of it", recovered["delivery_id"],
                        recovered["item"], recovered["played_s"])
        link = threading.Thread(target=self._link_loop, name="edge-link", daemon=True)
        link.start()
        try:
            while not self.stopping.is_set():
                if not self._play_next():
                    self.stopping.wait(0.1)
        finally:
            self.stopping.set()
            link.join(timeout=5)
            self.output.close()
            self.link.close()

    def _due(self) -> tuple[str, dict[str, Any]] | None:
        """The emergency to play now, else the next unplayed item of the program on now."""
        with self._lock:
            for emergency in self._emergencies:
                for item in emergency["items"]:
                    ref = emergency["delivery_id"]
                    if self.cache.has(item["sha256"]) and not self.journal.played(ref, item["item"]):
                        return ref, item
        now = self.clock.loa_now()
        for program in self.cache.programs():
            if datetime.fromisoformat(program["start_at"]) <= now < datetime.fromisoformat(program["end_at"]):
                for item in program["items"]:
                    if not self.journal.played(program["delivery_id"], item["item"]):
                        return program["delivery_id"], item
        return None

    def _play_next(self) -> bool:
        due = self._due()
        if due is None:
            return False
        delivery_id, item = due
        emergency = delivery_id.startswith("emergency-")
        self.interrupt.clear()  # an emergency due would have come first: what is left is the program
        started = self.clock.loa_now()
        try:
            path = self.cache.checked(delivery_id, item)
        except Refused as refused:
            log.error("%s", refused)
            self._fault(str(refused))
            self.journal.record(delivery_id=delivery_id, item=item["item"], started_at=started, ended_at=started,
                                played_s=0.0, complete=False)
            return True

        def checkpoint(played_s: float) -> None:
            self.journal.playing(delivery_id=delivery_id, item=item["item"], started_at=started, played_s=played_s,
                                 at=self.clock.loa_now())

        checkpoint(0.0)
        stop = _either(self.stopping, None if emergency else self.interrupt)
        try:
            played = play(path, self.output, rate=self.settings.rate, speed=self.clock.speed, stop=stop,
                          progress=checkpoint)
            self.audio_output = "ok"
        except OutputFault as fault:
            log.error("%s", fault)
            self.audio_output = "fault"
            self._fault(str(fault))
            self.journal.recover()
            return True
        if self.stopping.is_set() and not played.complete:
            return True  # stopped by SIGTERM: the checkpoint says how far it played; recovered at the next start
        self.journal.record(delivery_id=delivery_id, item=item["item"], started_at=started,
                            ended_at=self.clock.loa_now(), played_s=played.played_s, complete=played.complete)
        self.journal.done_playing()
        log.info("played %s/%s: %.2f s%s", delivery_id, item["item"], played.played_s,
                 "" if played.complete else " (interrupted)")
        return True

    def _fault(self, message: str) -> None:
        self.last_error = message
        self.beat_now.set()

    # --- the link ---------------------------------------------------------------------------------------------

    def _link_loop(self) -> None:
        due = {"sync": 0.0, "emergency": 0.0, "beat": 0.0}
        every = {"sync": self.settings.sync_seconds, "emergency": self.settings.emergency_seconds,
                 "beat": self.settings.heartbeat_seconds}
        work = {"sync": self.sync, "emergency": self.poll_emergencies, "beat": self.heartbeat}
        while not self.stopping.is_set() and not self.revoked:
            for name in ("sync", "emergency", "beat"):
                if time.monotonic() >= due[name] or (name == "beat" and self.beat_now.is_set()):
                    due[name] = time.monotonic() + every[name]
                    self._attempt(work[name])
            self._attempt(self.send_played)
            self.stopping.wait(0.2)

    def _attempt(self, work: Any) -> None:
        try:
            work()
        except Revoked as revoked:
            log.error("loa refuses this device (%s): it no longer pulls; enrol it again", revoked)
            self.revoked = True
        except LinkDown as down:
            log.info("loa unreachable: %s; playing from the cache", down)
        except Exception:  # the link must survive anything one answer does
            log.exception("edge link step failed")

    def sync(self) -> None:
        """Pull the schedule for the days ahead, fetch and verify the files it lists, drop the rest."""
        document = self.link.call("GET", f"/api/edge/schedule?days={self.settings.days_ahead}")
        self.cache.keep_schedule(document)
        self.journal.keep_offset(self.clock.offset_s)
        self._take_emergencies(document.get("emergencies", []))
        for sha in self.cache.wanted():
            try:
                self.cache.store(sha, self.link.call("GET", f"/api/edge/files/{sha}", raw=True))
            except Refused as refused:
                self._fault(str(refused))
        self.cache.prune()

    def poll_emergencies(self) -> None:
        document = self.link.call("GET", "/api/edge/emergencies")
        self._take_emergencies(document.get("emergencies", []))

    def _take_emergencies(self, emergencies: list[dict[str, Any]]) -> None:
        for emergency in emergencies:
            for item in emergency["items"]:
                if not self.cache.has(item["sha256"]):
                    try:
                        self.cache.store(item["sha256"], self.link.call("GET", item["url"], raw=True))
                    except Refused as refused:
                        self._fault(str(refused))
        fresh = [e for e in emergencies
                 if any(not self.journal.played(e["delivery_id"], i["item"]) for i in e["items"])]
        with self._lock:
            self._emergencies = emergencies
        if fresh:
            self.interrupt.set()

    def heartbeat(self) -> None:
        self.beat_now.clear()
        until = self.cache.cache_until()
        self.link.call("POST", "/api/edge/heartbeat", {
            "version": loa.__version__, "clock_offset_s": round(self.clock.offset_s, 3),
            "cache_until": until.isoformat() if until else None,
            "disk_free_bytes": shutil.disk_usage(self.settings.cache_dir).free, "last_error": self.last_error,
            "audio_output": self.audio_output})

    def send_played(self) -> None:
        """Send the journal's unaccepted records, oldest first; loa ignores a ``seq`` it has."""
        records = self.journal.unsent()
        if records:
            answer = self.link.call("POST", "/api/edge/played", {"records": records})
            self.journal.accepted(int(answer["accepted_through"]))


class _Either(threading.Event):
    """Set when either of two events is (checked by the player between chunks)."""

    def __init__(self, first: threading.Event, second: threading.Event | None) -> None:
        super().__init__()
        self.first, self.second = first, second

    def is_set(self) -> bool:
        return self.first.is_set() or (self.second is not None and self.second.is_set())

    def wait(self, timeout: float | None = None) -> bool:
        end = time.monotonic() + (timeout or 0)
        while time.monotonic() < end:
            if self.is_set():
                return True
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))
        return self.is_set()


def _either(first: threading.Event, second: threading.Event | None) -> threading.Event:
    return _Either(first, second)
