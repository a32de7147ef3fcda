"""`codeai server` end to end: the real process on a free loopback port, spoken to over HTTP,
on SQLite and on the real PostgreSQL of the suite (each test that takes ``backend`` runs on both)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from codeai_testing.generate import program_1_1, program_2_0
from pg_server import get_server
from server_proc import SECRET, ServerProcess, auth, clean_env, migrate_up, running_server, write_config

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
CONTENT = "#version 2.0\nconfig {\n    app_name: \"shop\"\n}\n"


def database_url(kind: str, directory: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:{directory / 'server.db'}"
    return get_server().create_database("srv")


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One migrated server per backend, shared by the API tests of this module."""
    directory = tmp_path_factory.mktemp(f"server-{request.param}")
    url = database_url(request.param, directory)
    migrate_up(url)
    config = write_config(directory, url, server={"max_body": 65536})
    (directory / "features.yaml").write_text("features:\n  async_execution:\n    enabled: false\n")
    with running_server(config) as proc:
        yield proc


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def post_config(client: httpx.Client, name: str, content: str = CONTENT,
                headers: dict[str, str] | None = None) -> httpx.Response:
    return client.post("/api/v1/configs", json={"name": name, "content": content}, headers=headers or auth())


# --- start-up -----------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_refuses_to_start_with_pending_migrations_then_migrate_applies_them(backend: str, tmp_path: Path) -> None:
    url = database_url(backend, tmp_path)
    config = write_config(tmp_path, url)
    cmd = [sys.executable, "-m", "codeai_lang.cli", "server", "--port", "0", "--config", str(config)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=120, cwd=tmp_path)
    assert done.returncode == 1
    assert "pending migration(s)" in done.stderr and "20261201070300_execution_actor" in done.stderr
    assert "codeai migrate up" in done.stderr
    with running_server(config, "--migrate") as proc:
        ready = httpx.get(proc.url + "/health/ready", timeout=30)
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "database": "connected", "cache": "not_configured"}
        assert any(e.get("msg", "").startswith("applied 20261201070300") for e in proc.events)


