"""Results rolled up the tree of centres: each commune's figures, then its district's, then the province's.

A centre's figures are the sums of its subtree's stations: per campaign (theme) from the report's detail lines,
and in total from the stations' totals (a delivery holding two campaigns counts once in a total, as in the
report). Bulletins sent down from a centre above and received, accepted and aired below are counted by
:func:`sent_down` (issue 19's send-down, ``scheduler.bulletins``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from content.centre_config import LEVEL_NAMES
from content.centres import Tree, tree_of
from scheduler.reports.build import NO_CAMPAIGN, Counts, Report, local_midnight_utc

ALL_CAMPAIGNS = "(mọi chiến dịch)"


@dataclass(frozen=True)
class SentDown:
    """Bulletins a centre above sent down to this centre's subtree in the period."""

    received: int = 0
    accepted: int = 0
    aired: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"received": self.received, "accepted": self.accepted, "aired": self.aired}


def sent_down(session: Session, *, start_at: datetime, end_at: datetime, centres: Iterable[str],
              ) -> Mapping[str, SentDown]:
    """Per centre code, the bulletins sent down to it (or below it) between ``start_at`` and ``end_at``: received,
    accepted, aired, counted once per commune reached (``scheduler.bulletins.status.rolled_up``)."""
    from scheduler.bulletins.status import rolled_up

    return {code: SentDown(*figures) for code, figures in rolled_up(session, start_at=start_at, end_at=end_at,
                                                                     centres=centres).items()}


@dataclass(frozen=True)
class CentreLine:
    """One centre's figures: all campaigns together (``campaign`` is None and ``total`` True) or one campaign."""

    centre: str
    centre_name: str
    level: str
    depth: int
    total: bool
    campaign: str | None
    campaign_name: str
    counts: Counts
    sent_down: SentDown = field(default_factory=SentDown)

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES.get(self.level, self.level)

    def to_dict(self) -> dict[str, Any]:
        return {"centre": self.centre, "centre_name": self.centre_name, "level": self.level, "depth": self.depth,
                "total": self.total, "campaign": self.campaign, "campaign_name": self.campaign_name,
                **self.counts.to_dict(), "sent_down": self.sent_down.to_dict()}


def _add(into: Counts, counts: Counts) -> None:
    for item in fields(Counts):
        setattr(into, item.name, getattr(into, item.name) + getattr(counts, item.name))


def roll_up(report: Report, tree: Tree, *, top: str | None = None,
            sent: Mapping[str, SentDown] | None = None) -> list[CentreLine]:
    """The report's figures per centre of ``top``'s subtree (the whole tree when None), parents first; each
    centre's total line, then one line per campaign it aired."""
    sent = sent or {}
    shown = tree.subtree(top)
    chain: dict[str, tuple[str, ...]] = {}

    def above(station: str) -> tuple[str, ...]:
        if station not in chain:
            chain[station] = tree.chain(tree.centre_of_station(station))
        return chain[station]

    totals: dict[str, Counts] = {}
    per_campaign: dict[tuple[str, str | None], Counts] = {}
    names: dict[str | None, str] = {}
    for line in report.by_station:
        for centre in above(line.station or ""):
            _add(totals.setdefault(centre, Counts()), line.counts)
    for line in report.detail:
        names[line.campaign] = line.campaign_name
        for centre in above(line.station or ""):
            _add(per_campaign.setdefault((centre, line.campaign), Counts()), line.counts)
    out: list[CentreLine] = []
    for node in tree.ordered():
        if node.code not in shown:
            continue
        depth = len(tree.chain(node.code)) - 1
        out.append(CentreLine(node.code, node.name, node.level, depth, True, None, ALL_CAMPAIGNS,
                              totals.get(node.code, Counts()), sent.get(node.code, SentDown())))
        campaigns = sorted((c for centre, c in per_campaign if centre == node.code),
                           key=lambda code: (code is None, code or ""))
        for campaign in campaigns:
            out.append(CentreLine(node.code, node.name, node.level, depth, False, campaign,
                                  names.get(campaign, NO_CAMPAIGN), per_campaign[(node.code, campaign)]))
    return out


def add_centres(session: Session, report: Report, *, top: str | None = None) -> Report:
    """Fill ``report.centres`` with the roll-up of ``top``'s subtree (the reports page, ``loa report --by centre``)."""
    tree = tree_of(session)
    zone = ZoneInfo(report.zone)
    start_at = local_midnight_utc(report.start, zone)
    end_at = local_midnight_utc(report.end + timedelta(days=1), zone)
    sent = sent_down(session, start_at=start_at, end_at=end_at, centres=tree.subtree(top))
    report.centres = roll_up(report, tree, top=top, sent=sent)
    return report


#: The roll-up's columns in every format, after the level and the centre.
SUMMARY_HEADERS = ("Cấp", "Mã trung tâm", "Trung tâm", "Mã chiến dịch", "Chiến dịch")
SENT_HEADERS = ("Tin cấp trên gửi xuống", "Tin đã nhận dùng", "Tin cấp trên đã phát")


def summary_rows(report: Report, figures: Iterable[str]) -> list[list[Any]]:
    """The roll-up as rows: level, centre code and name (indented by depth), campaign, figures, sent-down counts."""
    figures = tuple(figures)
    out = []
    for line in report.centres:
        counts = line.counts.to_dict()
        sent = line.sent_down
        out.append([line.level_name, line.centre, "  " * line.depth + line.centre_name,
                    line.campaign or "", line.campaign_name, *(counts[key] for key in figures),
                    *((sent.received, sent.accepted, sent.aired) if line.total else ("", "", ""))])
    return out
