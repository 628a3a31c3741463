"""Why the planner left something out, one English template per rule and code.

A reason travels as its code and parameters (``loa --json plan``, the plan requests the web piece page reads);
the templates are the message ids of the Babel catalog ``planner.po``, through which the command line and the
web say the same sentence in the reader's language (``loa.i18n.reason_text``). The English ``reason`` the
planner's values still carry is the template filled in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Why a piece did not reach every station of an outlet (``Unplaced.code``).
UNPLACED_REASONS = {
    "no_slot": "no {outlet} slot in these days",
    "campaign_unknown": "campaign {campaign!r} is not configured in campaigns.toml",
    "campaign_off": "campaign {campaign!r} is not on between {first} and {last}",
    "not_valid": "outside its validity window for these days",
    "published": "already published on these {outlet}s",
    "not_measured": "its length could not be measured (rendering failed)",
    "too_long": "it lasts {seconds:.0f} s, longer than every slot ({longest:.0f} s)",
    "no_room": "no room: the slots were full of higher-ranked pieces",
    "emergency": "an emergency: sent by the emergency broadcast, not scheduled",
}

#: Why a campaign's daily target was not met (``Shortfall.code``).
TARGET_REASONS = {
    "no_pieces": "no approved piece of the campaign can air on this outlet that day",
    "too_long": "every piece of the campaign is longer than the programs of that day",
    "too_few_pieces": "too few pieces: a piece airs at most once per program",
    "full": "the programs are full of pinned, priority-level or higher-priority pieces",
}

#: Why a pin is held out of its program (``Held.code``).
HELD_REASONS = {
    "gone": "the piece has no approved revision for this outlet any more (withdrawn, or its channels changed)",
    "campaign_off": "its campaign is not on that day",
    "not_valid": "the approved revision is not valid at that time",
    "not_measured": "the length of the approved revision could not be measured (rendering failed)",
    "emergency": "the approved revision is an emergency: it goes out through the emergency broadcast, not in "
                 "programs",
    "no_room": "the approved revision lasts {seconds:.0f} s, but beside the other pinned pieces only {room:.0f} s "
               "of the {length:.0f} s program are left",
}

#: Every kind of reason, by the name ``loa.i18n.reason_text`` takes.
TEMPLATES: Mapping[str, Mapping[str, str]] = {"unplaced": UNPLACED_REASONS, "target": TARGET_REASONS,
                                              "held": HELD_REASONS}


def sentence(kind: str, code: str, params: Mapping[str, Any] | None = None) -> str:
    """The English sentence of a reason: its template filled from ``params``."""
    template = TEMPLATES[kind][code]
    return template.format(**params) if params else template
