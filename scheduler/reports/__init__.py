"""The results report: what went out per campaign and station, in every format the centres ask for."""

from scheduler.reports.build import Counts, Line, Report, build_report
from scheduler.reports.chart import render_chart_png
from scheduler.reports.formats import FORMATS, download, render_report

__all__ = ["FORMATS", "Counts", "Line", "Report", "build_report", "download", "render_chart_png", "render_report"]
