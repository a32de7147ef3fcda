"""Run the real `codeai server` process for tests: free loopback port, JSON log events, clean stop.

Nothing here sleeps for a fixed time: start-up waits for the ``listening`` log event and then polls
``/health`` against a deadline; tests wait for log events (a request started, shutdown begun) with
:meth:`ServerProcess.wait_for`. :func:`running_server` always stops the process (SIGTERM, then
SIGKILL after the deadline) in a ``finally``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt

from codeai_lang.platform.config import KEYS

SECRET = "test-secret-of-at-least-thirty-two-bytes!"
START_TIMEOUT = 60.0  # generous: 2 shared cores under a parallel test run


def token(sub: str = "alice", scopes: list[str] | None = None, ttl: int = 3600, secret: str = SECRET) -> str:
    claims: dict[str, Any] = {"sub": sub, "exp": int(time.time()) + ttl}
    if scopes is not None:
        claims["scope"] = " ".join(scopes)
    return jwt.encode(claims, secret, algorithm="HS256")


def auth(sub: str = "alice", **kw: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, **kw)}"}


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without any CODEAI_* setting of the developer's."""
    drop = {var for key in KEYS.values() for var in key.env}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, **(extra or {})}


def write_config(directory: Path, database_url: str, **sections: dict[str, Any]) -> Path:
    """A config file: the database, the test secret, json logs at debug, plus ``sections``."""
    import yaml

    doc: dict[str, Any] = {"database": {"url": database_url}, "auth": {"jwt_secret": SECRET},
                           "log": {"level": "debug", "format": "json"},
                           "features": {"file": str(directory / "features.yaml")}}
    for name, body in sections.items():
        doc[name] = {**doc.get(name, {}), **body}
    path = directory / f"config-{len(list(directory.glob('config-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


class ServerProcess:
    def __init__(self, config: Path, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
        cmd = [sys.executable, "-m", "codeai_lang.cli", "server", "--host", "127.0.0.1", "--port", "0",
               "--config", str(config), *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     cwd=cwd or config.parent, env=clean_env(env))
        self.events: list[dict[str, Any]] = []
        self.text: list[str] = []  # stderr lines that are not JSON (CLI errors)
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.port = 0

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                try:
                    event = json.loads(line)
                    self.events.append(event if isinstance(event, dict) else {"msg": line})
                except ValueError:
                    self.text.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = START_TIMEOUT,
                 start: int = 0) -> dict[str, Any]:
        """The first log event (from index ``start``) that matches, or AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events[start:]:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no matching log event; exit={self.proc.poll()} "
                                         f"stderr={''.join(self.text)[-2000:]} events={self.events[-5:]}")
                self._cond.wait(min(left, 0.5))

    def wait_for_text(self, predicate: Callable[[str], bool], timeout: float = START_TIMEOUT) -> str:
        """The first non-JSON stderr line (``log.format: text``) that matches."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.text:
                    if predicate(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no matching line; stderr={''.join(self.text)[-2000:]}")
                self._cond.wait(min(left, 0.5))

    def start(self) -> ServerProcess:
        event = self.wait_for(lambda e: e.get("msg") == "listening")
        self.port = int(event["port"])
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # the socket listens already; wait until the app answers
            try:
                if httpx.get(self.url + "/health", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"server did not become healthy; stderr={''.join(self.text)[-2000:]}")
            time.sleep(0.05)  # polling interval against a deadline, not a wait for an outcome

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)
        finally:
            self._reader.join(10)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@contextmanager
def running_server(config: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    server = ServerProcess(config, *args, env=env)
    try:
        yield server.start()
    finally:
        server.stop()
        server.kill()


def migrate_up(database_url: str) -> None:
    subprocess.run([sys.executable, "-m", "codeai_lang.cli", "migrate", "up", "--database-url", database_url],
                   check=True, capture_output=True, env=clean_env(), timeout=120)
