"""The outlet kinds and each kind's rules, written once: how a program is timed, when its pieces are
checked, how late it may still go out, whether a piece goes out once per station, slide defaults, and
whether it carries emergencies (their repeats, and their end when they run out).

Adding an outlet kind means one line in :class:`Outlet` and one :class:`OutletRules` in ``RULES``
(plus its channel adapters in ``channels/`` and its field in ``StationSpec``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outlet(StrEnum):
    """Where a station's content goes out; the names used in config, the database and channels."""

    LOUDSPEAKER = "loudspeaker"
    BOARD = "board"
    PORTAL = "portal"
    SOCIAL = "social"  # a Facebook Page, Zalo Official Account or Viber channel post (channels/social)
    PRINT = "print"  # the weekly printed bulletin (bản tin tuần): one edition a week, on the slot's day


class Form(StrEnum):
    """What a piece becomes on an outlet, and so what its time in a program is."""

    SPEECH = "speech"  # spoken clips in an assembled program; timed by the speech rendition's seconds
    SLIDES = "slides"  # slides in a rotation; timed by their display seconds, per board profile
    ARTICLES = "articles"  # published articles; untimed


class Lateness(StrEnum):
    """How long after its start a program that nobody pushed may still go out."""

    GRACE = "grace"  # until [dispatch] grace_minutes after its start (or after an editor's retry)
    UNTIL_END = "until_end"  # until its window ends (or grace_minutes after an editor's retry)
    UNTIL_EXPIRY = "until_expiry"  # until every piece in it has expired; without end while one never expires


@dataclass(frozen=True)
class SlideProfile:
    """Characters per slide and seconds per slide, the defaults of a board whose options do not say."""

    chars: int = 280
    seconds: int = 15

    def of(self, options: Any) -> tuple[int, int]:
        """(characters, seconds) per slide of an outlet's options, these defaults where it has none."""
        return int(getattr(options, "slide_chars", self.chars)), int(getattr(options, "slide_seconds", self.seconds))


@dataclass(frozen=True)
class OutletRules:
    """The rules of one outlet kind, read by the planner, the editors' tools, the dispatcher and reports."""

    outlet: Outlet
    form: Form
    #: Programs carry the fixed time of the jingles (intro and outro) besides their pieces.
    jingles: bool = False
    #: A program is a window shown throughout (a board rotation): a piece fits it when valid at some
    #: point of the window, and its pieces are checked at the moment of the push, not at the start.
    window: bool = False
    #: A piece goes out once per station, ever (a portal article), rather than in rotation.
    once_per_station: bool = False
    #: Two programs of one station cannot overlap (one loudspeaker plays one program at a time).
    one_at_a_time: bool = False
    lateness: Lateness = Lateness.GRACE
    #: A program already pushed is pushed again, as a new delivery superseding the old one, when a re-plan
    #: changes it before its window ends (a board rotation follows the day). Without it, what was pushed
    #: stays as it went out (a loudspeaker program, a published article).
    replaceable_while_running: bool = False
    #: What went out can be taken down again when its piece is withdrawn (a published article or post): a
    #: withdrawal goes through the outbox (``scheduler.dispatch.withdrawals``). A program that played, a
    #: bulletin printed, cannot be; a board rotation is pushed again without the piece instead.
    withdrawable: bool = False
    slides: SlideProfile | None = None
    #: The report's counters this outlet's airings and their seconds add to (``Counts`` fields).
    tally: tuple[str, str | None] = ("airings", None)
    #: The outlet carries emergencies (khẩn cấp) and their all-clears: the emergency fan-out pushes them here.
    alerts: bool = True
    #: An emergency's repeats are pushed here too (a loudspeaker says it again; a board is put up again). Without
    #: it only the first push and the all-clear go out: a portal or a social post is one post, updated or
    #: found again, never a new post every quarter of an hour.
    alert_repeats: bool = False
    #: An emergency that reaches its end (``until``) without an all-clear is ended here by a push of its own
    #: (the all-clear's path, announcing nothing: ``channels.Alert.ended``): this kind of outlet may keep what an
    #: emergency put up until told (a folder's emergency playlist and the slot it took over, a sticky WordPress
    #: post, a feed's top item). Without it the outlet ends it by itself at ``until`` (a kiosk banner, an Anthias
    #: asset's end date, an http board's ``until``) or it is a post that needs no end (social).
    alert_end: bool = False
    #: A push of a program may be cut by an emergency, its remaining pieces recorded as interrupted
    #: (``scheduler.dispatch.interruptions``).
    interruptible: bool = False
    #: A post links to the piece's article on the station's portal at the address the portal's own push recorded
    #: (a WordPress post's link, kept in that delivery's receipt), when the portal published it before this push.
    links_portal: bool = False

    @property
    def timed(self) -> bool:
        """Whether a program has a length its pieces' measured seconds must fit in."""
        return self.form is not Form.ARTICLES

    @property
    def daily_targets(self) -> bool:
        """Whether a campaign's ``per_day`` target counts this outlet's airings (a piece published once cannot)."""
        return not self.once_per_station

    def duration_key(self, profile: tuple[int, int] | str | None = None) -> str:
        """The key of a piece's measured seconds for this outlet (``Candidate.seconds``): the outlet's
        name, or ``board:<chars>/<seconds>`` for slides, which last as long as the board's profile makes them."""
        if self.form is Form.SLIDES:
            if isinstance(profile, tuple):
                profile = f"{profile[0]}/{profile[1]}"
            return f"{self.outlet}:{profile or ''}"
        return str(self.outlet)

    def overhead_s(self, jingles_s: float) -> float:
        """The fixed seconds of one non-empty program of this outlet, given the jingles' seconds."""
        return jingles_s if self.jingles else 0.0

    def check_moment(self, now: datetime, start: datetime) -> datetime:
        """When a program's pieces must be approved and valid: at its start, or now if later; a window
        (board rotation) at the moment of the push, as it shows its slides from then on."""
        return now if self.window else max(now, start)

    def valid_in(self, valid_from: datetime | None, valid_until: datetime | None,
                 start: datetime, end: datetime) -> bool:
        """Whether a piece valid from ``valid_from`` until ``valid_until`` may go into a program of
        ``start``–``end``: valid at its start, or for a window at some point of it."""
        if self.window:
            return (valid_from is None or valid_from < end) and (valid_until is None or valid_until > start)
        return (valid_from is None or valid_from <= start) and (valid_until is None or valid_until > start)


