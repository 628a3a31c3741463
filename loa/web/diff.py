"""The review diff: an approved and a current revision as lines, changed words marked, wrapping like text."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from markupsafe import Markup, escape

#: Words and the spaces between them: a change is marked word by word, never inside a number or a word.
_TOKENS = re.compile(r"\s+|[^\s]+")
CONTEXT = 2


def _words(old: str, new: str) -> tuple[Markup, Markup]:
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    left, right = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        removed, added = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if tag == "equal":
            left.append(removed)
            right.append(added)
            continue
        if removed:
            left.append(Markup("<del>%s</del>") % removed)
        if added:
            right.append(Markup("<ins>%s</ins>") % added)
    return Markup("").join(left), Markup("").join(right)


def _line(kind: str, text: Markup | str) -> Markup:
    return Markup('<p class="line %s">%s</p>') % (kind, text)


def html_diff(old: Sequence[str], new: Sequence[str], *, removed: str = "", added: str = "") -> Markup:
    """Lines removed (−), added (+) and a little unchanged context around them; a replaced line is shown
    twice with its changed words marked. ``removed``/``added`` label the two versions for screen readers."""
    out: list[Markup] = []
    for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(CONTEXT):
        if out:
            out.append(Markup('<p class="gap" aria-hidden="true">⋯</p>'))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(_line("same", escape(line)) for line in old[i1:i2])
                continue
            pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            marked = [_words(old[i1 + k], new[j1 + k]) for k in range(pairs)]
            out.extend(_line("del", left) for left, _ in marked)
            out.extend(_line("del", escape(line)) for line in old[i1 + pairs:i2])
            out.extend(_line("ins", right) for _, right in marked)
            out.extend(_line("ins", escape(line)) for line in new[j1 + pairs:j2])
    label = Markup(' aria-label="%s → %s"') % (removed, added) if removed or added else Markup("")
    return Markup('<div class="diff-lines"%s>%s</div>') % (label, Markup("").join(out))
