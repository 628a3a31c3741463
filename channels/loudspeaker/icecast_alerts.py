"""The emergency side of the Icecast loudspeaker adapter: cutting the source on a mount and putting an emergency
(its audio, or a relay of its live stream) on the same mount; the all-clear ending it.

:class:`IcecastAlerts` is mixed into :class:`channels.loudspeaker.icecast.IcecastLoudspeaker`, whose options,
HTTP session and streaming parts it uses; the module docstring there tells the whole story.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from channels.base import Alert, Delivery, PermanentError, Receipt, TransientError
from channels.http import secret_from_env
from channels.loudspeaker.icecast_sources import (
    ON_AIR,
    ON_AIR_LOCK,
    Live,
    basic_auth,
    check_clip,
    file_input,
    relay_input,
)

log = logging.getLogger(__name__)

#: How long a push whose source failed watches for an emergency that took its mount (one that cut it
#: from another process), before taking the failure for a fault to retry.
CUT_WATCH_S = 3.0


class IcecastAlerts:
    """Emergencies on an Icecast mount (see :mod:`channels.loudspeaker.icecast`)."""

    def _emergency(self, delivery: Delivery, alert: Alert) -> Receipt:
        """Cut what is on the mount and stream the emergency (or its all-clear) there, now."""
        mount = self.mount_for(delivery.station_code)
        where = self._where(mount)
        password = self._password()
        if alert.audio is not None:
            check_clip(alert.audio)
        elif alert.stream_url is None and not alert.all_clear:
            raise PermanentError(f"delivery {delivery.id}: emergency {alert.ref} has neither audio nor a stream")
        if alert.stream_url is not None and not re.match(r"^(https?|icecast|rtmp|rtsp|srt)://", alert.stream_url):
            raise PermanentError(f"delivery {delivery.id}: {alert.stream_url!r} is not a stream URL")
        base = {"mount": mount, "alert": alert.ref, "all_clear": alert.all_clear, "repeat": alert.repeat}
        now = self.clock()
        if alert.until is not None and now >= alert.until and not alert.all_clear:
            log.warning("delivery %s: emergency %s ended at %s; not streamed", delivery.id, alert.ref, alert.until)
            return Receipt(delivery_id=delivery.id, location=where, details={**base, "expired": True})
        live = self._live(mount)
        described = live.described if live is not None else None
        if described and (described[0] == delivery.id or (described[1:] == ("alert", alert.ref)
                                                          and not alert.all_clear)):
            log.info("delivery %s: emergency %s is still on air on %s", delivery.id, alert.ref, where)
            return Receipt(delivery_id=delivery.id, location=where, details={**base, "already_live": True})
        me = {"by": delivery.id, "alert": alert.ref, "all_clear": alert.all_clear}
        if alert.all_clear and alert.audio is None:
            # nothing to say: end this emergency's stream if it is on, leave anything else playing
            ended = self._cut(mount, me, only_alert=alert.ref)
            log.info("delivery %s: all-clear of %s on %s (%s)", delivery.id, alert.ref, where,
                     "ended its stream" if ended else "it was not on air")
            return Receipt(delivery_id=delivery.id, location=where, details={**base, "ended": ended})
        if alert.audio is not None:
            budget: float | None = alert.audio.duration_s + 2 * self.options.timeout_s + 30
            source = file_input((alert.audio,))
        else:
            assert alert.stream_url is not None
            length = (alert.until - now).total_seconds() if alert.until is not None else None
            budget = None if length is None else length + 2 * self.options.timeout_s + 30
            source = relay_input(alert.stream_url, length)
        deadline = time.monotonic() + self.options.emergency_connect_s
        cut = None
        while True:
            cut = self._cut(mount, me) or cut
            self._wait_until_free(mount, deadline)
            log.warning("delivery %s: emergency %s on %s%s", delivery.id, alert.ref, where,
                        f", cutting {cut['delivery']} after {cut['played_s']} s" if cut else "")
            began, started = time.monotonic(), self.clock()
            try:
                self._go_on_air(delivery, source, mount, password, budget, deadline)
                break
            except TransientError as refused:
                # refused at once: another source took the mount between the cut and the connection
                if "403" not in str(refused) or time.monotonic() > deadline or time.monotonic() - began > 5:
                    raise
        details: dict[str, Any] = {**base, "source": "audio" if alert.audio is not None else "stream",
                                   "on_air": True, "started_at": started.isoformat(), "interrupted": cut}
        return Receipt(delivery_id=delivery.id, location=where, details=details)

    def _cut(self, mount: str, me: dict[str, Any], *, only_alert: str | None = None) -> dict[str, Any] | None:
        """Stop the source on ``mount`` (only an emergency ``only_alert`` when given); what was cut
        (``delivery``, ``alert``, ``played_s``, ``how``), or None when nothing (that may be cut) was on."""
        key = (self.options.host, self.options.port, mount)
        with ON_AIR_LOCK:
            local = ON_AIR.get(key)
            if local is not None:
                described = Live(local.description, None).described
                if local.cut_by is None and (only_alert is None
                                             or (described and described[1:] == ("alert", only_alert))):
                    local.cut_by = dict(me)
                    local.process.terminate()
                    return {"delivery": described[0] if described else None,
                            "alert": described[2] if described else None,
                            "played_s": round(time.monotonic() - local.started, 1), "how": "stopped"}
                return None  # being cut already, or not ours to cut
        live = self._live(mount)
        if live is None:
            return None
        described = live.described
        if only_alert is not None and not (described and described[1:] == ("alert", only_alert)):
            return None
        if not self.options.admin_password_env:
            # a source that has just ended stays on the status page a moment: give it that moment
            deadline = time.monotonic() + 2.0
            while live is not None and time.monotonic() < deadline:
                time.sleep(0.1)
                live = self._live(mount)
            if live is None:
                return None
            raise TransientError(f"{self._where(mount)} is held by a source of another process "
                                 f"({live.description!r}); set admin_password_env so an emergency can cut it",
                                 retry_after=5)
        admin = secret_from_env(self.options.admin_password_env, "Icecast admin")
        url = f"http://{self.options.host}:{self.options.port}/admin/killsource"
        self.http.request("GET", url, what="Icecast killsource", params={"mount": mount},
                          headers={"Authorization": basic_auth(self.options.admin_user, admin)}, also_ok=(400,))
        return {"delivery": described[0] if described else None, "alert": described[2] if described else None,
                "played_s": live.played_s, "how": "killsource"}

    def _wait_until_free(self, mount: str, deadline: float) -> None:
        while self._live(mount) is not None:
            if time.monotonic() > deadline:
                raise TransientError(f"{self._where(mount)} was not free within "
                                     f"{self.options.emergency_connect_s:.0f} s of cutting its source")
            time.sleep(0.05)

    def _cut_from_elsewhere(self, mount: str, began: float) -> dict[str, Any] | None:
        """After our source (started at ``time.monotonic()`` ``began``) failed: the emergency that took the
        mount (cut from another process), if one did."""
        played = round(time.monotonic() - began, 3)
        deadline = time.monotonic() + CUT_WATCH_S
        while True:
            live = self._live(mount)
            described = live.described if live is not None else None
            if described and described[1] is not None:
                return {"by": described[0], "alert": described[2], "all_clear": described[1] == "all-clear",
                        "played_s": played}
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)
