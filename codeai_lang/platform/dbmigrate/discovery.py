"""Finding migrations: the embedded set shipped in ``codeai_lang/platform/sql`` or a user's ``--dir``.

File names are the contract (``YYYYMMDDHHMMSS_snake_name.up.sql`` / ``.down.sql``); every file
that breaks it is reported at once, before anything touches a database, so one run shows all of
the problems instead of one per attempt.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from codeai_lang.platform.dbmigrate.errors import DiscoveryError, UsageError
from codeai_lang.platform.dbmigrate.sqltext import Statement, has_marker, select_dialect, split_statements

NAME_RE = re.compile(r"^(\d{14})_([a-z][a-z0-9]*(?:_[a-z0-9]+)*)\.(up|down)\.sql$")
CONVENTION = "YYYYMMDDHHMMSS_snake_name.up.sql / .down.sql"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    up_file: str  # path as shown to people
    down_file: str
    up_sql: str
    down_sql: str
    checksum: str  # sha256 of the up file, line endings normalised

    @property
    def label(self) -> str:
        return f"{self.version}_{self.name}"

    def no_transaction(self, direction: str) -> bool:
        """The file is marked ``-- codeai:no-transaction`` (e.g. for ``CREATE INDEX CONCURRENTLY``)."""
        return has_marker(self.up_sql if direction == "up" else self.down_sql, "no-transaction")

    def statements(self, direction: str, dialect: str) -> list[Statement]:
        sql, path = (self.up_sql, self.up_file) if direction == "up" else (self.down_sql, self.down_file)
        return split_statements(select_dialect(sql, dialect, path), path)


def checksum(data: bytes) -> str:
    """SHA-256 of the file with CRLF folded to LF, so a checkout's line endings are not 'changes'."""
    return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def embedded_dir() -> Traversable:
    return resources.files("codeai_lang.platform") / "sql"


def discover(directory: Path | None = None) -> list[Migration]:
    """All migrations of ``directory`` (or the embedded set), sorted by version."""
    if directory is None:
        root: Traversable = embedded_dir()
        prefix = "codeai_lang/platform/sql"
    else:
        if not directory.is_dir():
            raise UsageError(f"migration directory {directory} does not exist or is not a directory")
        root, prefix = directory, str(directory)
    try:
        entries = sorted((e for e in root.iterdir() if e.is_file()), key=lambda e: e.name)
    except OSError as exc:
        raise UsageError(f"cannot read migration directory {prefix}: {exc}") from exc
    return _assemble(entries, prefix)


def _assemble(entries: Iterable[Traversable], prefix: str) -> list[Migration]:
    problems: list[str] = []
    halves: dict[tuple[int, str], dict[str, tuple[str, bytes]]] = {}
    for entry in entries:
        if entry.name.startswith(".") or not entry.name.lower().endswith(".sql"):
            continue
        path = f"{prefix}/{entry.name}"
        parsed = _parse_name(entry.name, path, problems)
        if parsed is not None:
            version, name, direction = parsed
            halves.setdefault((version, name), {})[direction] = (path, entry.read_bytes())
    migrations = _pair(halves, prefix, problems)
    if problems:
        raise DiscoveryError(problems)
    return migrations


def _parse_name(filename: str, path: str, problems: list[str]) -> tuple[int, str, str] | None:
    match = NAME_RE.match(filename)
    if not match:
        problems.append(f"{path}: malformed migration file name (expected {CONVENTION})")
        return None
    stamp, name, direction = match.groups()
    try:
        datetime.strptime(stamp, "%Y%m%d%H%M%S")
    except ValueError:
        problems.append(f"{path}: '{stamp}' is not a valid YYYYMMDDHHMMSS timestamp")
        return None
    return int(stamp), name, direction


def _pair(halves: dict[tuple[int, str], dict[str, tuple[str, bytes]]], prefix: str,
          problems: list[str]) -> list[Migration]:
    seen: dict[int, str] = {}
    out: list[Migration] = []
    for (version, name), files in sorted(halves.items()):
        label = f"{version}_{name}"
        if version in seen:
            problems.append(f"{prefix}/{label}: version {version} is also used by {seen[version]}")
            continue
        seen[version] = label
        if "down" not in files:
            problems.append(f"{prefix}/{label}.up.sql: missing down file (expected {prefix}/{label}.down.sql)")
            continue
        if "up" not in files:
            problems.append(f"{prefix}/{label}.down.sql: down file without an up file "
                            f"(expected {prefix}/{label}.up.sql)")
            continue
        (up_path, up), (down_path, down) = files["up"], files["down"]
        out.append(Migration(version, name, up_path, down_path, _text(up, up_path, problems),
                             _text(down, down_path, problems), checksum(up)))
    return out


def _text(data: bytes, path: str, problems: list[str]) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})")
        return ""


def create_pair(directory: Path, name: str, now: datetime | None = None) -> tuple[Path, Path]:
    """Write an empty, timestamped up/down pair; bump the second if that version is taken."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    if not slug or not slug[0].isalpha():
        raise UsageError(f"invalid migration name {name!r}: use letters, digits and underscores, "
                         "starting with a letter (e.g. add_orders_table)")
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).replace(microsecond=0)
    taken = {p.name[:14] for p in directory.glob("*.sql")}
    while stamp.strftime("%Y%m%d%H%M%S") in taken:
        stamp += timedelta(seconds=1)
    base = directory / f"{stamp.strftime('%Y%m%d%H%M%S')}_{slug}"
    up, down = Path(f"{base}.up.sql"), Path(f"{base}.down.sql")
    up.write_text(f"-- {slug}: schema change. Runs in one transaction with its tracking row.\n",
                  encoding="utf-8")
    down.write_text(f"-- {slug}: revert exactly what the up file does.\n", encoding="utf-8")
    return up, down
