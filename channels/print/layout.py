"""Lays out the weekly printed bulletin (bản tin tuần) as an A4 PDF with fpdf2: header, campaigns, QR codes."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from html.parser import HTMLParser

import segno
from fpdf import FPDF

from channels.print.fonts import font_files

MARGIN = 15.0  # mm on every side
QR_SIZE = 24.0  # mm, module count varies with the address; 24 mm keeps modules ≥ 0.5 mm for phones
GUTTER = 5.0  # mm between text and the QR column
OTHER = "Tin khác"  # the heading of pieces without a campaign


def nfc(text: str) -> str:
    """``text`` in Unicode NFC, the one form loa stores and prints."""
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class PrintedPiece:
    """One piece as printed: its title, its paragraphs, its campaign and the address its QR code opens."""

    title: str
    paragraphs: tuple[str, ...]
    campaign: str
    url: str
    #: Marked a slogan by its editor: made into a poster whatever its campaign.
    slogan: bool = False


@dataclass(frozen=True)
class Edition:
    """One commune's bulletin for one week."""

    header: str  # the centre's name, printed atop every page
    station_name: str
    title: str  # e.g. "BẢN TIN TUẦN 23/11/2026 – 29/11/2026"
    pieces: tuple[PrintedPiece, ...]
    #: Written as the PDF's creation date, so the same edition always gives the same bytes.
    made_at: datetime | None = None


