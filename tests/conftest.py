"""Shared fixtures: a private cache for the whole test session, and helpers to run the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The source article's text, which every evidence span points into.
TEXT = (ROOT / "data/source/june-2011-jisr-ash-shughur-clashes.txt").read_text(encoding="utf-8")


def _namespaces() -> tuple:
    """rdflib namespaces from the package's one table of prefixes, for tests that walk rdflib graphs."""
    import rdflib

    from jisr_kg.rdf.namespaces import PREFIXES

    return tuple(rdflib.Namespace(PREFIXES[p]) for p in ("jkg", "schema", "skos", "prov", "oa"))


JKG, SCHEMA, SKOS, PROV, OA = _namespaces()


_SESSION_CACHE: str | None = None


def _is_xdist_worker() -> bool:
    """True in a worker process of pytest-xdist (`-n`), which inherits the environment of the controller."""
    return "PYTEST_XDIST_WORKER" in os.environ


def pytest_configure(config: pytest.Config) -> None:
    # One cache for the session, so that the first build warms every later command, and none from outside;
    # removed at the end of the session (a suite must not leave 100 MB in the temporary folder). Under
    # pytest-xdist the controller makes it and its workers share it (their environment is the
    # controller's): a cold cache is built once, under the cache's lock (decision 18).
    global _SESSION_CACHE
    if _is_xdist_worker():
        return
    if "JISR_KG_CACHE" not in os.environ or not os.environ.get("JISR_KG_TEST_KEEP_CACHE"):
        import tempfile

        _SESSION_CACHE = os.environ["JISR_KG_CACHE"] = tempfile.mkdtemp(prefix="jisr-kg-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION_CACHE is not None:
        import shutil

        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


def _checkout_files() -> set[str] | None:
    """Untracked and ignored paths of the checkout (git's view), or None outside a git checkout."""
    r = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None
    skip = ("__pycache__", ".pytest_cache", ".ruff_cache", ".egg-info")
    return {line[3:] for line in r.stdout.splitlines() if line[:2] in ("??", "!!") and not any(s in line for s in skip)}


_BEFORE: set[str] | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _BEFORE
    # No test may write into the checkout (a build into its dist/, a file beside the data). Checked in
    # CI, where the clone is clean and nobody else works in it. Under pytest-xdist the controller checks,
    # once every worker has finished.
    if os.environ.get("CI") and not _is_xdist_worker():
        _BEFORE = _checkout_files()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _BEFORE is None:
        return
    new = sorted((_checkout_files() or set()) - _BEFORE)
    if new:
        print(f"\ntests wrote into the checkout: {', '.join(new[:10])}", file=sys.stderr)
        session.exitstatus = 1


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc; forked by any of its threads)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # it ended while we looked
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


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


def assert_no_infer_is_honoured_remotely(endpoint: str) -> None:
    """`query --no-infer --endpoint` sees the asserted and consensus graphs only, as `query --no-infer`
    does locally (the same count both ways, and fewer than with the inferred graph): for every store."""
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    answers = {}
    for flags in ((), ("--no-infer",)):
        local = jisr("query", "-", "--format", "csv", *flags, stdin=count)
        remote = jisr("query", "-", "--format", "csv", *flags, "--endpoint", endpoint, stdin=count)
        assert local.returncode == 0 and remote.returncode == 0, remote.stderr.decode()
        assert remote.stdout == local.stdout, flags
        answers[flags] = int(remote.stdout.decode().split()[-1])
    assert answers[("--no-infer",)] < answers[()]  # the inferred graph is left out, not ignored
