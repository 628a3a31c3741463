"""Configures logging once for the processes loa starts (domain code only logs, never prints)."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from zoneinfo import ZoneInfo

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ZoneFormatter(logging.Formatter):
    """Stamps each line in the configured zone with its offset (``2026-12-01 06:00:00,125+07:00``), the
    time the app shows, whatever the host's zone (often UTC on a server)."""

    def __init__(self, zone: ZoneInfo) -> None:
        super().__init__(FORMAT)
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self.zone)
        stamp = moment.strftime(datefmt or "%Y-%m-%d %H:%M:%S")
        offset = moment.strftime("%z")
        return f"{stamp},{int(record.msecs):03d}{offset[:3]}:{offset[3:]}"


def configure_logging(zone: ZoneInfo | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(ZoneFormatter(zone or ZoneInfo("Asia/Ho_Chi_Minh")))
    logging.basicConfig(level=os.environ.get("LOA_LOG_LEVEL", "INFO").upper(), handlers=[handler])
    # APScheduler reports every job it adds and runs at INFO; loa logs what matters itself.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
