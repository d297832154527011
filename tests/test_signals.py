"""A build stopped by SIGTERM or SIGKILL takes its validating child with it and leaves no half-written
release (issue 11: the orphaned validator)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, children, jisr

pytestmark = pytest.mark.slow  # a 10x copy of the data, built from a cold cache


@pytest.fixture(scope="module")
def tenfold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tenfold") / "data"
    r = jisr("synth", "--scale", "10", "-o", str(out))
    assert r.returncode == 0, r.stderr.decode()
    return out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
@pytest.mark.parametrize("phase", ["reasoning", "validating"])
def test_a_stopped_build_leaves_no_child_running(tenfold: Path, tmp_path: Path, sig: signal.Signals,
                                                 phase: str) -> None:
    """Stopped while it reasons (its child writes the files that need no inferences meanwhile) or
    while it validates (the validating child), the build leaves no process behind."""
    env = {**os.environ, "JISR_KG_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "jisr_kg", "--quiet", "--data", str(tenfold), "build", "-o",
                             str(tmp_path / "dist")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        kids: list[int] = []
        # the cache entry's manifest is written once reasoning is done, before the validating child starts
        def reasoned() -> bool:
            return any((tmp_path / "cache").glob("*/manifest.json"))

        while proc.poll() is None and time.monotonic() < deadline:
            kids = children(proc.pid)
            if kids and (phase == "reasoning") != reasoned():
                break
            time.sleep(0.05)
        if not kids or (phase == "reasoning") == reasoned():
            pytest.fail(f"the build never started a child while {phase}")
        proc.send_signal(sig)
        code = proc.wait(timeout=30)
        assert code in (-sig, 128 + sig)
        deadline = time.monotonic() + 2  # the kernel ends it at once; a validation takes longer
        while any(Path(f"/proc/{k}").exists() and "Z" not in Path(f"/proc/{k}/stat").read_text().split()[2]
                  for k in kids if Path(f"/proc/{k}/stat").exists()) and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = [k for k in kids if Path(f"/proc/{k}/stat").exists()
                 and Path(f"/proc/{k}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
        assert not alive, f"still running after the build ended: {alive}"
        assert not (tmp_path / "dist").exists()
        if sig == signal.SIGTERM:  # Python's clean-up ran: no temporary release folder is left
            assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dist")] == []
    finally:
        if proc.poll() is None:
            proc.kill()
