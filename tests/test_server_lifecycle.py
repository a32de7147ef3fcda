"""Graceful shutdown of `codeai server`: SIGTERM with a request in flight, readiness while draining."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import warnings
from pathlib import Path

import httpx
import pytest
from server_proc import ServerProcess, migrate_up, token, write_config

with warnings.catch_warnings():  # starlette ≥ 1.x prefers httpx2 for its TestClient; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from codeai_lang.platform.dbmigrate import discover
from codeai_lang.platform.dbmigrate.target import DatabaseTarget
from codeai_lang.platform.server.app import Services, create_app
from codeai_lang.platform.server.features import FeatureFlags
from codeai_lang.platform.server.settings import ServerSettings
from codeai_lang.platform.server.store import SqliteStore

CONTENT = "#version 2.0\nconfig {\n    app_name: \"shop\"\n}\n"


def test_sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 'drain.db'}"
    migrate_up(url)
    server = ServerProcess(write_config(tmp_path, url, server={"shutdown_timeout": "60s"})).start()
    try:
        body = json.dumps({"name": "inflight", "content": CONTENT}).encode()
        head = ("POST /api/v1/configs HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nAuthorization: Bearer {token()}\r\n"
                "X-Request-Id: inflight-1\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            sock.sendall(head + body[:10])  # the request is accepted; its body is still arriving
            server.wait_for(lambda e: e.get("msg") == "request started" and e.get("request_id") == "inflight-1")
            server.proc.send_signal(signal.SIGTERM)
            server.wait_for(lambda e: e.get("msg", "").startswith("shutdown requested"))
            server.wait_for(lambda e: e.get("msg") == "Shutting down")  # uvicorn closed the listener
            with pytest.raises(httpx.ConnectError):
                httpx.get(server.url + "/health", timeout=10)
            sock.sendall(body[10:])
            response = http.client.HTTPResponse(sock)
            response.begin()
            payload = json.loads(response.read())
        assert response.status == 201 and payload["name"] == "inflight", json.dumps(server.events[-8:])
        assert server.proc.wait(60) == 0
        assert server.wait_for(lambda e: e.get("msg") == "stopped")
    finally:
        server.stop()
        server.kill()
    import sqlite3

    with sqlite3.connect(tmp_path / "drain.db") as conn:
        assert conn.execute("SELECT name, revision FROM configs").fetchall() == [("inflight", 1)]


def test_sigint_also_drains_and_exits_0(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 'int.db'}"
    migrate_up(url)
    server = ServerProcess(write_config(tmp_path, url)).start()
    try:
        server.proc.send_signal(signal.SIGINT)
        assert server.proc.wait(60) == 0
    finally:
        server.kill()


def _services(tmp_path: Path) -> Services:
    url = f"sqlite:{tmp_path / 'inproc.db'}"
    migrate_up(url)
    settings = ServerSettings("127.0.0.1", 0, DatabaseTarget("sqlite", sqlite_path=str(tmp_path / "inproc.db")),
                              jwt_secret="x" * 40)
    return Services(settings, SqliteStore(settings.target.sqlite_path), FeatureFlags(tmp_path / "none.yaml"),
                    {m.version for m in discover()})


def test_while_shutting_down_ready_is_503_and_new_api_requests_get_503(tmp_path: Path) -> None:
    services = _services(tmp_path)
    with TestClient(create_app(services)) as client:
        assert client.get("/health/ready").status_code == 200
        services.shutting_down.set()
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not_ready" and "shutting_down" in ready.json()["reasons"]
        api = client.get("/api/v1/configs")
        assert api.status_code == 503 and api.json()["error"]["code"] == "shutting_down"
        assert api.headers["connection"] == "close" and api.headers["retry-after"] == "1"
        assert client.get("/health").status_code == 200  # the process still runs
    services.store.close()


def test_ready_is_503_when_migrations_are_pending_or_the_database_is_gone(tmp_path: Path) -> None:
    services = _services(tmp_path)
    services.known_migrations.add(29990101000000)  # a newer build knows one more migration
    with TestClient(create_app(services)) as client:
        body = client.get("/health/ready").json()
        assert body["status"] == "not_ready" and body["database"] == "migrations_pending"
        assert body["pending_migrations"] == ["29990101000000"]
        services.known_migrations.discard(29990101000000)
        services.store.close()
        services.store = SqliteStore(str(tmp_path / "missing-dir" / "x.db"))
        gone = client.get("/health/ready")
        assert gone.status_code == 503 and gone.json()["database"] == "unreachable"


def test_ready_pings_the_configured_cache(tmp_path: Path) -> None:
    """redis.url configured and nothing listening there: not ready, naming the cache."""
    import redis.asyncio as aioredis
    from pg_server import unused_port

    services = _services(tmp_path)
    services.redis = aioredis.from_url(f"redis://127.0.0.1:{unused_port()}/0", socket_connect_timeout=2,
                                       socket_timeout=2)
    with TestClient(create_app(services)) as client:
        body = client.get("/health/ready").json()
        assert body["status"] == "not_ready" and body["cache"] == "unreachable" and body["reasons"] == ["cache"]
        assert body["database"] == "connected"
    services.store.close()


def test_worker_processes_share_the_port_and_all_drain_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 'workers.db'}"
    migrate_up(url)
    server = ServerProcess(write_config(tmp_path, url), "--workers", "2").start()
    try:
        with httpx.Client(timeout=30) as client:
            for i in range(6):  # writes from both workers serialise on the shared writer lock
                r = client.post(server.url + "/api/v1/configs", json={"name": f"w{i % 2}", "content": CONTENT},
                                headers={"Authorization": f"Bearer {token()}"})
                assert r.status_code == 201, r.text
        workers = server.wait_for(lambda e: e.get("msg") == "listening")["workers"]
        assert workers == 2
        server.wait_for(lambda e: len({x["pid"] for x in server.events
                                       if x.get("msg", "").startswith("Application startup complete")}) == 2)
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(60) == 0
        stopped = [e for e in server.events if e.get("msg") == "stopped"]
        assert len(stopped) == 3  # two workers and the parent
    finally:
        server.stop()
        server.kill()
    import sqlite3

    with sqlite3.connect(tmp_path / "workers.db") as conn:
        assert conn.execute("SELECT name, revision FROM configs ORDER BY name").fetchall() == [("w0", 3), ("w1", 3)]


def test_an_unexpected_error_is_a_json_500_with_the_request_id(tmp_path: Path) -> None:
    services = _services(tmp_path)

    class Broken(SqliteStore):
        def tx(self, write: bool = False):  # type: ignore[no-untyped-def,override]
            raise RuntimeError("boom")

    services.store.close()
    services.store = Broken(str(tmp_path / "inproc.db"))
    with TestClient(create_app(services)) as client:
        r = client.get("/api/v1/configs", headers={"Authorization": f"Bearer {token(secret='x' * 40)}",
                                                   "X-Request-Id": "oops-1"})
    assert r.status_code == 500 and r.headers["x-request-id"] == "oops-1"
    assert r.json()["error"] == {"code": "internal_error", "message": "internal server error",
                                 "details": {"request_id": "oops-1"}}
