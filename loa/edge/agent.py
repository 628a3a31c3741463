"""The ``loa edge`` agent: pulls its station's programs ahead into a verified cache, plays each at its time from
the cache whether or not loa answers, plays emergencies at once (again at each repeat interval until their end or
all-clear; the all-clear message once; a stream emergency relayed from its URL), and sends back signed as-played
records.

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
from loa.edge.board import write_board
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
        self._polled = False  # an emergency answer came this run (else a board shows the cached schedule's)
        self._playing_alert: str | None = None  # the emergency playing now
        self.alert_stop = threading.Event()  # the emergency playing was cleared: stop it
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
                if self.settings.outlet == "board":  # a screen: the kiosk page from the cache, each second
                    self._show_board()
                    self.stopping.wait(1.0)
                elif not self._play_next():
                    self.stopping.wait(0.1)
        finally:
            self.stopping.set()
            link.join(timeout=5)
            self.output.close()
            self.link.close()

    def _show_board(self) -> None:
        schedule = self.cache.schedule()
        with self._lock:  # loa's last answer, or before any this run the one kept with the schedule
            emergencies = list(self._emergencies) if self._polled else schedule.get("emergencies", [])
        try:
            write_board(self.cache, schedule.get("station_name") or self.settings.station, emergencies,
                        self.clock.loa_now())
        except OSError as error:
            self._fault(f"board page: {error}")

    def _due(self) -> tuple[str, dict[str, Any]] | None:
        """The next unplayed item of the program on now (an emergency due is asked first, by ``_play_next``)."""
        now = self.clock.loa_now()
        for program in self.cache.programs():
            if datetime.fromisoformat(program["start_at"]) <= now < datetime.fromisoformat(program["end_at"]):
                for item in program["items"]:
                    if not self.journal.played(program["delivery_id"], item["item"]):
                        return program["delivery_id"], item
        return None

    def _alert_due(self) -> tuple[dict[str, Any], int] | None:
        """The emergency to play now and its round (0, 1, … at its start + k repeats; -1 for its all-clear message):
        a round not begun yet of an emergency in force, else the all-clear of one this device played."""
        now = self.clock.loa_now()
        with self._lock:
            for emergency in self._emergencies:
                ref = emergency["delivery_id"]
                if emergency.get("cleared"):
                    clear = emergency.get("all_clear") or []
                    if (clear and self.journal.round_of(ref) >= 0 and not self.journal.played(ref, "all_clear")
                            and all(self.cache.has(i["sha256"]) for i in clear)):
                        return emergency, -1
                    continue
                round_no = alert_round(emergency, now)
                playable = emergency.get("stream_url") or (
                    emergency["items"] and all(self.cache.has(i["sha256"]) for i in emergency["items"]))
                if round_no is not None and round_no > self.journal.round_of(ref) and playable:
                    return emergency, round_no
        return None

    def _play_next(self) -> bool:
        alert = self._alert_due()
        if alert is not None:
            self._play_alert(*alert)
            return True
        due = self._due()
        if due is None:
            return False
        self.interrupt.clear()  # an emergency due would have come first: what is left is the program
        self._play_item(*due, stop=_either(self.stopping, self.interrupt))
        return True

    def _play_alert(self, emergency: dict[str, Any], round_no: int) -> None:
        """One round of an emergency (its speech, then its stream for its length or until cleared), or its
        all-clear message; the all-clear cuts a round short."""
        ref = emergency["delivery_id"]
        with self._lock:
            self.alert_stop.clear()
            self._playing_alert = ref
        try:
            if round_no < 0:
                for item in emergency["all_clear"]:
                    self._play_item(ref, item, stop=self.stopping)
                return
            self.journal.begin_round(ref, round_no)
            log.info("emergency %s: round %d", ref, round_no)
            stop = _either(self.stopping, self.alert_stop)
            for item in emergency["items"]:
                if not stop.is_set():
                    self._play_item(ref, item, stop=stop)
            if emergency.get("stream_url") and not stop.is_set():
                self._play_stream(emergency, stop)
        finally:
            with self._lock:
                self._playing_alert = None

    def _play_stream(self, emergency: dict[str, Any], stop: threading.Event) -> None:
        """Relay the emergency's live stream (ffmpeg reads the URL) until its end, the all-clear, or the stream ends."""
        ref, started = emergency["delivery_id"], self.clock.loa_now()
        until = datetime.fromisoformat(emergency["until"]) if emergency.get("until") else None
        limit = (until - started).total_seconds() if until else None

        def checkpoint(played_s: float) -> None:
            self.journal.playing(delivery_id=ref, item="stream", started_at=started, played_s=played_s,
                                 at=self.clock.loa_now())

        checkpoint(0.0)
        try:
            played = play(emergency["stream_url"], self.output, rate=self.settings.rate, speed=self.clock.speed,
                          stop=stop, progress=checkpoint, limit_s=limit)
        except OutputFault as fault:
            log.error("%s", fault)
            self._fault(f"{ref}: stream {emergency['stream_url']}: {fault}")
            played = None
        if self.stopping.is_set() and played is not None and not played.complete:
            return  # recovered from the checkpoint at the next start
        self.journal.record(delivery_id=ref, item="stream", started_at=started, ended_at=self.clock.loa_now(),
                            played_s=played.played_s if played else 0.0, complete=bool(played and played.complete))
        self.journal.done_playing()
        log.info("relayed %s/stream: %.2f s", ref, played.played_s if played else 0.0)

    def _play_item(self, delivery_id: str, item: dict[str, Any], *, stop: threading.Event) -> None:
        started = self.clock.loa_now()
        try:
            path = self.cache.checked(delivery_id, item)
        except Refused as refused:
            log.error("%s", refused)
            self._fault(str(refused))
            self.journal.record(delivery_id=delivery_id, item=item["item"], started_at=started, ended_at=started,
                                played_s=0.0, complete=False)
            return

        def checkpoint(played_s: float) -> None:
            self.journal.playing(delivery_id=delivery_id, item=item["item"], started_at=started, played_s=played_s,
                                 at=self.clock.loa_now())

        checkpoint(0.0)
        try:
            played = play(path, self.output, rate=self.settings.rate, speed=self.clock.speed, stop=stop,
                          progress=checkpoint)
            self.audio_output = "ok"
        except OutputFault as fault:
            log.error("%s", fault)
            self.audio_output = "fault"
            self._fault(str(fault))
            self.journal.recover()
            return
        if self.stopping.is_set() and not played.complete:
            return  # stopped by SIGTERM: the checkpoint says how far it played; recovered at the next start
        self.journal.record(delivery_id=delivery_id, item=item["item"], started_at=started,
                            ended_at=self.clock.loa_now(), played_s=played.played_s, complete=played.complete)
        self.journal.done_playing()
        log.info("played %s/%s: %.2f s%s", delivery_id, item["item"], played.played_s,
                 "" if played.complete else " (interrupted)")

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
                if self.revoked:  # refused once is refused for every call: ask nothing more
                    return
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
        for emergency in emergencies if self.settings.outlet != "board" else ():  # a screen shows, never speaks
            for item in [*emergency["items"], *emergency.get("all_clear", [])]:
                if not self.cache.has(item["sha256"]):
                    try:
                        self.cache.store(item["sha256"], self.link.call("GET", item["url"], raw=True))
                    except Refused as refused:
                        self._fault(str(refused))
        with self._lock:
            self._emergencies = emergencies
            self._polled = True
            in_force = {e["delivery_id"] for e in emergencies if not e.get("cleared")}
            if self._playing_alert is not None and self._playing_alert not in in_force:
                self.alert_stop.set()  # cleared (or ended) while it plays: stop at once
        if self._alert_due() is not None:
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


def alert_round(emergency: dict[str, Any], now: datetime) -> int | None:
    """Which round of ``emergency`` is on at ``now`` (round k begins at its start + k repeat intervals), or None
    before its start and after its end."""
    starts = datetime.fromisoformat(emergency["starts_at"])
    until = datetime.fromisoformat(emergency["until"]) if emergency.get("until") else None
    if now < starts or (until is not None and now >= until):
        return None
    every = emergency.get("repeat_every_s")
    return int((now - starts).total_seconds() // every) if every else 0


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
