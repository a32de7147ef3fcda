"""`redis.url` configured: `/health/ready` pings a real Redis (spec §2), from the real server process.

Each test starts its own ``redis-server`` (127.0.0.1, free port, no persistence, temp dir) and stops
it; without the binary the tests skip locally and fail under CI=true (``require_component``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from codeai_testing.components import require_component
from codeai_testing.redisserver import RedisServer, RedisUnavailable
from server_proc import ServerProcess, clean_env, migrate_up, running_server, write_config

from codeai_lang.platform.config import ConfigError
from codeai_lang.platform.server.cache import check_redis_url

PASSWORD = "s3cret-redis-pw"  # noqa: S105  (a test password; the point is that it never shows)
PING_TIMEOUT = 2.0  # the server's bound on one readiness PING (docs/server.md)
# A stopped or frozen cache must turn into a 503 within the ping bound; the margin only absorbs
# a loaded 2-core machine (the failure this guards against is a hang, i.e. no answer at all).
NOT_READY_WITHIN = PING_TIMEOUT + 2.5


def start_redis(password: str | None = None) -> RedisServer:
    """A running Redis; without one, skip locally or fail under CI (``require_component``)."""
    server = RedisServer(password)
    try:
        return server.start()
    except RedisUnavailable as exc:
        reason = str(exc)
    server.close()
    require_component("redis", reason)
    raise AssertionError("unreachable")


@pytest.fixture(name="redis_server")
def redis_server_fixture() -> Iterator[RedisServer]:
    server = start_redis(PASSWORD)
    try:
        yield server
    finally:
        server.close()


def ready(server: ServerProcess) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    response = httpx.get(server.url + "/health/ready", timeout=30)
    return response.status_code, response.json(), time.monotonic() - started


def serve_with(tmp_path: Path, redis_url: str) -> Any:
    url = f"sqlite:{tmp_path / 'redis.db'}"
    migrate_up(url)
    return running_server(write_config(tmp_path, url, redis={"url": redis_url}))


def assert_ready(server: ServerProcess) -> None:
    status, body, _ = ready(server)
    assert (status, body) == (200, {"status": "ready", "database": "connected", "cache": "connected"})


def assert_cache_not_ready(server: ServerProcess) -> dict[str, Any]:
    status, body, took = ready(server)
    assert status == 503 and body["status"] == "not_ready", body
    assert body["reasons"] == ["cache"] and body["cache"] == "unreachable", body
    assert body["database"] == "connected"
    assert took < NOT_READY_WITHIN, f"readiness took {took:.1f}s with the cache down"
    return body


def poll_ready(server: ServerProcess, timeout: float = 30.0) -> None:
    """Ready again once the client has reconnected (polling against a deadline)."""
    deadline = time.monotonic() + timeout
    while ready(server)[0] != 200:
        assert time.monotonic() < deadline, f"not ready again: {ready(server)[1]}"
        time.sleep(0.05)
    assert_ready(server)


def logged(server: ServerProcess) -> str:
    return "".join(server.text) + "\n".join(map(str, server.events))


def test_ready_follows_a_real_redis_going_away_and_coming_back(tmp_path: Path, redis_server: RedisServer) -> None:
    with serve_with(tmp_path, redis_server.url) as server:
        assert_ready(server)
        redis_server.stop()  # connection refused on the same port now
        body = assert_cache_not_ready(server)
        assert PASSWORD not in str(body)
        down = server.wait_for(lambda e: e.get("msg") == "cache unreachable")
        assert down["level"] == "warning" and down["cache"] == f"redis://:****@127.0.0.1:{redis_server.port}/0"
        assert down["error"] == body["cache_error"]
        redis_server.start()  # same port: the server's client must reconnect by itself
        poll_ready(server)
        server.wait_for(lambda e: e.get("msg") == "cache connected again")
        listening = server.wait_for(lambda e: e.get("msg") == "listening")
    assert listening["cache"] == f"redis://:****@127.0.0.1:{redis_server.port}/0"
    assert PASSWORD not in logged(server)


def test_a_frozen_redis_is_not_ready_within_the_ping_bound(tmp_path: Path, redis_server: RedisServer) -> None:
    """SIGSTOP: connections are accepted but PING never answers; readiness must not hang."""
    with serve_with(tmp_path, redis_server.url) as server:
        assert_ready(server)
        redis_server.freeze()
        try:
            body = assert_cache_not_ready(server)
            assert body["cache_error"] == f"no answer to PING within {PING_TIMEOUT:g}s", body
        finally:
            redis_server.thaw()
        poll_ready(server)


def test_a_wrong_redis_password_is_not_ready_and_never_shown(tmp_path: Path, redis_server: RedisServer) -> None:
    wrong = f"redis://:wrong-{PASSWORD}@127.0.0.1:{redis_server.port}/0"
    with serve_with(tmp_path, wrong) as server:
        body = assert_cache_not_ready(server)
        assert "AuthenticationError" in body["cache_error"] and PASSWORD not in str(body)
        server.wait_for(lambda e: e.get("msg") == "cache unreachable")
    assert PASSWORD not in logged(server)


def test_the_helper_skips_or_fails_without_redis(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEAI_REDIS_SERVER", str(tmp_path / "no-redis-server"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"COMPONENT MISSING \[redis\]"):
        start_redis()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"COMPONENT MISSING \[redis\].*CI=true"):
        start_redis()


def test_a_malformed_redis_url_stops_the_start_with_a_masked_message(tmp_path: Path) -> None:
    """Refused before binding (exit 2, the key named), not at the first probe; the password hidden."""
    config = write_config(tmp_path, f"sqlite:{tmp_path / 'x.db'}", redis={"url": f"http://:{PASSWORD}@cache:6379"})
    cmd = [sys.executable, "-m", "codeai_lang.cli", "server", "--port", "0", "--config", str(config)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "redis.url: unsupported URL 'http://:****@cache:6379'" in done.stderr
    assert PASSWORD not in done.stderr and "Traceback" not in done.stderr and "listening" not in done.stderr


@pytest.mark.parametrize(("url", "message"), [
    (f"redis://:{PASSWORD}@cache:port/0", "malformed URL 'redis://:****@cache:port/0'"),
    (f"rediss://app:{PASSWORD}@cache:6379/db1", "the path must be a database number"),
    (f"redis://:{PASSWORD}@cache/0?socket_timeout=soon", "malformed URL"),
])
def test_check_redis_url_names_the_problem_without_the_password(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        check_redis_url(url)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("url", ["", "redis://cache", f"redis://:{PASSWORD}@cache:6380/2", "rediss://cache/0",
                                 "unix:///run/redis/redis.sock"])
def test_check_redis_url_accepts_what_redis_py_uses(url: str) -> None:
    assert check_redis_url(url) == url