RULES: Mapping[Outlet, OutletRules] = {
    Outlet.LOUDSPEAKER: OutletRules(Outlet.LOUDSPEAKER, Form.SPEECH, jingles=True, one_at_a_time=True,
                                    lateness=Lateness.GRACE, tally=("airings", "seconds_aired"),
                                    alert_repeats=True, interruptible=True, alert_end=True),
    Outlet.BOARD: OutletRules(Outlet.BOARD, Form.SLIDES, window=True, lateness=Lateness.UNTIL_END,
                              replaceable_while_running=True, slides=SlideProfile(), tally=("slides", "slide_seconds"),
                              alert_repeats=True),
    Outlet.PORTAL: OutletRules(Outlet.PORTAL, Form.ARTICLES, once_per_station=True,
                               lateness=Lateness.UNTIL_EXPIRY, withdrawable=True, tally=("articles", None),
                               alert_end=True),
    # Like a portal: one post per piece per station, published at a slot time, late while the piece is valid.
    Outlet.SOCIAL: OutletRules(Outlet.SOCIAL, Form.ARTICLES, once_per_station=True,
                               lateness=Lateness.UNTIL_EXPIRY, withdrawable=True, tally=("posts", None),
                               links_portal=True),
    # Like a portal, each piece once per commune; an edition not made on its day may still go out that day.
    # A weekly printed bulletin cannot warn anyone in time: no emergencies (its adapter answers so if sent one).
    Outlet.PRINT: OutletRules(Outlet.PRINT, Form.ARTICLES, once_per_station=True,
                              lateness=Lateness.UNTIL_END, tally=("printed", None), alerts=False),
}

#: Every outlet name, in the order pages and reports list them.
OUTLETS: tuple[str, ...] = tuple(str(outlet) for outlet in Outlet)
#: The outlets an emergency is pushed to, in the same order.
ALERT_OUTLETS: tuple[str, ...] = tuple(str(outlet) for outlet, rules in RULES.items() if rules.alerts)


def takes_alert(outlet: str, repeat: int) -> bool:
    """Whether push number ``repeat`` (0 the first; the all-clear counts as a first) of an emergency goes to
    ``outlet``."""
    rules = rules_of(outlet)
    return rules.alerts and (repeat == 0 or rules.alert_repeats)


def takes_alert_end(outlet: str) -> bool:
    """Whether the end of an emergency that ran out without an all-clear is pushed to ``outlet``."""
    rules = rules_of(outlet)
    return rules.alerts and rules.alert_end


def rules_of(outlet: str) -> OutletRules:
    """The rules of ``outlet`` (a name from config or the database); KeyError names an unknown one."""
    try:
        return RULES[Outlet(outlet)]
    except ValueError:
        raise KeyError(f"{outlet!r} is not an outlet; use {', '.join(OUTLETS)}") from None
