"""Feature flags from ``config/features.yaml`` (``features.file``), re-read when the file changes.

Bucketing hashes (flag, user) with SHA-256, never Python's per-process salted ``hash``: every
replica and every restart puts a user in the same bucket, and raising a rollout from 10 % to 20 %
only adds users (bucket < 10 % implies bucket < 20 %).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("codeai.server.features")
BUCKETS = 10_000  # basis points: 12.5 % is expressible


class FeatureError(ValueError):
    """The flags file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Flag:
    name: str
    enabled: bool
    rollout_percentage: float = 100.0
    allowed_users: frozenset[str] = frozenset()

    def is_enabled(self, user: str | None) -> bool:
        if not self.enabled:
            return False
        if user is not None and user in self.allowed_users:
            return True
        if self.rollout_percentage >= 100:
            return True
        if user is None or self.rollout_percentage <= 0:
            return False
        return bucket(self.name, user) < self.rollout_percentage * BUCKETS / 100

    def as_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "rollout_percentage": self.rollout_percentage,
                "allowed_users": sorted(self.allowed_users)}


def bucket(flag: str, user: str) -> int:
    """The user's stable bucket for ``flag``, in ``[0, BUCKETS)``."""
    digest = hashlib.sha256(f"{flag}\x00{user}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def parse_flags(text: str, origin: str) -> dict[str, Flag]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FeatureError(f"{origin}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("features", {}), dict):
        raise FeatureError(f"{origin}: expected a mapping 'features: {{name: {{enabled: …}}}}'")
    return {str(name): _flag(str(name), body, origin) for name, body in (data.get("features") or {}).items()}


def _flag(name: str, body: object, origin: str) -> Flag:
    if not isinstance(body, dict):
        raise FeatureError(f"{origin}: features.{name}: expected a mapping, got {body!r}")
    enabled = body.get("enabled", False)
    if not isinstance(enabled, bool):
        raise FeatureError(f"{origin}: features.{name}.enabled: expected true or false, got {enabled!r}")
    pct = body.get("rollout_percentage", 100)
    if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct <= 100:
        raise FeatureError(f"{origin}: features.{name}.rollout_percentage: expected a number 0-100, got {pct!r}")
    users = body.get("allowed_users", []) or []
    if not isinstance(users, list) or not all(isinstance(u, (str, int)) for u in users):
        raise FeatureError(f"{origin}: features.{name}.allowed_users: expected a list of user ids")
    return Flag(name, enabled, float(pct), frozenset(str(u) for u in users))


def load_flags(path: Path) -> dict[str, Flag]:
    """Flags of ``path``; a missing file means no flags (everything off), not an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise FeatureError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_flags(text, str(path))


class FeatureFlags:
    """The flags of one file, re-read when its mtime/size/inode change (checked at most every
    ``interval`` seconds). A malformed new version keeps the last good flags and logs an error."""

    def __init__(self, path: Path, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0
        self.flags: dict[str, Flag] = {}
        self.error: str | None = None
        self._reload(force=True)

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _reload(self, force: bool = False) -> None:
        stamp = self._file_stamp()
        if stamp == self._stamp and not force:
            return
        self._stamp = stamp
        try:
            self.flags = load_flags(self.path)
            self.error = None
            log.info("feature flags loaded", extra={"file": str(self.path), "flags": sorted(self.flags)})
        except FeatureError as exc:
            self.error = str(exc)
            log.error("feature flags file is malformed; keeping the last good flags",
                      extra={"file": str(self.path), "error": str(exc)})

    def current(self) -> Mapping[str, Flag]:
        now = time.monotonic()
        if now - self._checked >= self.interval:
            with self._lock:
                if now - self._checked >= self.interval:
                    self._checked = now
                    self._reload()
        return self.flags

    def is_enabled(self, flag: str, user: str | None) -> bool:
        found = self.current().get(flag)
        return found is not None and found.is_enabled(user)
