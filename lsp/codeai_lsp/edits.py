"""A document's text under a burst of edits: applied cheaply, analysed once.

An editor macro or a fast typist sends hundreds of `didChange` notifications before the server
looks at the document again. Each one is applied here to the text and its line starts (a list
splice and a shift, no full rescan), and the edits are folded into one: the changed span
between an unchanged prefix and an unchanged suffix. The analysis then takes that single edit,
so it runs once, on the newest text, however many edits queued up.
"""

from __future__ import annotations

from bisect import bisect_right

from codeai_lang.diagnostics.positions import UTF16, LineIndex


def _line_starts(text: str) -> list[int]:
    return LineIndex(text).line_starts


class PendingText:
    """The current text, its line starts, and the one edit that turns `base` into it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = _line_starts(text)
        self.rebase()

    def rebase(self) -> None:
        """The analysis has caught up with the text: no pending edit."""
        self.base_len = len(self.text)
        self.prefix = self.base_len  # unchanged characters at the start …
        self.suffix = self.base_len  # … and at the end, common to base and current text
        self.replaced = False

    @property
    def dirty(self) -> bool:
        return self.replaced or self.prefix < self.base_len or self.base_len != len(self.text) \
            or self.suffix < self.base_len

    def offset(self, line: int, character: int, encoding: str = UTF16) -> int:
        """Character offset of a 0-based LSP position (columns in the negotiated `encoding`),
        clamped to the text."""
        if line >= len(self.starts):
            return len(self.text)
        start = self.starts[max(line, 0)]
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        segment = self.text[start:end]
        if segment.isascii():
            return start + min(max(character, 0), len(segment))
        return start + LineIndex(segment).offset_from_lsp(0, character, encoding)

    def edit(self, start: int, end: int, new: str) -> None:
        """Replace text[start:end] by `new` (offsets into the current text)."""
        end = max(start, end)
        old_len = len(self.text)
        self.prefix = min(self.prefix, start)
        self.suffix = min(self.suffix, old_len - end)
        self.text = self.text[:start] + new + self.text[end:]
        first, last = bisect_right(self.starts, start) - 1, bisect_right(self.starts, end) - 1
        added = [start + i + 1 for i, ch in enumerate(new) if ch == "\n"] if "\n" in new else []
        self.starts[first + 1:last + 1] = added
        delta = len(new) - (end - start)
        if delta:
            k = first + 1 + len(added)
            self.starts[k:] = [s + delta for s in self.starts[k:]]

    def replace_all(self, text: str) -> None:
        self.text = text
        self.starts = _line_starts(text)
        self.replaced = True

    def take(self) -> tuple[int, int, str] | None:
        """The folded edit against the base text — `(-1, -1, text)` for a full replacement, None
        if nothing changed — and rebase onto the current text."""
        if not self.dirty:
            return None
        lo, tail = self.prefix, self.suffix
        edit = (-1, -1, self.text)
        if not self.replaced and lo + tail <= min(self.base_len, len(self.text)):
            edit = (lo, self.base_len - tail, self.text[lo:len(self.text) - tail])
        self.rebase()
        return edit
