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
