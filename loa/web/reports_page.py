"""Reports: pick a period, see the totals per campaign, download them as CSV, XLSX, JSON or a PNG chart."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from content.errors import InputError, LoaError
from content.models import User
from loa.web.auth import current_user, sees_station
from loa.web.view import refused, render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _report(request: Request, user: User, start: date | None, end: date | None):
    from content import scope
    from scheduler.reports import build_report
    from scheduler.reports.centres import add_centres

    services = request.app.state.services
    today = services.now().astimezone(services.settings.zone).date()
    end = end or today
    start = start or end.replace(day=1)
    from loa.clock import check_day

    check_day(start, "start")
    check_day(end, "end")
    if start > end:
        raise InputError("the first day comes after the last", where="start")
    if (end - start) > timedelta(days=366):
        raise InputError("a report covers at most a year", where="end")
    codes = [s.code for s in services.settings.stations if sees_station(user, s.code)]
    with request.app.state.reads.session() as session:
        report = build_report(session, start=start, end=end, zone=services.settings.zone, stations=codes)
        if not scope.tree_for(user).implicit:  # with centres, the figures also roll up the user's subtree
            add_centres(session, report, top=scope.home(user))
        return report


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, start: date | None = None, end: date | None = None,
                 user: User = Depends(current_user)) -> HTMLResponse:
    try:
        report = _report(request, user, start, end)
    except LoaError as error:  # the period as typed, the message beside it, this month's report below
        typed = {"start": start.isoformat() if start else "", "end": end.isoformat() if end else ""}
        return refused(request, error, "reports.html", {"report": _report(request, user, None, None),
                                                        "typed": typed}, ("start", "end"))
    return render(request, "reports.html", {"report": report, "typed": {}})


@router.get("/reports/download")
def download_report(request: Request, fmt: Literal["csv", "xlsx", "json", "png"], start: date | None = None,
                    end: date | None = None, user: User = Depends(current_user)) -> Response:
    from scheduler.reports import download, render_chart_png

    report = _report(request, user, start, end)
    if fmt == "png":
        body, media_type, name = render_chart_png(report), "image/png", f"bao-cao-{report.start}-{report.end}.png"
    else:
        body, media_type, name = download(report, fmt)
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})
