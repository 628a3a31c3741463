"""A3 posters of the week's slogans (khẩu hiệu): one landscape page each, the text as large as fits the sheet."""

from __future__ import annotations

from channels.print.layout import Bulletin, Edition, PrintedPiece

MARGIN = 20.0  # mm
HEADER = 12.0  # mm kept atop each poster for the centre's name
SIZES = tuple(range(160, 23, -4))  # font sizes tried, in points, largest first
PT = 25.4 / 72  # mm per point


def slogan_text(piece: PrintedPiece) -> str:
    """What a poster shows: the piece's paragraphs as one text."""
    return " ".join(piece.paragraphs)


class _Poster(Bulletin):
    """A3 landscape sheets: the centre's name small at the top, no page numbers."""

    def header(self) -> None:
        self.set_xy(MARGIN, MARGIN)
        self.set_font("serif", "", 12)
        self.cell(self.epw, 6, f"{self.edition.header} – {self.edition.station_name}", align="C")

    def footer(self) -> None:
        return None


def render_posters(edition: Edition) -> tuple[bytes, int]:
    """The PDF bytes and page count of one A3 poster per piece of ``edition``."""
    pdf = _Poster(edition, orientation="L", page="A3")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(False)
    room = pdf.h - 2 * MARGIN - HEADER
    for piece in edition.pieces:
        text = slogan_text(piece)
        pdf.add_page()
        for size in SIZES:  # the largest size whose lines fit, with no word cut
            pdf.set_font("serif", "B", size)
            height = size * PT * 1.2
            lines = pdf.lines(text, pdf.epw)
            widest = max((pdf.get_string_width(word) for word in text.split()), default=0.0)
            if widest <= pdf.epw and len(lines) * height <= room:
                break
        pdf.set_y(MARGIN + HEADER + (room - len(lines) * height) / 2)
        for line in lines:
            pdf.cell(pdf.epw, height, line, align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output()), pdf.pages_count
