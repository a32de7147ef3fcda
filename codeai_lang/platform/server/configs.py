"""Uploaded configurations are checked by the toolchain itself: the validator, the DSL-version
gate of the ``dsl_2_1`` feature flag, and the rewrite engine for ``…/migrate``."""

from __future__ import annotations

import difflib
import hashlib
from typing import Any

from codeai_lang.analysis.validator import Result, validate
from codeai_lang.diagnostics.model import Severity
from codeai_lang.fixes.rewrite import MigrationResult, UnknownVersion, migrate_text
from codeai_lang.output.formats import FileReport, diagnostic_json
from codeai_lang.platform.server.errors import ApiError, unprocessable
from codeai_lang.platform.server.features import FeatureFlags
from codeai_lang.platform.server.repo import NewRevision
from codeai_lang.syntax.registry import default_registry

GATE_FLAG = "dsl_2_1"
GATED_FROM = (2, 1)  # DSL versions at or above this need the flag while it rolls out
FALLBACK = "2.0"  # what everyone else is validated against


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def checksum(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _report(name: str, content: str, result: Result) -> FileReport:
    doc = result.document
    return FileReport(name, content, result.diagnostics, doc.version, doc.version_source)


def _gated(flags: FeatureFlags, user: str | None) -> bool:
    return not flags.is_enabled(GATE_FLAG, user)


def gate_error(version: str) -> ApiError:
    return unprocessable("feature_disabled",
                         f"DSL {version} is not enabled for this user (feature flag '{GATE_FLAG}')",
                         {"flag": GATE_FLAG, "dsl_version": version})


def check_config(name: str, content: str, user: str | None, flags: FeatureFlags) -> NewRevision:
    """Validate an upload; errors become a 422 carrying the validator's JSON diagnostics."""
    result = validate(content)
    doc = result.document
    if version_key(doc.version) >= GATED_FROM and _gated(flags, user):
        if doc.version_source == "directive":
            raise gate_error(doc.version)
        result = validate(content, version=FALLBACK)  # inferred 2.1: hold it to 2.0 instead
    report = _report(name, content, result)
    diags = [diagnostic_json(report, d) for d in result.diagnostics]
    if not result.valid:
        raise unprocessable("invalid_config", f"the configuration has {result.errors} error(s)",
                            {"dsl_version": report.dsl_version, "version_source": report.version_source,
                             "diagnostics": diags})
    warnings = [d for d, raw in zip(diags, result.diagnostics, strict=True) if raw.severity is not Severity.ERROR]
    return NewRevision(name, content, str(report.dsl_version), str(report.version_source), checksum(content),
                       warnings, user)


def migrate_config(name: str, content: str, target: str | None, user: str | None,
                   flags: FeatureFlags) -> tuple[MigrationResult, dict[str, Any]]:
    """Run the rewrite engine; the body of the answer, and the result for storing it.

    Without ``to``, the target is the newest DSL version — or, for a user the ``dsl_2_1`` gate
    holds back, the newest version below the gate, so the default never answers 422."""
    if target is None and _gated(flags, user):
        newest = default_registry().latest
        target = FALLBACK if version_key(newest) >= GATED_FROM else None
    try:
        result = migrate_text(content, target)
    except UnknownVersion as exc:
        raise unprocessable("unknown_version", str(exc), {"to": target}) from exc
    if version_key(result.target) >= GATED_FROM and _gated(flags, user):
        raise gate_error(result.target)
    diff = "".join(difflib.unified_diff(content.splitlines(True), result.text.splitlines(True),
                                        f"{name} (DSL {result.source_version})", f"{name} (DSL {result.target})"))
    body: dict[str, Any] = {
        "from": result.source_version, "to": result.target, "changed": result.changed,
        "content": result.text, "rules_applied": result.rules_applied, "diff": diff,
        "manual": [{"rule": m.rule, "line": m.line, "message": m.message} for m in result.manual],
    }
    if not result.ok:
        attempted = result.attempted or content
        report = FileReport(name, attempted, result.diagnostics, result.target, "override")
        raise unprocessable("migration_failed", result.error or "migration failed",
                            {**body, "diagnostics": [diagnostic_json(report, d) for d in result.diagnostics]})
    return result, body
