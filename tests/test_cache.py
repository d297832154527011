"""The cache key follows the inputs' bytes, even though it remembers their digests by file stamp."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


# ---------------------------------------------------------------- a cache that checks itself (issue 11)

from tests.conftest import jisr  # noqa: E402


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the project's entry with its store, made once for these tests."""
    folder = tmp_path_factory.mktemp("warm") / "cache"
    r = jisr("query", "claims-by-claimant", "--param", "claimant=actor:joshua-landis",
             env={"JISR_KG_CACHE": str(folder)})
    assert r.returncode == 0, r.stderr.decode()
    return folder


@pytest.fixture()
def cache_copy(warm_cache: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the warm cache, and its one entry."""
    copy = tmp_path / "cache"
    shutil.copytree(warm_cache, copy)
    (key,) = [p for p in copy.iterdir() if len(p.name) == 32 and p.is_dir()]
    return copy, key


def _count(built, *, infer: bool) -> int:
    return sum(built.count(name) for name in built.names(infer=infer))


def _run(cache_dir: Path, *args: str):
    return jisr(*args, env={"JISR_KG_CACHE": str(cache_dir)})


def test_a_truncated_graph_file_is_rebuilt_not_trusted(cache_copy, built) -> None:
    cache_dir, key = cache_copy
    with open(key / "asserted.nt", "r+b") as f:
        f.truncate(1000)
    r = _run(cache_dir, "export", "--format", "ntriples")
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.count(b"\n") == _count(built, infer=False)
    assert (key / "manifest.json").is_file() and (key / "asserted.nt").stat().st_size > 1000  # rebuilt


def test_an_emptied_inferred_file_never_gives_a_release_with_0_inferred(cache_copy, built, tmp_path) -> None:
    cache_dir, key = cache_copy
    (key / "inferred.nt").write_bytes(b"")
    r = jisr("build", "-o", str(tmp_path / "dist"), env={"JISR_KG_CACHE": str(cache_dir)})
    assert r.returncode == 0, r.stderr.decode()
    assert f"{built.count('https://w3id.org/jisr-kg/graph/inferred')} inferred".encode() in r.stdout
    assert b" 0 inferred" not in r.stdout


def test_a_changed_byte_of_the_same_size_is_caught_by_the_digest(cache_copy, built) -> None:
    cache_dir, key = cache_copy
    raw = bytearray((key / "inferred.nt").read_bytes())
    raw[10:20] = b"x" * 10
    (key / "inferred.nt").write_bytes(bytes(raw))
    r = jisr("export", "--format", "ntriples", "--inferred", env={"JISR_KG_CACHE": str(cache_dir)})
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.count(b"\n") == _count(built, infer=True)
    assert b"x" * 10 not in r.stdout


def test_a_damaged_entry_gets_a_one_line_note(cache_copy) -> None:
    cache_dir, key = cache_copy
    (key / "manifest.json").write_text("{not json")
    r = subprocess.run([sys.executable, "-m", "jisr_kg", "stats"], capture_output=True, cwd=ROOT,
                       env={**os.environ, "JISR_KG_CACHE": str(cache_dir)}, timeout=600)
    assert r.returncode == 0, r.stderr.decode()
    notes = [line for line in r.stderr.decode().splitlines() if "damaged" in line]
    assert len(notes) == 1 and "manifest.json" in notes[0], r.stderr.decode()
    assert b"Traceback" not in r.stderr


def test_a_corrupt_store_is_made_again(cache_copy, warm_cache) -> None:
    cache_dir, key = cache_copy
    query = ("query", "claims-by-claimant", "--param", "claimant=actor:joshua-landis", "--format", "csv")
    expected = _run(warm_cache, *query)
    assert expected.returncode == 0 and expected.stdout.count(b"\n") > 2
    for f in (key / "oxigraph").iterdir():
        if f.is_file():
            f.write_bytes(b"garbage")
    r = _run(cache_dir, *query)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == expected.stdout


def test_an_emptied_store_is_made_again(cache_copy, warm_cache) -> None:
    cache_dir, key = cache_copy
    shutil.rmtree(key / "oxigraph")
    (key / "oxigraph").mkdir()  # a folder, but no store in it
    query = ("query", "claims-by-claimant", "--param", "claimant=actor:joshua-landis", "--format", "csv")
    r = _run(cache_dir, *query)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == _run(warm_cache, *query).stdout


@pytest.mark.parametrize("garbage", [b"[1, 2", b"[1, 2]", b'{"x": 5}', b'{"/a": [1, 2, 3, "zz"]}', b"\xff\xfe"])
def test_garbage_in_digests_json_is_ignored_and_replaced(cache_copy, built, garbage: bytes) -> None:
    cache_dir, _key = cache_copy
    (cache_dir / "digests.json").write_bytes(garbage)
    r = _run(cache_dir, "export", "--format", "ntriples")
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.count(b"\n") == _count(built, infer=False)
    import json

    assert isinstance(json.loads((cache_dir / "digests.json").read_text()), dict)  # written anew


def test_a_cache_folder_that_cannot_be_written_means_no_cache_with_a_warning(tmp_path: Path, built) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    env = {"JISR_KG_CACHE": str(blocker / "cache")}
    r = subprocess.run([sys.executable, "-m", "jisr_kg", "export", "--format", "ntriples"], capture_output=True,
                       cwd=ROOT, env={**os.environ, **env}, timeout=600)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.count(b"\n") == _count(built, infer=False)
    assert b"cannot be written; running without the cache" in r.stderr
    q = jisr("query", "claims-by-claimant", "--param", "claimant=actor:joshua-landis", "--format", "csv", env=env)
    assert q.returncode == 0, q.stderr.decode()
    assert q.stdout.count(b"\n") > 2


def test_concurrent_commands_on_a_cold_cache_all_succeed(tmp_path: Path) -> None:
    env = {**os.environ, "JISR_KG_CACHE": str(tmp_path / "cold")}
    cmd = [sys.executable, "-m", "jisr_kg", "--quiet", "query", "claims-by-claimant",
           "--param", "claimant=actor:joshua-landis", "--format", "csv"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)
             for _ in range(7)]
    outs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0] * 7, [e.decode()[-300:] for _o, e in outs]
    assert len({o for o, _e in outs}) == 1 and outs[0][0].count(b"\n") > 2
    entries = [p for p in (tmp_path / "cold").iterdir() if len(p.name) == 32]
    assert len(entries) == 1  # built once, by one of them


# ---------------------------------------------------------------- nothing recomputed, files as streams (issue 15)


def test_a_repeated_build_keeps_an_untouched_release_and_repairs_a_touched_one(tmp_path: Path) -> None:
    env = {"JISR_KG_CACHE": str(tmp_path / "cache")}
    dist = tmp_path / "dist"
    first = jisr("build", "-o", str(dist), env=env)
    assert first.returncode == 0, first.stderr.decode()
    release = {p.name: p.read_bytes() for p in dist.iterdir()}
    again = subprocess.run([sys.executable, "-m", "jisr_kg", "build", "-o", str(dist)], capture_output=True,
                           cwd=ROOT, env={**os.environ, **env}, timeout=600)
    assert again.returncode == 0, again.stderr.decode()
    assert b"holds the release of these inputs already" in again.stderr
    assert again.stdout.splitlines()[1:] == first.stdout.splitlines()[1:]  # the same summary
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == release
    (dist / "jisr-kg.ttl").write_text("edited by hand\n")
    repaired = jisr("build", "-o", str(dist), env=env)
    assert repaired.returncode == 0, repaired.stderr.decode()
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == release


def test_the_release_files_written_as_streams_are_the_exports(tmp_path: Path, built) -> None:
    from jisr_kg.pipeline import export as ex
    from jisr_kg.rdf import formats

    dist = tmp_path / "dist"
    r = jisr("build", "-o", str(dist))
    assert r.returncode == 0, r.stderr.decode()
    for fmt in ex.FORMATS:
        ext = formats.rdf(fmt).extension
        assert (dist / f"jisr-kg{ext}").read_bytes() == ex.export(built, fmt, infer=False), fmt
        assert (dist / f"jisr-kg-inferred{ext}").read_bytes() == ex.export(built, fmt, infer=True), fmt
    assert (dist / "jisr-kg-consensus.ttl").read_bytes() == ex.write_lines(ex.consensus_graph(built), "turtle")
