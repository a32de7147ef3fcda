"""A clean install as a tool: build the wheel from the tracked files, `pipx install` it (its own
fresh virtual environment, no access to this checkout or its venv), and run every command
from there in an empty directory. Catches files missing from the wheel (grammar,
SQL, schemas), dependencies missing from pyproject.toml and imports of test-only code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = "entity User {\n    id: uuid, primary\n}\n"
BAD = "#version 1.1\nentity User {\n    id: uuid, primary_key\n    owner: ref(Nobody)\n}\n"


def _run(*cmd: str | Path, cwd: Path, env: dict[str, str] | None = None, input: str | None = None,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, input=input, capture_output=True,
                          text=True, timeout=timeout)


def _copy_tracked(dest: Path) -> None:
    """The files a fresh clone would have (tracked, as in the working tree)."""
    listed = _run("git", "ls-files", "-z", cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    for rel in filter(None, listed.stdout.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _lsp_handshake(codeai: Path, cwd: Path, env: dict[str, str]) -> str:
    """initialize → shutdown → exit over stdio; returns the server's raw output."""
    def frame(obj: dict[str, object]) -> str:
        body = json.dumps(obj)
        return f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    messages = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"processId": None, "rootUri": None, "capabilities": {}}},
                {"jsonrpc": "2.0", "method": "initialized", "params": {}},
                {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
                {"jsonrpc": "2.0", "method": "exit"}]
    proc = _run(codeai, "lsp", "--stdio", cwd=cwd, env=env, input="".join(map(frame, messages)), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_wheel_installs_into_a_clean_venv_and_every_command_runs(tmp_path: Path) -> None:
    src, dist, venv, work = (tmp_path / d for d in ("src", "dist", "venv", "work"))
    for d in (src, work):
        d.mkdir()
    _copy_tracked(src)
    built = _run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, src, cwd=tmp_path)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("codeai_lang-*.whl")

    # pipx keeps its venvs and the `codeai` link under these directories (nothing global).
    pipx_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    pipx_env.update(PIPX_HOME=str(venv), PIPX_BIN_DIR=str(tmp_path / "bin"), PIPX_MAN_DIR=str(tmp_path / "man"))
    installed = _run(sys.executable, "-m", "pipx", "install", "--python", sys.executable, wheel,
                     cwd=tmp_path, env=pipx_env)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    bindir = tmp_path / "bin"
    pyexe = venv / "venvs" / "codeai-lang" / ("Scripts" if os.name == "nt" else "bin") / "python"

    # Nothing from this checkout: no PYTHONPATH, a fresh HOME (no ~/.cai.yaml), only pipx's bin on PATH.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "CODEAI_"))}
    env.update(HOME=str(tmp_path / "home"), PATH=f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    codeai = bindir / "codeai"
    (work / "good.cai").write_text(GOOD, encoding="utf-8")
    (work / "bad.cai").write_text(BAD, encoding="utf-8")

    def ok(*args: str, code: int = 0) -> str:
        proc = _run(codeai, *args, cwd=work, env=env)
        assert proc.returncode == code, f"codeai {' '.join(args)}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    version = json.loads(ok("version", "--output", "json"))
    assert version["dsl_versions"] and version["latest_dsl"] in version["dsl_versions"]
    assert "1 file checked: 1 valid" in ok("validate", "good.cai")
    report = json.loads(ok("validate", "--output", "json", ".", code=1))
    assert {d["code"] for f in report["files"] for d in f["diagnostics"]} == {"CAI202", "CAI301"}
    sarif = json.loads(ok("validate", "--output", "sarif", "bad.cai", code=1))
    assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad.cai"
    ok("validate", "--output", "junit", "good.cai")
    assert "CAI102" in ok("rules") and "# CAI102" in ok("explain", "CAI102")
    ok("migrate-dsl", "--check", "good.cai")
    assert "Usage" in ok("lsp", "--help")
    assert '"capabilities"' in _lsp_handshake(codeai, work, env)
    status = ok("migrate", "status")  # embedded SQL migrations, SQLite in ./codeai.db
    assert "pending" in status and "latest none" in status
    schema = _run(pyexe, "-c", "import importlib.resources as r; print(r.files('codeai_lang.output')"
                  ".joinpath('schemas/validate-output.schema.json').is_file())", cwd=work, env=env)
    assert schema.stdout.strip() == "True"
    # Commands other issues add: run them wherever they exist at this revision.
    commands = ok("--help")
    if "│ fmt " in commands:
        ok("fmt", "--check", "good.cai")
    if "│ server " in commands:
        assert "Usage" in ok("server", "--help")
