"""The one diagnostic model. Every output format (text, JSON, SARIF, GitHub, LSP) is a view of it.

Positions are character offsets into the source text; `positions.LineIndex` converts them at
the edges (1-based line/column and byte offsets for people and JSON, UTF-16 for the LSP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(StrEnum):
    """How far a fix can be trusted (ruff's model).

    safe: keeps the program's meaning; editors may apply it as the preferred quick fix and
    `migrate-dsl` applies it. unsafe: may change meaning; offered, never preferred. display:
    shown to people only (a suggestion), never applied by a tool.
    """

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY = "display"


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace text[start:end] with `new_text` (character offsets into the original text)."""

    start: int
    end: int
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A fix: a description, non-overlapping edits and how far they can be trusted."""

    description: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE


MAX_MESSAGE = 300  # characters; the range, not the message, says how much text is concerned
QUOTE_EXCERPT = 20
_LONG_QUOTE = re.compile("'([^'\\n]{" + str(3 * QUOTE_EXCERPT) + ",})'")


def shorten_message(message: str) -> str:
    """Quote at most an excerpt of long names, strings or runs (a 1 MB identifier must not make a
    1 MB message in every output format), then cap the message itself."""
    message = _LONG_QUOTE.sub(lambda m: f"'{m[1][:QUOTE_EXCERPT]}…' ({len(m[1]):,} characters)", message)
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 1] + "…"


@dataclass(frozen=True, slots=True)
class Related:
    """Another place that explains a diagnostic ("first declared here"), maybe in another
    file: `path` as reported for that file, character offsets into its text."""

    path: str
    start: int
    end: int
    message: str


@dataclass(slots=True)
class Diagnostic:
    """One finding. `code` is registered in `codes.py`; `rule_id` names the finer rule behind
    it where a code groups several (the deprecation id "D4" of a CAI301), so no caller has to
    parse it back out of the message."""

    code: str
    severity: Severity
    message: str
    start: int
    end: int
    fix: Fix | None = None
    tags: tuple[str, ...] = field(default=())  # e.g. ("deprecated",)
    rule_id: str | None = None
    related: tuple[Related, ...] = ()

    def __post_init__(self) -> None:
        if len(self.message) > MAX_MESSAGE:
            self.message = shorten_message(self.message)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.code)


def apply_edits(text: str, edits: list[Edit] | tuple[Edit, ...]) -> str:
    """Apply non-overlapping edits to `text`; raises OverlappingEdits if any two overlap."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    check_no_overlap(ordered)
    parts: list[str] = []
    pos = 0
    for e in ordered:
        parts.append(text[pos:e.start])
        parts.append(e.new_text)
        pos = e.end
    parts.append(text[pos:])
    return "".join(parts)


class OverlappingEdits(ValueError):
    """Two edits touch the same text: a bug in a rule, reported rather than merged."""

    def __init__(self, a: Edit, b: Edit) -> None:
        super().__init__(f"overlapping edits: [{a.start},{a.end}) and [{b.start},{b.end})")
        self.a, self.b = a, b


def check_no_overlap(ordered: list[Edit]) -> None:
    """Raise OverlappingEdits when two edits (sorted by start) overlap or insert at one point."""
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start < a.end or (a.start == a.end == b.start == b.end):
            raise OverlappingEdits(a, b)
