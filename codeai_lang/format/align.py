"""Pairing the lines of a text with the lines of its formatted self, in linear time.

Formatting moves only whitespace, so the two texts have the same non-blank characters in
the same order. Walking both line lists at once, a line whose non-blank content equals the
other side's current line pairs with it (a re-indented or re-spaced line); elsewhere (lines
joined or split, blank lines dropped) lines are taken from whichever side has consumed less
content until both sides have consumed the same content: that run is one block. A general
diff (difflib) is quadratic on the many identical lines of a program (`}`, blank lines) and
took seconds on a 20,000-line file; this takes milliseconds. The pairing is correct for any
two texts (the blocks always cover both sides); it is minimal only for layout changes.
"""

from __future__ import annotations

from typing import NamedTuple


class Run(NamedTuple):
    """old[i1:i2] corresponds to new[j1:j2]; `paired` runs are one line each side."""

    paired: bool
    i1: int
    i2: int
    j1: int
    j2: int


def _key(line: str) -> str:
    return "".join(line.split())


def align(old: list[str], new: list[str]) -> list[Run]:
    """Runs covering both line lists in order (see the module docstring)."""
    ka, kb = [_key(x) for x in old], [_key(x) for x in new]
    na, nb = len(ka), len(kb)
    runs: list[Run] = []
    i = j = 0
    while i < na or j < nb:
        if i < na and j < nb and ka[i] == kb[j]:
            runs.append(Run(True, i, i + 1, j, j + 1))
            i, j = i + 1, j + 1
            continue
        i2, j2 = _sync(ka, kb, i, j)
        runs.append(Run(False, i, i2, j, j2))
        i, j = i2, j2
    return runs


def _sync(ka: list[str], kb: list[str], i: int, j: int) -> tuple[int, int]:
    """The ends of the shortest block from (i, j) after which both sides have consumed the
    same content and the next lines pair again (or a side is exhausted)."""
    na, nb = len(ka), len(kb)
    acc_a = acc_b = 0
    while True:
        if (acc_a <= acc_b and i < na) or j >= nb:
            acc_a += len(ka[i])
            i += 1
        else:
            acc_b += len(kb[j])
            j += 1
        if i >= na or j >= nb:
            return na, nb  # one side is exhausted: the rest of the other is one block
        if acc_a == acc_b and ka[i] == kb[j]:
            return i, j
