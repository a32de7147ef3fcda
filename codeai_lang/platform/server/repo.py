"""The server's data: configurations with revisions, deployments with their lifecycle, executions.

Every function takes an open transaction (:class:`~.store.Tx`) so the caller decides what is
atomic. Ids are UUIDv7 (time-ordered), which makes ``ORDER BY id`` a stable keyset for
cursor pagination on both dialects.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from codeai_lang.platform.server.errors import ApiError, not_found, unprocessable
from codeai_lang.platform.server.store import Tx

STATUSES = ("pending", "running", "stopped", "failed", "complete")
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"running", "stopped", "failed"}),
    "running": frozenset({"complete", "stopped", "failed"}),
    "stopped": frozenset({"running"}),
    "complete": frozenset(),
    "failed": frozenset(),
}
# The released `status` column (and its CHECK) still exists for old readers: write its nearest word.
LEGACY_STATUS = {"pending": "pending", "running": "running", "failed": "failed",
                 "complete": "succeeded", "stopped": "cancelled"}
EXECUTION_END = {"complete": "succeeded", "failed": "failed", "stopped": "cancelled"}


def new_id() -> str:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; sorts by creation time."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ts(value: Any) -> str | None:
    """A stored timestamp as RFC 3339 UTC, whichever way the dialect hands it back."""
    if value is None:
        return None
    if isinstance(value, datetime):
        stamp = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = str(value).replace(" ", "T")
    return text if text.endswith("Z") else text + "Z"


# --- configurations ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NewRevision:
    name: str
    content: str
    dsl_version: str
    version_source: str
    checksum: str
    warnings: list[dict[str, Any]]
    user: str | None


_CONFIG_COLS = "id, name, revision, dsl_version, version_source, checksum, created_at, updated_at"


def _config_summary(row: tuple[Any, ...]) -> dict[str, Any]:
    return {"id": row[0], "name": row[1], "revision": row[2], "dsl_version": row[3],
            "version_source": row[4], "checksum": row[5], "created_at": ts(row[6]), "updated_at": ts(row[7])}


def add_revision(tx: Tx, rev: NewRevision) -> dict[str, Any]:
    """Create the configuration, or add the next revision of the one with this name.

    One upsert (``ON CONFLICT (name) DO UPDATE … RETURNING``, the same text on SQLite ≥ 3.35 and
    PostgreSQL) picks the id and the next revision atomically: concurrent writers of one name
    get consecutive revisions, and two *first* writers of a name cannot both insert. Then the
    revision row; two statements in all, which matters per round trip to PostgreSQL.
    """
    stamp = now()
    row = tx.execute(
        "INSERT INTO configs (id, name, dsl_version, source, checksum, created_at, updated_at, revision, "
        "version_source) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (name) DO UPDATE SET "
        "revision = configs.revision + 1, dsl_version = excluded.dsl_version, source = excluded.source, "
        "checksum = excluded.checksum, updated_at = excluded.updated_at, version_source = excluded.version_source "
        "RETURNING id, revision",
        (new_id(), rev.name, rev.dsl_version, rev.content, rev.checksum, stamp, stamp, rev.version_source))[0]
    config_id, revision = row[0], int(row[1])
    tx.execute("INSERT INTO config_revisions (id, config_id, revision, dsl_version, version_source, source, "
               "checksum, warnings, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (new_id(), config_id, revision, rev.dsl_version, rev.version_source, rev.content, rev.checksum,
                json.dumps(rev.warnings), rev.user, stamp))
    return {"id": config_id, "name": rev.name, "revision": revision, "dsl_version": rev.dsl_version,
            "version_source": rev.version_source, "checksum": rev.checksum, "warnings": rev.warnings,
            "created_at": stamp}


def get_config(tx: Tx, config_id: str) -> dict[str, Any]:
    rows = tx.execute("SELECT c.id, c.name, c.revision, c.dsl_version, c.version_source, c.checksum, "
                      "c.created_at, c.updated_at, c.source, r.warnings FROM configs c LEFT JOIN config_revisions r "
                      "ON r.config_id = c.id AND r.revision = c.revision WHERE c.id = ?", (config_id,))
    if not rows:
        raise not_found("config", config_id)
    out = _config_summary(rows[0])
    out["content"] = rows[0][8]
    out["warnings"] = json.loads(rows[0][9]) if rows[0][9] else []
    return out


def list_configs(tx: Tx, limit: int, after: str | None) -> list[dict[str, Any]]:
    rows = tx.execute(f"SELECT {_CONFIG_COLS} FROM configs WHERE id > ? ORDER BY id LIMIT ?",
                      (after or "", limit))
    return [_config_summary(r) for r in rows]


def list_revisions(tx: Tx, config_id: str, limit: int, after: int) -> list[dict[str, Any]]:
    if not tx.execute("SELECT 1 FROM configs WHERE id = ?", (config_id,)):
        raise not_found("config", config_id)
    rows = tx.execute("SELECT revision, dsl_version, version_source, checksum, created_by, created_at "
                      "FROM config_revisions WHERE config_id = ? AND revision > ? ORDER BY revision LIMIT ?",
                      (config_id, after, limit))
    return [{"revision": r[0], "dsl_version": r[1], "version_source": r[2], "checksum": r[3],
             "created_by": r[4], "created_at": ts(r[5])} for r in rows]


# --- deployments ------------------------------------------------------------------------------

_DEPLOY_COLS = "id, name, config_id, state, revision, labels, priority, created_at, updated_at"


def _deployment(row: tuple[Any, ...]) -> dict[str, Any]:
    return {"id": row[0], "name": row[1], "config_id": row[2], "status": row[3], "revision": row[4],
            "labels": json.loads(row[5] or "{}"), "priority": row[6], "created_at": ts(row[7]),
            "updated_at": ts(row[8])}


def create_deployment(tx: Tx, name: str, config_id: str, labels: dict[str, str],
                      priority: int) -> dict[str, Any]:
    if not tx.execute("SELECT 1 FROM configs WHERE id = ?", (config_id,)):
        raise unprocessable("unknown_config", f"config {config_id!r} does not exist",
                            {"field": "config_id"})
    dep_id, stamp = new_id(), now()
    tx.execute("INSERT INTO deployments (id, config_id, environment, status, name, state, revision, labels, "
               "priority, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, 'pending', 1, ?, ?, ?, ?)",
               (dep_id, config_id, name, name, json.dumps(labels, sort_keys=True), priority, stamp, stamp))
    return get_deployment(tx, dep_id)


def get_deployment(tx: Tx, dep_id: str, lock: bool = False) -> dict[str, Any]:
    rows = tx.execute(f"SELECT {_DEPLOY_COLS} FROM deployments WHERE id = ?" + (" FOR UPDATE" if lock else ""),
                      (dep_id,))
    if not rows:
        raise not_found("deployment", dep_id)
    return _deployment(rows[0])


def list_deployments(tx: Tx, limit: int, after: str | None) -> list[dict[str, Any]]:
    rows = tx.execute(f"SELECT {_DEPLOY_COLS} FROM deployments WHERE id > ? ORDER BY id LIMIT ?",
                      (after or "", limit))
    return [_deployment(r) for r in rows]


@dataclass(frozen=True)
class Change:
    status: str | None = None
    labels: dict[str, str] | None = None
    priority: int | None = None


def update_deployment(tx: Tx, dep_id: str, change: Change, if_match: int | None,
                      user: str | None) -> dict[str, Any]:
    """Apply ``change`` if the transition is allowed and ``if_match`` (the revision) still holds.

    The row is read under a lock (``FOR UPDATE`` / SQLite's write transaction) and the UPDATE is
    conditional on the revision it read, so a concurrent change is never silently overwritten.
    """
    cur = get_deployment(tx, dep_id, lock=True)
    if if_match is not None and cur["revision"] != if_match:
        raise ApiError(412, "precondition_failed",
                       f"deployment {dep_id!r} is at revision {cur['revision']}, not {if_match}",
                       {"revision": cur["revision"]}, {"ETag": f'"{cur["revision"]}"'})
    new = dict(cur)
    if change.status is not None and change.status != cur["status"]:
        if change.status not in TRANSITIONS[cur["status"]]:
            allowed = sorted(TRANSITIONS[cur["status"]])
            raise ApiError(409, "invalid_transition",
                           f"cannot change status from {cur['status']} to {change.status}",
                           {"from": cur["status"], "to": change.status, "allowed": allowed})
        new["status"] = change.status
    if change.labels is not None:
        new["labels"] = change.labels
    if change.priority is not None:
        new["priority"] = change.priority
    if (new["status"], new["labels"], new["priority"]) == (cur["status"], cur["labels"], cur["priority"]):
        return cur  # setting the current values again is a no-op
    stamp = now()
    tx.execute("UPDATE deployments SET state = ?, status = ?, labels = ?, priority = ?, revision = revision + 1, "
               "updated_at = ? WHERE id = ? AND revision = ?",
               (new["status"], LEGACY_STATUS[new["status"]], json.dumps(new["labels"], sort_keys=True),
                new["priority"], stamp, dep_id, cur["revision"]))
    if tx.rowcount() != 1:  # unreachable under the row lock; kept as the last line of defence
        raise ApiError(409, "concurrent_update", f"deployment {dep_id!r} changed concurrently; retry")
    if new["status"] != cur["status"]:
        _record_execution(tx, dep_id, cur["status"], new["status"], user, stamp)
    return get_deployment(tx, dep_id)


def _record_execution(tx: Tx, dep_id: str, old: str, new: str, user: str | None, stamp: str) -> None:
    """Each stretch of `running` is one execution: opened on entry, closed with the outcome."""
    if new == "running":
        tx.execute("INSERT INTO executions (id, deployment_id, status, started_at, started_by) "
                   "VALUES (?, ?, 'running', ?, ?)", (new_id(), dep_id, stamp, user))
    elif old == "running":
        tx.execute("UPDATE executions SET status = ?, finished_at = ? WHERE deployment_id = ? "
                   "AND finished_at IS NULL", (EXECUTION_END[new], stamp, dep_id))


def list_executions(tx: Tx, dep_id: str, limit: int, after: str | None) -> list[dict[str, Any]]:
    get_deployment(tx, dep_id)
    rows = tx.execute("SELECT id, status, exit_code, started_at, finished_at, started_by FROM executions "
                      "WHERE deployment_id = ? AND id > ? ORDER BY id LIMIT ?", (dep_id, after or "", limit))
    return [{"id": r[0], "deployment_id": dep_id, "status": r[1], "exit_code": r[2], "started_at": ts(r[3]),
             "finished_at": ts(r[4]), "started_by": r[5]} for r in rows]
