"""N replicas on one PostgreSQL database: concurrent --migrate, shared data, no lost updates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from pg_server import get_server
from server_proc import ServerProcess, auth, write_config

pytestmark = pytest.mark.postgres
CONTENT = "#version 2.0\nconfig {\n    app_name: \"shop\"\n}\n"


def _msgs(proc: ServerProcess) -> list[str]:
    return [str(e.get("msg", "")) for e in proc.events]


def test_two_replicas_migrate_at_once_share_data_and_never_lose_a_status_change(tmp_path: Path) -> None:
    url = get_server().create_database("replicas")
    config = write_config(tmp_path, url)
    # Both processes are launched before either is waited on: their --migrate runs overlap.
    replicas = [ServerProcess(config, "--migrate"), ServerProcess(config, "--migrate")]
    try:
        a, b = (r.start() for r in replicas)
        applied = [r for r in replicas if any(m.startswith("applied 6 migration(s)") for m in _msgs(r))]
        idle = [r for r in replicas if any(m.startswith("nothing to do") for m in _msgs(r))]
        assert len(applied) == 1 and len(idle) == 1, [_msgs(r)[:12] for r in replicas]
        import psycopg

        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (6,)

        with httpx.Client(timeout=30) as http:
            created = http.post(a.url + "/api/v1/configs", json={"name": "shared", "content": CONTENT},
                                headers=auth())
            assert created.status_code == 201
            seen = http.get(f"{b.url}/api/v1/configs/{created.json()['id']}", headers=auth()).json()
            assert seen["content"] == CONTENT and seen["checksum"] == created.json()["checksum"]
            again = http.post(b.url + "/api/v1/configs", json={"name": "shared", "content": CONTENT + "\n"},
                              headers=auth()).json()
            assert again["id"] == created.json()["id"] and again["revision"] == 2

            dep = http.post(a.url + "/api/v1/deployments", json={"name": "prod", "config_id": again["id"]},
                            headers=auth()).json()
            path = f"/api/v1/deployments/{dep['id']}"
            etag = http.get(b.url + path, headers=auth()).headers["etag"]

        def change(i: int) -> int:
            base = (a, b)[i % 2].url
            status = ("running", "stopped", "failed")[i % 3]
            with httpx.Client(timeout=60) as c:
                return c.patch(base + path, json={"status": status},
                               headers={**auth(f"u{i}"), "If-Match": etag}).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(change, range(8)))
        assert sorted(codes).count(200) == 1 and codes.count(412) == 7, codes
        final = httpx.get(a.url + path, headers=auth(), timeout=30).json()
        assert final["revision"] == 2 and final["status"] != "pending"

        def upload(i: int) -> httpx.Response:
            with httpx.Client(timeout=60) as c:
                return c.post((a, b)[i % 2].url + "/api/v1/configs",
                              json={"name": "race", "content": CONTENT + f"// {i}\n"}, headers=auth())

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(upload, range(8)))
        assert [r.status_code for r in answers] == [201] * 8
        assert sorted(r.json()["revision"] for r in answers) == list(range(1, 9))
        assert len({r.json()["id"] for r in answers}) == 1  # one config, eight revisions, none lost
    finally:
        for r in replicas:
            r.stop()
            r.kill()
