"""Shared fixtures: a private cache for the whole test session, and helpers to run the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # One cache for the session, so that the first build warms every later command, and none from outside.
    if "JISR_KG_CACHE" not in os.environ or not os.environ.get("JISR_KG_TEST_KEEP_CACHE"):
        import tempfile

        os.environ["JISR_KG_CACHE"] = tempfile.mkdtemp(prefix="jisr-kg-test-cache-")


def jisr(*args: str, stdin: str | None = None, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run `jisr-kg ARGS` in a new process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "jisr_kg", "--quiet", *args],
        input=stdin.encode() if stdin is not None else None,
        capture_output=True,
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.fixture(scope="session")
def built():
    """The project's built dataset (reasoned once per session, then cached)."""
    from jisr_kg import build_dataset

    return build_dataset()
