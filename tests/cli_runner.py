"""Run the real `codeai` CLI in a subprocess (importable from any test module)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def run_codeai(*args: str, input: str | bytes | None = None, cwd: Path | None = None,
               env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real `codeai` CLI in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    data = input.decode("utf-8", "surrogateescape") if isinstance(input, bytes) else input
    return subprocess.run([sys.executable, "-m", "codeai_lang.cli", *args], input=data,
                          capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout)
