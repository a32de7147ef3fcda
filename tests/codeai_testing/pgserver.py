"""A throwaway local PostgreSQL server for tests and benchmarks.

``initdb`` + ``pg_ctl`` into a temporary directory, listening on 127.0.0.1 at a free port and on
a Unix socket in that directory. PostgreSQL refuses to run as root, so when we are root the
server runs as the ``postgres`` OS user and the directory is handed to that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from codeai_lang.platform.dbmigrate.target import DatabaseTarget


class PgUnavailable(RuntimeError):
    """No PostgreSQL server binaries, or the server would not start."""


def find_bindir() -> Path | None:
    """``$CODEAI_PG_BINDIR``, else the newest ``/usr/lib/postgresql/*/bin``, else ``initdb`` on PATH.

    A set ``CODEAI_PG_BINDIR`` is final: without ``initdb`` in it there is no server (which is also
    how the "PostgreSQL missing" path of the suite and the benchmarks is exercised)."""
    env = os.environ.get("CODEAI_PG_BINDIR")
    if env:
        return Path(env) if (Path(env) / "initdb").exists() else None
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """Start with :meth:`start`, stop with :meth:`stop`; ``fast`` trades durability for speed."""

    def __init__(self, fast: bool = True) -> None:
        self.fast = fast
        self.bindir = find_bindir()
        self.root: Path | None = None
        self.port = 0
        self.user: str | None = "postgres" if os.geteuid() == 0 else None
        self._counter = 0

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def start(self) -> PgServer:
        if self.bindir is None:
            raise PgUnavailable("PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's "
                                "`postgresql` package or set CODEAI_PG_BINDIR")
        self.root = Path(tempfile.mkdtemp(prefix="codeai-pg-"))
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.port = free_port()
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        settings = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=50"
        if self.fast:
            settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", settings,
                  "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        if self.root is None:
            return
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def target(self, dbname: str = "postgres") -> DatabaseTarget:
        return DatabaseTarget("postgres", conninfo=self.url(dbname))

    def create_database(self, prefix: str = "t") -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        self._counter += 1
        name = f"{prefix}_{os.getpid()}_{self._counter}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        assert self.bindir is not None
        result = subprocess.run([str(self.bindir / tool), *args], capture_output=True, text=True,
                                user=self.user, group=self.user, extra_groups=[] if self.user else None,
                                cwd=self.root, timeout=120)
        if check and result.returncode != 0:
            log = self.root / "server.log" if self.root else None
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise PgUnavailable(f"{tool} failed ({result.returncode}): {result.stderr.strip()}\n{tail}")
