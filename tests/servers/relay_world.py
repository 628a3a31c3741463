"""A slot that relays the province's live program, as schedule.toml writes it, for the relay tests.

Not a test module; the relay tests import it by name.
"""

from __future__ import annotations

RELAY_URL = "http://tinh.example/truc-tiep.mp3"
RELAY_NAME = "Chương trình phát thanh tỉnh"


def relay_slot(name: str, outlet: str, *, url: str = RELAY_URL, length: str = "15m", at: str = "06:00",
               slot_length: str = "30m", extra: str = "") -> str:
    """schedule.toml with one slot ``name`` on ``outlet`` relaying ``url`` for ``length`` (``extra``: more lines
    of the relay table, or ``length = None`` to leave the length out)."""
    length_line = "" if length is None else f'length = "{length}"\n'
    return (f'[[slot]]\nname = "{name}"\noutlet = "{outlet}"\nstations = "*"\ndays = "mon-sun"\nat = "{at}"\n'
            f'length = "{slot_length}"\n\n[[slot.relay]]\nurl = "{url}"\nname = "{RELAY_NAME}"\n{length_line}{extra}')
