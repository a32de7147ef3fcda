"""Shared test fixtures. Feature-specific fixtures live in their own test modules."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from cli_runner import CORPUS, ROOT, run_codeai

__all__ = ["CORPUS", "ROOT", "run_codeai"]


@pytest.fixture
def codeai() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_codeai
