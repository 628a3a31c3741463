"""centres.toml: the tree of centres (province, districts, communes), validated into specs.

::

    [[centre]]
    code = "HN"
    name = "Trung tâm Văn hóa tỉnh"
    level = "province"

    [[centre]]
    code = "D1"
    name = "Trung tâm huyện Đông"
    level = "district"
    parent = "HN"

A station names the commune centre it belongs to with ``centre = "..."`` in stations.toml. Without a
centres.toml the install is one implicit centre holding every station (``content.centres.IMPLICIT``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The levels from the top down; a child is always at a lower level than its parent.
LEVELS = ("province", "district", "commune")
#: Their names, for Vietnamese texts written outside the web app's catalogs (CLI, exports).
LEVEL_NAMES = {"province": "Tỉnh", "district": "Huyện", "commune": "Xã"}
#: What a centre code may be (like a station code: letters, digits, ``_`` and ``-``, at most 16).
CENTRE_CODE = r"^[A-Za-z0-9_-]{1,16}$"


class CentreSpec(BaseModel):
    """``[[centre]]`` in centres.toml: one centre and the centre above it (none for the root)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, Field(pattern=CENTRE_CODE)]
    name: str
    level: Literal["province", "district", "commune"]
    parent: str | None = None
    #: Bulletins sent down to this centre are appraised (thẩm định) by its editorial board (users with the
    #: ``appraiser`` role) before they may be accepted (scheduler.bulletins.decisions).
    appraisal: bool = False


class CentresFile(BaseModel):
    """centres.toml: the ``[[centre]]`` entries, forming one tree."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    centre: list[CentreSpec] = []

    @model_validator(mode="after")
    def _one_tree(self) -> CentresFile:
        tree_problem(self.centre)
        return self


def _fail(index: int, key: str, message: str) -> None:
    # pydantic reports a ValueError raised here at the top level, so the entry and key are named in the message.
    raise ValueError(f"centre[{index}].{key}: {message}")


def tree_problem(centres: Iterable[CentreSpec]) -> None:
    """Raise ValueError naming ``centre[i].key`` unless ``centres`` form one tree: unique codes, known parents,
    one root, no cycle, each child at a lower level than its parent and no centre below a commune."""
    centres = list(centres)
    if not centres:
        return
    index_of: dict[str, int] = {}
    for index, spec in enumerate(centres):
        if spec.code in index_of:
            _fail(index, "code", f"{spec.code!r} is used by another centre")
        index_of[spec.code] = index
    roots = [index for index, spec in enumerate(centres) if spec.parent is None]
    for index, spec in enumerate(centres):
        if spec.parent is not None and spec.parent not in index_of:
            _fail(index, "parent", f"no centre {spec.parent!r} (centres: {', '.join(index_of)})")
        if spec.parent == spec.code:
            _fail(index, "parent", f"{spec.code!r} cannot be its own parent")
    for index, spec in enumerate(centres):
        seen, code = {spec.code}, spec.parent
        while code is not None:
            if code in seen:
                _fail(index, "parent", f"{spec.code!r} is inside a cycle of parents ({' → '.join(seen)})")
            seen.add(code)
            code = centres[index_of[code]].parent
    if len(roots) != 1:
        codes = ", ".join(centres[index].code for index in roots)
        _fail(roots[1] if roots else 0, "parent", f"the centres form one tree with one root; roots: {codes or 'none'}")
    for index, spec in enumerate(centres):
        if spec.parent is None:
            continue
        parent = centres[index_of[spec.parent]]
        if parent.level == "commune":
            _fail(index, "parent", f"{parent.code!r} is a commune centre, which has no centres below it")
        if LEVELS.index(spec.level) <= LEVELS.index(parent.level):
            _fail(index, "level", f"a {spec.level} centre cannot be below the {parent.level} centre {parent.code!r}")


def station_problem(centres: Iterable[CentreSpec], stations: Mapping[str, str | None]) -> tuple[str, str] | None:
    """(station code, reason) for the first station whose ``centre`` is wrong, or None: with a centres.toml every
    station names a commune centre of it; without one, no station names a centre."""
    levels = {spec.code: spec.level for spec in centres}
    for code, centre in stations.items():
        if not levels:
            if centre is not None:
                return code, f"no centre {centre!r}: there is no centres.toml"
            continue
        if centre is None:
            return code, "name the commune centre this station belongs to (centre = \"...\" from centres.toml)"
        if centre not in levels:
            return code, f"no centre {centre!r} in centres.toml (centres: {', '.join(levels)})"
        if levels[centre] != "commune":
            return code, f"{centre!r} is a {levels[centre]} centre; a station belongs to a commune centre"
    return None
