"""Reads .txt, .md, .docx and .csv files (and folders of them) into draft pieces, converting legacy encodings."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from content.dates import parse_moment
from content.errors import InputError
from content.ingest.config import IngestSettings
from content.ingest.drafts import IngestResult, store_drafts
from content.ingest.encodings import Decoded, decode_text, repair
from content.models import CHANNELS, LEVEL_NAMES, LEVELS, User
from content.pieces import PieceContent

SUFFIXES = (".txt", ".md", ".docx", ".csv")
#: The columns of a bulk .csv file (first row is the header; only title and body are required). ``level`` is
#: normal, priority or emergency (or their Vietnamese names); files written before levels have ``urgent`` instead,
#: read as priority where true.
CSV_COLUMNS = ("title", "body", "campaign", "channels", "valid_from", "valid_until", "priority", "level", "slogan")
OLD_COLUMNS = ("urgent",)
_LEVELS = {**{name: name for name in LEVELS}, **{name.lower(): level for level, name in LEVEL_NAMES.items()}}
_TRUE = {"1", "yes", "true", "x", "có", "co"}
_FALSE = {"", "0", "no", "false", "không", "khong"}
_MARKDOWN = re.compile(r"(\*\*|__|^#{1,6}\s*|^>\s?)", re.MULTILINE)

Row = tuple[PieceContent, str | None, str | None, str]


def read_file(path: Path, settings: IngestSettings, *, zone: ZoneInfo, campaign: str | None = None,
              channels: tuple[str, ...] = CHANNELS, encoding: str | None = None) -> list[Row]:
    """The pieces one file holds (a .csv holds many), checked, each with what was converted."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        if not suffix:
            raise InputError("loa loads {suffixes} files, not files without a suffix", where=str(path),
                             suffixes=", ".join(SUFFIXES))
        raise InputError("loa loads {suffixes} files, not {suffix}", where=str(path), suffixes=", ".join(SUFFIXES),
                         suffix=suffix)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    if size > settings.max_file_mb * 1024 * 1024:
        raise InputError("the file is {size:.1f} MB; at most {limit:g} MB ([ingest] max_file_mb)", where=str(path),
                         size=size / 1048576, limit=settings.max_file_mb)
    data = path.read_bytes()
    if suffix == ".csv":
        return _csv_rows(decode_text(data, where=str(path), encoding=encoding), path, zone, campaign, channels)
    decoded = _docx_text(data, path) if suffix == ".docx" else decode_text(data, where=str(path), encoding=encoding)
    title, body = _title_and_body(decoded.text, path, markdown=suffix == ".md")
    content = PieceContent(title=title, body=body, campaign=campaign, channels=channels, origin=str(path))
    return [(content.checked(), None, None, decoded.report() if decoded.converted else "")]


def ingest_files(session: Session, paths: list[Path], settings: IngestSettings, *, author: User, now: datetime,
                 zone: ZoneInfo, campaign: str | None = None, channels: tuple[str, ...] = CHANNELS,
                 encoding: str | None = None) -> IngestResult:
    """All of ``paths`` as drafts, or nothing when any of them is refused (the error names the file)."""
    rows = [row for path in paths for row in read_file(path, settings, zone=zone, campaign=campaign,
                                                       channels=channels, encoding=encoding)]
    source = str(paths[0]) if len(paths) == 1 else f"{len(paths)} files"
    return store_drafts(session, IngestResult(source=source), rows, author=author, now=now, kind="file")


def folder_files(folder: Path) -> list[Path]:
    """The loadable files of ``folder`` and its subfolders, in name order; hidden files are left alone."""
    if not folder.is_dir():
        raise InputError("no such folder", where=str(folder))
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not any(part.startswith((".", "~$")) for part in p.relative_to(folder).parts))


def _title_and_body(text: str, path: Path, *, markdown: bool) -> tuple[str, str]:
    if markdown:
        text = _MARKDOWN.sub("", text)
    lines = text.strip().splitlines()
    if not lines:
        raise InputError("the file is empty", where=str(path))
    title, body = lines[0].strip(), "\n".join(lines[1:]).strip()
    if not body:
        raise InputError("the file has only a title line; the body goes on the lines after it", where=str(path))
    return title, body


