"""The cache key follows the inputs' bytes, even though it remembers their digests by file stamp."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JISR_KG_CACHE", str(tmp_path / "cache"))
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy)
    old = 1_600_000_000_000_000_000  # long ago, so that the digests are remembered
    for f in copy.glob("*.ttl"):
        os.utime(f, ns=(old, old))
    return copy


def _key(data: Path) -> str:
    from jisr_kg.paths import inputs

    return inputs(data).key()


def test_remembered_digests_give_the_key_of_the_bytes(data: Path, tmp_path: Path) -> None:
    first = _key(data)
    assert (tmp_path / "cache" / "digests.json").is_file()
    assert _key(data) == first  # now from the remembered digests
    shutil.rmtree(tmp_path / "cache")
    assert _key(data) == first  # and from the bytes again


def test_an_edit_that_keeps_the_size_changes_the_key(data: Path) -> None:
    before = _key(data)
    f = data / "lead.ttl"
    text = f.read_bytes()
    i = text.index(b"Landis")
    f.write_bytes(text[:i] + b"Lundis" + text[i + 6 :])  # the same size, other bytes
    old = 1_600_000_000_000_000_001
    os.utime(f, ns=(old, old))  # an old mtime again, but not the one recorded
    assert _key(data) != before


def test_pruning_removes_only_its_own_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """JISR_KG_CACHE may name a folder other programs use: pruning keeps everything it did not write."""
    from jisr_kg.pipeline import cache

    monkeypatch.setenv("JISR_KG_CACHE", str(tmp_path))
    foreign = [tmp_path / f"project-{i}" for i in range(12)] + [tmp_path / ("f" * 32)]  # a key name, no graphs
    for d in foreign:
        d.mkdir()
        (d / "work.txt").write_text("keep me\n")
    ours = []
    for i in range(cache.KEEP + 3):
        d = tmp_path / f"{i:032x}"
        d.mkdir()
        (d / "asserted.nt").write_text("")
        os.utime(d, (1_600_000_000 + i, 1_600_000_000 + i))
        ours.append(d)
    cache._prune()
    assert all((d / "work.txt").is_file() for d in foreign)
    assert [d.exists() for d in ours] == [False] * 3 + [True] * cache.KEEP  # the newest kept
