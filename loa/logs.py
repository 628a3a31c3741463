"""Configures logging once for the processes loa starts (domain code only logs, never prints)."""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("LOA_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # APScheduler reports every job it adds and runs at INFO; loa logs what matters itself.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
