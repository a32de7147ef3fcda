"""Only safe fixes are preferred quick fixes; unsafe ones are offered, display-only ones not at all."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from codeai_lsp import server
from codeai_lsp.features import Snapshot
from lsprotocol import types as t

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import Applicability
from codeai_lang.syntax.registry import default_registry

TEXT = "#version 1.1\nentity U {\n    id: uuid, primary_key\n}\n"


def _actions(applicability: Applicability) -> list[t.CodeAction]:
    result = validate(TEXT)
    (diag,) = result.diagnostics
    assert diag.fix is not None
    diag.fix = replace(diag.fix, applicability=applicability)
    snap = Snapshot("file:///x.cai", 1, TEXT, result, default_registry())
    ls = SimpleNamespace(settings=SimpleNamespace(deprecation_severity=None), locate=lambda rel: None)
    whole = t.Range(start=t.Position(line=0, character=0), end=t.Position(line=4, character=0))
    return server._quick_fixes(ls, snap, whole)  # type: ignore[arg-type]


@pytest.mark.parametrize(("applicability", "preferred"),
                         [(Applicability.SAFE, True), (Applicability.UNSAFE, False)])
def test_only_safe_fixes_are_preferred(applicability: Applicability, preferred: bool) -> None:
    (action,) = _actions(applicability)
    assert action.is_preferred is preferred
    assert action.edit is not None and action.edit.changes
    assert ("unsafe" in action.title) is (not preferred)


def test_display_only_fixes_are_not_offered_as_edits() -> None:
    assert _actions(Applicability.DISPLAY) == []
