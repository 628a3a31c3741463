"""Draws the results report as a PNG bar chart per campaign (matplotlib Agg, imported only here)."""

from __future__ import annotations

import io

from scheduler.reports.build import Report
from scheduler.reports.formats import FIGURES, title

CHARTED = ("airings", "slides", "articles", "missed", "failed")


def render_chart_png(report: Report) -> bytes:
    """A grouped bar chart of the campaign totals, to paste into the centre's written report."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = dict(FIGURES)
    names = [line.campaign_name for line in report.by_campaign]
    figure = Figure(figsize=(10, 5.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = 0.8 / len(CHARTED)
    positions = range(len(names))
    for index, key in enumerate(CHARTED):
        values = [line.counts.to_dict()[key] for line in report.by_campaign]
        axes.bar([p + index * width for p in positions], values, width, label=labels[key])
    axes.set_xticks([p + width * (len(CHARTED) - 1) / 2 for p in positions],
                    [name if len(name) <= 28 else name[:27] + "…" for name in names])
    axes.set_ylabel("Số lượt / số buổi")
    axes.set_title(title(report), fontsize=11)
    if names:
        axes.legend(fontsize=8)
    else:
        axes.text(0.5, 0.5, "Không có dữ liệu trong kỳ", ha="center", va="center", transform=axes.transAxes)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