def test_unreachable_database_is_a_clean_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    cmd = [sys.executable, "-m", "codeai_lang.cli", "server", "--port", "0", "--config", str(config)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and "cannot connect" in done.stderr and "Traceback" not in done.stderr


# --- health, logs -------------------------------------------------------------------------------

def test_health_and_request_ids_in_json_logs(server: ServerProcess, client: httpx.Client) -> None:
    r = client.get("/health", headers={"X-Request-Id": "probe-42"})
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok" and body["version"]
    assert body["timestamp"].endswith("Z") and r.headers["x-request-id"] == "probe-42"
    event = server.wait_for(lambda e: e.get("request_id") == "probe-42" and e.get("msg") == "request")
    assert event["method"] == "GET" and event["path"] == "/health" and event["status"] == 200
    assert isinstance(event["duration_ms"], float)
    generated = client.get("/health").headers["x-request-id"]
    assert len(generated) == 32 and generated != "probe-42"


# --- configs ------------------------------------------------------------------------------------

def test_config_create_revisions_read_and_paginate(client: httpx.Client) -> None:
    r = post_config(client, "shop-a")
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["checksum"] == hashlib.sha256(CONTENT.encode()).hexdigest()
    assert (first["name"], first["revision"], first["dsl_version"], first["version_source"]) == \
        ("shop-a", 1, "2.0", "directive")
    assert first["warnings"] == [] and first["created_at"].endswith("Z")
    assert r.headers["location"] == f"/api/v1/configs/{first['id']}"

    bigger = program_2_0(200, seed=7)
    second = post_config(client, "shop-a", bigger).json()
    assert second["id"] == first["id"] and second["revision"] == 2

    got = client.get(f"/api/v1/configs/{first['id']}", headers=auth()).json()
    assert got["content"] == bigger and got["revision"] == 2
    assert got["checksum"] == hashlib.sha256(bigger.encode()).hexdigest()
    revs = client.get(f"/api/v1/configs/{first['id']}/revisions", headers=auth()).json()
    assert [r["revision"] for r in revs["items"]] == [1, 2] and revs["items"][0]["created_by"] == "alice"

    for i in range(3):
        assert post_config(client, f"page-{i}").status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/configs", params=params, headers=auth()).json()
        assert len(body["items"]) <= 2
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 4 and first["id"] in seen


def test_invalid_config_gets_the_validators_json_diagnostics(client: httpx.Client) -> None:
    content = "#version 2.0\nentity X {\n    id: uuid, primary\n    other: ref(Nope)\n}\n"
    r = post_config(client, "broken", content)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_config"
    diag = err["details"]["diagnostics"][0]
    assert diag["code"] == "CAI202" and diag["severity"] == "error"
    assert diag["range"]["start"] == {"line": 4, "column": 16, "offset": content.index("Nope")}
    names = [c["name"] for c in client.get("/api/v1/configs", params={"limit": "200"}, headers=auth()).json()["items"]]
    assert "broken" not in names


def test_error_shapes(client: httpx.Client) -> None:
    h = {**auth(), "Content-Type": "application/json"}
    cases = [
        (client.post("/api/v1/configs", content=b"{nope", headers=h), 400, "malformed_json"),
        (client.post("/api/v1/configs", content=b"[1]", headers=h), 400, "invalid_body"),
        (client.post("/api/v1/configs", content=b"name=x", headers={**auth(), "Content-Type": "text/plain"}),
         415, "unsupported_media_type"),
        (client.post("/api/v1/configs", content=b"x" * 70000, headers=h), 413, "payload_too_large"),
        (client.post("/api/v1/configs", json={"name": "", "content": "x"}, headers=auth()), 422, "invalid_field"),
        (client.get("/api/v1/configs/nope", headers=auth()), 404, "not_found"),
        (client.get("/api/v1/nothing-here", headers=auth()), 404, "not_found"),
        (client.get("/api/v1/configs", params={"limit": "0"}, headers=auth()), 400, "invalid_parameter"),
        (client.get("/api/v1/configs", params={"cursor": "%%%"}, headers=auth()), 400, "invalid_cursor"),
        (client.get("/api/v1/configs"), 401, "unauthorized"),
        (client.get("/api/v1/configs", headers={"Authorization": "Bearer not-a-jwt"}), 401, "unauthorized"),
        (client.get("/api/v1/configs", headers=auth(secret="another-secret-of-thirty-two-bytes!!")), 401,
         "unauthorized"),
        (client.get("/api/v1/configs", headers=auth(ttl=-3600)), 401, "unauthorized"),
        (post_config(client, "ro", headers=auth(scopes=["codeai:read"])), 403, "forbidden"),
        (client.delete("/api/v1/configs", headers=auth()), 405, "method_not_allowed"),
        # PostgreSQL refuses NUL in text: caught as a field error, not a 500 from the database
        (post_config(client, "nul\u0000name"), 422, "invalid_field"),
        (client.post("/api/v1/configs", content=rb'{"name": "s", "content": "\ud800"}', headers=h), 422,
         "invalid_field"),  # a lone surrogate: valid JSON, not encodable text
    ]
    for response, status, code in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.json()["error"]["code"] == code, response.text
        assert set(response.json()["error"]) == {"code", "message", "details"}


def test_unknown_fields_are_ignored(client: httpx.Client) -> None:
    r = client.post("/api/v1/configs", json={"name": "extra", "content": CONTENT, "future": {"x": 1}},
                    headers=auth())
    assert r.status_code == 201


def test_migrate_through_the_api_and_apply_as_a_new_revision(client: httpx.Client) -> None:
    old = program_1_1(60, seed=6)
    created = post_config(client, "legacy", old).json()
    assert created["dsl_version"] == "1.1"
    preview = client.post(f"/api/v1/configs/{created['id']}/migrate", params={"to": "2.0"}, headers=auth())
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["from"] == "1.1" and body["to"] == "2.0" and body["changed"] and "D4" in body["rules_applied"]
    assert body["diff"].startswith("--- legacy (DSL 1.1)") and body["applied"] is False
    assert client.get(f"/api/v1/configs/{created['id']}", headers=auth()).json()["revision"] == 1
    applied = client.post(f"/api/v1/configs/{created['id']}/migrate", params={"to": "2.0", "apply": "true"},
                          headers=auth()).json()
    assert applied["applied"] is True and applied["revision"] == 2
    stored = client.get(f"/api/v1/configs/{created['id']}", headers=auth()).json()
    assert stored["dsl_version"] == "2.0" and stored["content"] == body["content"]
    bad = client.post(f"/api/v1/configs/{created['id']}/migrate", params={"to": "9.9"}, headers=auth())
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_version"


# --- deployments --------------------------------------------------------------------------------

def _deployment(client: httpx.Client, version: str = "v1", **extra: Any) -> dict[str, Any]:
    config_id = post_config(client, "for-deploy").json()["id"]
    r = client.post(f"/api/{version}/deployments", json={"name": "prod", "config_id": config_id, **extra},
                    headers=auth())
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_deployment_transitions_are_enforced_and_executions_recorded(client: httpx.Client) -> None:
    dep = _deployment(client)
    assert dep["status"] == "pending" and dep["revision"] == 1 and "labels" not in dep
    path = f"/api/v1/deployments/{dep['id']}"

    def patch(status: str, **kw: Any) -> httpx.Response:
        return client.patch(path, json={"status": status}, headers={**auth("bob"), **kw.get("headers", {})})

    assert patch("running").json()["status"] == "running"
    same = patch("running")
    assert same.status_code == 200 and same.json()["revision"] == 2  # no-op
    bad = patch("pending")
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "invalid_transition"
    assert bad.json()["error"]["details"]["allowed"] == ["complete", "failed", "stopped"]
    assert patch("stopped").status_code == 200
    assert patch("running").status_code == 200
    done = patch("complete")
    assert done.status_code == 200 and done.headers["etag"] == '"5"'
    assert patch("running").status_code == 409  # complete is final
    execs = client.get(f"{path}/executions", headers=auth()).json()["items"]
    assert [(e["status"], e["started_by"]) for e in execs] == [("cancelled", "bob"), ("succeeded", "bob")]
    assert all(e["finished_at"] for e in execs)
    nope = client.post("/api/v1/deployments", json={"name": "x", "config_id": "missing"}, headers=auth())
    assert nope.status_code == 422 and nope.json()["error"]["code"] == "unknown_config"


def test_if_match_protects_against_lost_updates(client: httpx.Client) -> None:
    dep = _deployment(client)
    path = f"/api/v1/deployments/{dep['id']}"
    etag = client.get(path, headers=auth()).headers["etag"]
    assert client.patch(path, json={"status": "running"}, headers={**auth(), "If-Match": etag}).status_code == 200
    stale = client.patch(path, json={"status": "failed"}, headers={**auth(), "If-Match": etag})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "precondition_failed"
    assert client.get(path, headers=auth()).json()["status"] == "running"


def test_v2_fields_and_field_stability(client: httpx.Client) -> None:
    dep = _deployment(client, "v2", labels={"team": "core", "app.kubernetes.io/name": "shop"}, priority=5)
    assert dep["labels"] == {"app.kubernetes.io/name": "shop", "team": "core"} and dep["priority"] == 5
    v1 = client.get(f"/api/v1/deployments/{dep['id']}", headers=auth()).json()
    assert "labels" not in v1 and "priority" not in v1
    assert {k: v for k, v in dep.items() if k in v1} == v1  # every v1 field is in v2, same value
    default = _deployment(client, "v2")
    assert default["labels"] == {} and default["priority"] == 0
    patched = client.patch(f"/api/v2/deployments/{dep['id']}", json={"priority": 9}, headers=auth()).json()
    assert patched["priority"] == 9 and patched["status"] == "pending"
    for bad in ({"labels": {"bad key!": "x"}}, {"labels": {"k": 1}}, {"priority": "high"}, {"priority": True}):
        r = client.post("/api/v2/deployments", json={"name": "p", "config_id": dep["config_id"], **bad},
                        headers=auth())
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_field", bad
    listed = client.get("/api/v2/deployments", params={"limit": "200"}, headers=auth()).json()["items"]
    assert all("labels" in d for d in listed)


# --- versions, features --------------------------------------------------------------------------

def test_versions_endpoint_and_openapi(client: httpx.Client) -> None:
    versions = client.get("/api/versions").json()["versions"]
    assert [v["version"] for v in versions] == ["v1", "v2"]
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/api/v2/deployments/{id}" in doc["paths"]


def test_features_endpoint(client: httpx.Client) -> None:
    body = client.get("/api/v1/features", params={"user": "carol"}, headers=auth()).json()
    assert body == {"user": "carol", "flags": {"async_execution": False}}
    assert client.get("/api/v1/features", headers=auth("dave")).json()["user"] == "dave"


def test_deprecated_version_headers_and_410_after_sunset(tmp_path: Path) -> None:
    url = database_url("sqlite", tmp_path)
    migrate_up(url)
    future = write_config(tmp_path, url, api={"versions": {
        "v1": {"status": "deprecated", "sunset": "2099-01-01T00:00:00Z", "successor": "v2"},
        "v2": {"status": "current"}}})
    past = write_config(tmp_path, url, api={"versions": {
        "v1": {"status": "deprecated", "sunset": "2020-01-01T00:00:00Z", "successor": "v2"}}})
    with running_server(future) as proc:
        r = httpx.get(proc.url + "/api/v1/deployments", headers=auth(), timeout=30)
        assert r.status_code == 200
        assert r.headers["deprecation"] == "true"
        assert r.headers["sunset"] == "Thu, 01 Jan 2099 00:00:00 GMT"
        assert r.headers["link"] == '</api/v2/deployments>; rel="successor-version"'
        v2 = httpx.get(proc.url + "/api/v2/deployments", headers=auth(), timeout=30)
        assert "deprecation" not in v2.headers
        listed = {v["version"]: v for v in httpx.get(proc.url + "/api/versions", timeout=30).json()["versions"]}
        assert listed["v1"]["status"] == "deprecated" and listed["v1"]["sunset"] == "2099-01-01T00:00:00Z"
    with running_server(past) as proc:
        gone = httpx.get(proc.url + "/api/v1/deployments/abc", headers=auth(), timeout=30)
        assert gone.status_code == 410
        err = gone.json()["error"]
        assert err["code"] == "gone" and err["details"]["successor_path"] == "/api/v2/deployments/abc"
        assert httpx.get(proc.url + "/api/v2/deployments", headers=auth(), timeout=30).status_code == 200


def test_public_reads(tmp_path: Path) -> None:
    url = database_url("sqlite", tmp_path)
    migrate_up(url)
    with running_server(write_config(tmp_path, url, server={"public_reads": True})) as proc:
        assert httpx.get(proc.url + "/api/v1/configs", timeout=30).status_code == 200
        r = httpx.post(proc.url + "/api/v1/configs", json={"name": "x", "content": CONTENT}, timeout=30)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_jwt_secret_from_the_environment_variable(tmp_path: Path) -> None:
    """CODEAI_JWT_SECRET alone is enough (the config file has no auth section)."""
    url = database_url("sqlite", tmp_path)
    migrate_up(url)
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"database": {"url": url}, "log": {"level": "debug"}}))
    with running_server(config, env={"CODEAI_JWT_SECRET": SECRET}) as proc:
        assert httpx.get(proc.url + "/api/v1/configs", headers=auth(), timeout=30).status_code == 200