class _Paragraphs(HTMLParser):
    """Collects the text of block elements from sanitised article HTML, one string per block."""

    BLOCKS = frozenset({"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "br"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._current: list[str] = []

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        if text:
            self.blocks.append(text)
        self._current = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self.BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        self._current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def paragraphs_of(html: str) -> tuple[str, ...]:
    """The NFC paragraphs of sanitised article HTML, whitespace collapsed as a browser shows it."""
    parser = _Paragraphs()
    parser.feed(html)
    parser.close()
    return tuple(nfc(block) for block in parser.blocks)


def texts_of(edition: Edition) -> list[str]:
    """Every text the edition prints, to choose fonts that have all its letters."""
    texts = [edition.header, edition.station_name, edition.title]
    for piece in edition.pieces:
        texts += [piece.title, piece.campaign.upper(), *piece.paragraphs]
    return texts


def grouped(pieces: Sequence[PrintedPiece]) -> list[tuple[str, list[PrintedPiece]]]:
    """Pieces grouped by campaign, campaigns in order of first appearance, pieces without one last."""
    groups: dict[str, list[PrintedPiece]] = {}
    for piece in pieces:
        groups.setdefault(piece.campaign.strip(), []).append(piece)
    ordered = [(name, items) for name, items in groups.items() if name]
    if "" in groups:
        ordered.append((OTHER, groups[""]))
    return ordered


@cache
def _qr_runs(url: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """The QR code of ``url`` as (modules per side with quiet zone, dark runs (row, first column, length))."""
    matrix = segno.make_qr(url, error="m").matrix
    quiet = 4
    runs: list[tuple[int, int, int]] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append((y + quiet, start + quiet, x - start))
            else:
                x += 1
    return len(matrix) + 2 * quiet, tuple(runs)


class Bulletin(FPDF):
    """An A4 page set with the centre's header and a page-number footer on every page."""

    def __init__(self, edition: Edition, orientation: str = "P", page: str = "A4") -> None:
        super().__init__(orientation=orientation, unit="mm", format=page)
        self.edition = edition
        self.set_margins(MARGIN, MARGIN + 14, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 6)
        regular, bold = font_files(texts_of(edition))
        self.add_font("serif", "", regular)
        self.add_font("serif", "B", bold)
        self._widths: dict[tuple[str, float, str], float] = {}
        self.set_title(nfc(f"{edition.title} – {edition.station_name}"))
        self.set_creator("loa")
        if edition.made_at is not None:
            self.set_creation_date(edition.made_at)

    def header(self) -> None:
        self.set_xy(MARGIN, MARGIN)
        self.set_font("serif", "B", 10)
        self.cell(self.epw / 2, 5, self.edition.header, align="L")
        self.set_font("serif", "", 10)
        self.cell(self.epw / 2, 5, self.edition.station_name, align="R")
        self.line(MARGIN, MARGIN + 7, self.w - MARGIN, MARGIN + 7)
        self.set_xy(MARGIN, MARGIN + 14)

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font("serif", "", 8)
        self.cell(0, 4, f"Trang {self.page_no()}/{{nb}}", align="C")

    def lines(self, text: str, width: float) -> list[str]:
        """``text`` wrapped at spaces into lines no wider than ``width`` in the current font (a longer
        word is cut between letters). Word widths are remembered: bulletins repeat their words a lot."""
        key = (self.font_family + self.font_style, self.font_size_pt)
        widths = self._widths

        def measure(word: str) -> float:
            found = widths.get((*key, word))
            if found is None:
                found = widths[(*key, word)] = self.get_string_width(word)
            return found

        space = measure(" ")
        lines: list[str] = []
        current: list[str] = []
        used = 0.0
        for word in text.split():
            size = measure(word)
            while size > width:  # a word wider than the column (a long address): cut it where it overflows
                cut = next(n for n in range(len(word), 0, -1) if measure(word[:n]) <= width or n == 1)
                if current:
                    lines.append(" ".join(current))
                    current, used = [], 0.0
                lines.append(word[:cut])
                word = word[cut:]
                size = measure(word)
            if current and used + space + size > width:
                lines.append(" ".join(current))
                current, used = [], 0.0
            used += (space if current else 0.0) + size
            current.append(word)
        if current:
            lines.append(" ".join(current))
        return lines

    def block(self, text: str, width: float, height: float, **style: object) -> None:
        """``text`` as wrapped lines of ``height`` from the left margin, breaking pages between lines."""
        for line in self.lines(text, width):
            self.cell(width, height, line, new_x="LMARGIN", new_y="NEXT", **style)

    def qr(self, url: str, x: float, y: float) -> None:
        """Draw the QR code of ``url`` as vector squares at (x, y), ``QR_SIZE`` wide with its quiet zone."""
        side, runs = _qr_runs(url)
        module = QR_SIZE / side
        self.set_fill_color(0)
        for row, col, length in runs:
            self.rect(x + col * module, y + row * module, length * module, module, style="F")


def render(edition: Edition) -> tuple[bytes, int]:
    """The PDF bytes and page count of ``edition``: title, then per campaign a heading and its pieces with QR codes."""
    pdf = Bulletin(edition)
    pdf.add_page()
    pdf.set_font("serif", "B", 18)
    pdf.block(edition.title, pdf.epw, 9, align="C")
    pdf.ln(3)
    text_w = pdf.epw - QR_SIZE - GUTTER
    for campaign, pieces in grouped(edition.pieces):
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.set_font("serif", "B", 13)
        pdf.set_fill_color(230)
        pdf.block(campaign.upper(), pdf.epw, 7, fill=True)
        pdf.ln(2)
        for piece in pieces:
            if pdf.will_page_break(QR_SIZE + 4):
                pdf.add_page()
            top, page = pdf.get_y(), pdf.page
            pdf.qr(piece.url, pdf.l_margin + text_w + GUTTER, top)
            pdf.set_font("serif", "B", 12)
            pdf.block(piece.title, text_w, 6)
            pdf.set_font("serif", "", 11)
            for paragraph in piece.paragraphs:
                pdf.block(paragraph, text_w, 5.5)
                pdf.ln(1)
            if pdf.page == page and pdf.get_y() < top + QR_SIZE:
                pdf.set_y(top + QR_SIZE)
            pdf.ln(4)
    return bytes(pdf.output()), pdf.pages_count
