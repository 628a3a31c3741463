"""What a person reads instead of codes: campaign, slot and outlet names, for pages, the diff and iCal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _tables(settings: Any) -> tuple[dict[str, str], dict[str, str]]:
    """campaign code → name and slot code → label, from the configuration (a few dozen entries)."""
    campaigns = {c.code: c.name for c in settings.campaigns}
    slots = {spec.default_name(i): spec.label for i, spec in enumerate(settings.slots) if spec.label}
    return campaigns, slots


class Names:
    """Names in the reader's language; a code nobody named is shown as it is rather than hidden."""

    def __init__(self, settings: Any, gettext: Callable[[str], str]) -> None:
        self._campaigns, self._slots = _tables(settings)
        self._ = gettext

    def campaign(self, code: str | None) -> str:
        return self._campaigns.get(code, code) if code else ""

    def outlet(self, code: str) -> str:
        return self._(code)

    def outlets(self, codes: Any) -> str:
        return ", ".join(self.outlet(c) for c in codes)

    def slot(self, code: str, outlet: str = "") -> str:
        if code in self._slots:
            return self._slots[code]
        if code.startswith("demo-"):  # the demo's one-off first slot (loa.demo)
            return self._("Demo slot")
        return code