def test_tokens_verified_against_a_jwks_url(tmp_path: Path) -> None:
    """auth.jwks_url: RS256 tokens are checked against the key set the URL serves (a local one)."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key, other = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    document = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            return None

    keys = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=keys.serve_forever, daemon=True).start()
    try:
        url = database_url("sqlite", tmp_path)
        migrate_up(url)
        config = tmp_path / "jwks.yaml"
        config.write_text(json.dumps({"database": {"url": url}, "log": {"level": "debug"},
                                      "auth": {"jwks_url": f"http://127.0.0.1:{keys.server_port}/jwks.json"}}))
        claims = {"sub": "erin", "exp": int(time.time()) + 600}
        good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
        with running_server(config) as proc:
            ok = httpx.post(proc.url + "/api/v1/configs", json={"name": "j", "content": CONTENT},
                            headers={"Authorization": f"Bearer {good}"}, timeout=30)
            assert ok.status_code == 201, ok.text
            bad = httpx.get(proc.url + "/api/v1/configs", headers={"Authorization": f"Bearer {forged}"}, timeout=30)
            assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
            revs = httpx.get(f"{proc.url}/api/v1/configs/{ok.json()['id']}/revisions",
                             headers={"Authorization": f"Bearer {good}"}, timeout=30).json()
            assert revs["items"][0]["created_by"] == "erin"
    finally:
        keys.shutdown()


def test_text_log_format(tmp_path: Path) -> None:
    url = database_url("sqlite", tmp_path)
    migrate_up(url)
    server = ServerProcess(write_config(tmp_path, url, log={"format": "text", "level": "info"}))
    try:
        listening = server.wait_for_text(lambda line: " listening " in line and "port=" in line)
        server.port = int(listening.split("port=")[1].split()[0])
        server.wait_for_text(lambda line: "Application startup complete" in line)
        r = httpx.get(server.url + "/health", headers={"X-Request-Id": "text-1"}, timeout=30)
        assert r.status_code == 200
        line = server.wait_for_text(lambda line: "request_id=text-1" in line)
        assert " INFO " in line and "status=200" in line and "path=/health" in line
        assert server.stop() == 0 and not server.events  # nothing was JSON
    finally:
        server.stop()
        server.kill()


def test_port_in_use_is_a_clean_error(tmp_path: Path) -> None:
    import socket

    url = database_url("sqlite", tmp_path)
    migrate_up(url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        cmd = [sys.executable, "-m", "codeai_lang.cli", "server", "--host", "127.0.0.1", "--port", str(port),
               "--config", str(write_config(tmp_path, url))]
        done = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
