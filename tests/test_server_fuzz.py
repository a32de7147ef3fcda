"""Schema-driven fuzzing of the live server with schemathesis against its own OpenAPI document:
no 5xx, and every response conforms to the document (status, content type, headers, schema)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pg_server import get_server
from server_proc import clean_env, migrate_up, running_server, token, write_config

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,response_headers_conformance")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(backend: str, tmp_path: Path) -> None:
    """PostgreSQL too: it refuses text SQLite stores (NUL characters), a 5xx waiting to happen."""
    url = f"sqlite:{tmp_path / 'fuzz.db'}" if backend == "sqlite" else get_server().create_database("fuzz")
    migrate_up(url)
    st = Path(sys.executable).parent / "st"
    with running_server(write_config(tmp_path, url)) as proc:
        cmd = [str(st), "run", proc.url + "/openapi.json", "-H", f"Authorization: Bearer {token()}",
               "--checks", CHECKS, "--max-examples", "15", "--seed", "20261201",
               "--phases", "examples,coverage,fuzzing,stateful", "--request-timeout", "30",
               "--generation-allow-x00", "true"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=540, env=clean_env(), cwd=tmp_path)
        served = [e for e in proc.events if e.get("msg") == "request"]
    assert done.returncode == 0, done.stdout[-6000:]
    assert len(served) > 500  # the fuzzer really ran
    assert not [e for e in served if e["status"] >= 500], [e for e in served if e["status"] >= 500][:5]
    statuses = {e["status"] for e in served}
    assert {200, 201, 400, 404, 422} <= statuses