#: A .docx (a zip) may inflate to at most this much in all; its real text is a tiny part of that.
MAX_DOCX_INFLATED = 100 * 1024 * 1024


def _check_inflation(data: bytes, path: Path) -> None:
    """Refuse a .docx whose parts would inflate past MAX_DOCX_INFLATED, from the zip's directory, before
    decompressing anything (a zip bomb); the sizes it declares also bound what reading it can produce."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise InputError("not a Word .docx document ({problem})", where=str(path), problem=str(error)) from None
    if total > MAX_DOCX_INFLATED:
        raise InputError("the .docx would inflate to {size:,.0f} MB; a document's parts may take at most {limit} MB",
                         where=str(path), size=total / 1048576, limit=MAX_DOCX_INFLATED // 1048576)


def _docx_text(data: bytes, path: Path) -> Decoded:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    _check_inflation(data, path)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise InputError("not a Word .docx document ({problem})", where=str(path), problem=str(error)) from None
    except Exception as error:  # a damaged zip or XML part: python-docx has no single error type for these
        raise InputError("the .docx cannot be read ({kind}: {problem})", where=str(path), kind=type(error).__name__,
                         problem=str(error)) from None
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    text = "\n\n".join(paragraphs)
    return repair(decode_text(text.encode("utf-8"), where=str(path)))


def _csv_rows(decoded: Decoded, path: Path, zone: ZoneInfo, campaign: str | None,
              channels: tuple[str, ...]) -> list[Row]:
    sample = decoded.text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(decoded.text), dialect=dialect)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in ("title", "body") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS + OLD_COLUMNS]
    if missing or unknown:
        if missing:
            raise InputError("missing column {column!r}; the columns are {columns} (title and body required)",
                             where=f"{path}:1", column=missing[0], columns=", ".join(CSV_COLUMNS))
        raise InputError("unknown column {column!r}; the columns are {columns} (title and body required)",
                         where=f"{path}:1", column=unknown[0], columns=", ".join(CSV_COLUMNS))
    report = decoded.report() if decoded.converted else ""
    rows: list[Row] = []
    for record in reader:
        line = reader.line_num
        where = f"{path}:{line}"
        values = {k: (v or "").strip() for k, v in record.items() if k is not None}
        content = PieceContent(
            title=values.get("title", ""), body=values.get("body", ""),
            campaign=values.get("campaign") or campaign,
            channels=tuple(re.split(r"[,;\s]+", values["channels"])) if values.get("channels") else channels,
            valid_from=_moment(values.get("valid_from", ""), zone, f"{where}: valid_from", end_of_day=False),
            valid_until=_moment(values.get("valid_until", ""), zone, f"{where}: valid_until", end_of_day=True),
            priority=_integer(values.get("priority", ""), f"{where}: priority"),
            level=_level(values, where),
            slogan=_flag(values.get("slogan", ""), f"{where}: slogan"),
            origin=where,
        )
        rows.append((content.checked(), None, None, report))
    if not rows:
        raise InputError("the file has a header but no rows", where=str(path))
    return rows


def _moment(text: str, zone: ZoneInfo, where: str, *, end_of_day: bool) -> datetime | None:
    """A cell read as the command line and the web forms read a time (31/12/2026, 31/12/2026 06:00 or ISO);
    empty: none. A day alone ends at the next midnight for ``valid_until``."""
    return parse_moment(text, zone, where, end_of_day=end_of_day) if text else None


def _level(values: dict[str, str], where: str) -> str:
    """The row's level: its ``level`` cell (empty: normal), or priority where an older file's ``urgent`` is true."""
    text = values.get("level", "").lower()
    level = _LEVELS.get(text, text) if text else "normal"
    if _flag(values.get("urgent", ""), f"{where}: urgent"):
        if text and level != "priority":
            raise InputError("urgent is true but level is {level}; urgent means priority: keep one column",
                             where=f"{where}: level", level=text)
        level = "priority"
    return level


def _integer(text: str, where: str) -> int:
    if not text:
        return 5
    if not text.isdigit():
        raise InputError("{text!r} is not a number from 1 to 9", where=where, text=text)
    return int(text)


def _flag(text: str, where: str) -> bool:
    value = text.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError("{text!r} is not yes or no", where=where, text=text)
