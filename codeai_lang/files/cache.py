"""A content-addressed on-disk cache of per-file analysis results (ruff's model).

Entries live in the user cache directory (`$XDG_CACHE_HOME/codeai/results-v1`, else
`~/.cache/codeai/results-v1`), never in the project: a cloned repository cannot plant entries
(they are pickles), and no `.gitignore` is needed. The key of an entry hashes everything the
result depends on: the file's bytes, the settings the caller passes (DSL version override, the
project's default version) and a fingerprint of the tool itself (its version plus the size and
modification time of every module and grammar file, so a development checkout never reuses
results of older code).

Safe under concurrent runs: an entry is written to a temporary file and renamed into place,
so a reader sees a whole entry or none. An entry is checked before use (magic, length,
SHA-256 of the payload); a corrupt or unreadable one is ignored (and recomputed), never an
error. Durability is not needed (a lost entry costs one recomputation), so nothing is fsynced.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path

import codeai_grammar

import codeai_lang

_MAGIC = b"CAIRC\x00\x01\x00"  # bump the last bytes when the entry format changes
_DIGEST = 32
_SUBDIR = "results-v1"


def default_cache_dir() -> Path:
    """Where results are cached: `$XDG_CACHE_HOME/codeai/results-v1` or `~/.cache/codeai/…`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "codeai" / _SUBDIR


@cache
def tool_fingerprint() -> str:
    """The tool's version and the stat of every module and grammar file (no file is read:
    ~100 stats, well under a millisecond)."""
    parts = [codeai_lang.__version__]
    for root in (Path(codeai_lang.__file__).parent, Path(codeai_grammar.__file__).parent):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith((".py", ".lark", ".toml", ".json")):
                    path = os.path.join(dirpath, name)
                    with contextlib.suppress(OSError):
                        st = os.stat(path)
                        parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class ResultCache:
    """Pickled results by key. `settings` (tool fingerprint by default) salts every key."""

    def __init__(self, directory: Path | None = None, salt: str | None = None) -> None:
        self.directory = directory if directory is not None else default_cache_dir()
        self.salt = salt if salt is not None else tool_fingerprint()
        self.writable = True  # cleared after the first failed write (read-only home, full disk)

    def key(self, content: bytes, *settings: str | None) -> str:
        h = hashlib.sha256()
        h.update(self.salt.encode())
        for s in settings:
            h.update(b"\0" + (b"-" if s is None else b"=" + s.encode()))
        h.update(b"\0\0")
        h.update(content)
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / key[2:]

    def load(self, key: str) -> object | None:
        """The entry stored under `key`, or None (missing, corrupt, unreadable, unpicklable)."""
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        head = len(_MAGIC) + _DIGEST
        if len(data) < head or not data.startswith(_MAGIC):
            return None
        payload = memoryview(data)[head:]
        if hashlib.sha256(payload).digest() != data[len(_MAGIC):head]:
            return None
        try:
            return pickle.loads(payload)
        except Exception:  # e.g. a class renamed since: the fingerprint should prevent it
            return None

    def store(self, key: str, value: object) -> None:
        """Write an entry atomically; failures only cost the cache."""
        if not self.writable:
            return
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=f".{key[2:12]}.{os.getpid()}-", suffix=".tmp",
                                       dir=target.parent)
        except OSError:
            self.writable = False
            return
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, target)
        except OSError:
            self.writable = False
            with contextlib.suppress(OSError):
                os.unlink(tmp)
