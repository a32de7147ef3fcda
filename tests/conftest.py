"""Shared test fixtures. Feature-specific fixtures live in their own test modules."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import pytest
from _pytest.terminal import TerminalReporter
from cli_runner import CORPUS, ROOT, run_codeai
from codeai_testing.components import PREFIX, under_ci

__all__ = ["CORPUS", "ROOT", "run_codeai"]


@pytest.fixture
def codeai() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_codeai


_COMPONENT = re.compile(re.escape(PREFIX) + r" \[([^\]]+)\]")


def _skipped_components(reporter: TerminalReporter) -> dict[str, int]:
    """Component name -> number of tests skipped for it (read from the skip reports, so it works
    with xdist too)."""
    counts: dict[str, int] = {}
    for report in reporter.stats.get("skipped", []):
        match = _COMPONENT.search(str(report.longrepr))
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    """Say loudly, at the very end, which components this (local) run did not exercise."""
    counts = _skipped_components(terminalreporter)
    if not counts:
        return
    listed = ", ".join(f"{name} ({n} tests)" for name, n in sorted(counts.items()))
    mode = "CI=true would FAIL these" if not under_ci() else "CI=true"
    terminalreporter.write_sep("!", f"SKIPPED COMPONENTS: {listed} -- {mode}", red=True, bold=True)
