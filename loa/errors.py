"""Turns errors into one clear line on stderr and an exit code, never a traceback for a user; the line is in the
command line's language (``loa.cli.lang``), through the same catalogs as the web's messages."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("loa")


@contextmanager
def report_errors() -> Iterator[None]:
    from sqlalchemy.exc import OperationalError

    from content.errors import LoaError
    from loa.cli import lang
    from loa.cli.lang import say
    from loa.i18n import error_line

    try:
        yield
    except LoaError as error:
        print(f"loa: {say('error')}: {error_line(error, lang.current)}", file=sys.stderr)
        raise SystemExit(error.exit_code) from None
    except OperationalError as error:
        reason = str(error.orig).splitlines()[0] if error.orig else str(error)
        hint = ""
        if "readonly" in reason or "read-only" in reason:
            hint = "; " + say("the database file or its folder is read-only")
        elif "disk" in reason and "full" in reason:
            hint = "; " + say("the disk is full, nothing was changed")
        print(f"loa: {say('error')}: {say('database')}: {reason}{hint}", file=sys.stderr)
        raise SystemExit(8) from None
    except KeyboardInterrupt:
        print(f"loa: {say('interrupted')}", file=sys.stderr)
        raise SystemExit(130) from None
