"""A throwaway local Redis server for tests.

``redis-server`` in the foreground, listening only on 127.0.0.1 at a free port, without
persistence (no RDB snapshots, no AOF), its working directory and log in a temporary directory.
:meth:`RedisServer.stop` and a later :meth:`RedisServer.start` reuse the same port, so tests can
take the cache away from a running client and give it back.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from codeai_testing.pgserver import free_port

START_TIMEOUT = 30.0  # generous: 2 shared cores under a parallel test run


class RedisUnavailable(RuntimeError):
    """No ``redis-server`` binary, or it would not start."""


def find_binary() -> Path | None:
    """``$CODEAI_REDIS_SERVER``, else ``redis-server`` on PATH.

    A set ``CODEAI_REDIS_SERVER`` is final: if it is not an executable there is no server (which is
    also how the "Redis missing" path of the suite is exercised)."""
    env = os.environ.get("CODEAI_REDIS_SERVER")
    if env:
        return Path(env) if os.access(env, os.X_OK) and Path(env).is_file() else None
    on_path = shutil.which("redis-server")
    return Path(on_path) if on_path else None


class RedisServer:
    """Start with :meth:`start`, stop with :meth:`stop`, clean up with :meth:`close`."""

    def __init__(self, password: str | None = None) -> None:
        self.binary = find_binary()
        self.password = password
        self.root: Path | None = None
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start (again, on the same port after :meth:`stop`) and wait until it answers PING."""
        if self.binary is None:
            raise RedisUnavailable("redis-server not found; install Debian's `redis-server` package "
                                   "(scripts/ensure-redis.sh) or set CODEAI_REDIS_SERVER")
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="codeai-redis-"))
            self.port = free_port()
        args = [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.root), "--logfile", str(self.root / "redis.log"),
                "--daemonize", "no", "--databases", "1"]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, cwd=self.root, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers_ping():
            if self.proc is None or self.proc.poll() is not None or time.monotonic() > deadline:
                log = self.root / "redis.log" if self.root else None
                tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
                self.stop()
                raise RedisUnavailable(f"redis-server did not start on 127.0.0.1:{self.port}\n{tail}")
            time.sleep(0.02)  # polling interval against a deadline, not a wait for an outcome

    def _answers_ping(self) -> bool:
        # A raw RESP exchange: "+PONG" without a password, "-NOAUTH" with one; either means up.
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections (the kernel's backlog) but nothing answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stop the process (SIGCONT first, in case it is frozen); the port and directory stay."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
