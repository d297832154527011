"""What a cold build does on the second core: a forked child parses half of large inputs, and another
writes the files that read no inferred triple while the build reasons (`build._EarlyChild`). The
results are those of one process doing it all, and a child that fails or dies fails the build with
one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# Run in a fresh interpreter: the early child is forked only from a process without other threads,
# and a pytest worker has some.
WATCH = """
import sys, time
from pathlib import Path
from jisr_kg.pipeline import build, reason

out = Path(sys.argv[1])
real = reason.entailments
seen = []

def entailments(*args, **kwargs):
    # before reasoning: wait (at most 60 s) for the child's files to appear in the release's
    # temporary folder
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not seen:
        found = {p.name for p in out.parent.glob(f".{out.name}.*/*")}
        if {"jisr-kg.nt", "jisr-kg.nq", "jisr-kg-consensus.ttl"} <= found:
            seen.append(found)
        time.sleep(0.02)
    return real(*args, **kwargs)

reason.entailments = entailments
build.build_release(out)
print("written while reasoning" if seen else "not written while reasoning")
"""

KILL = """
import os, signal, sys
from pathlib import Path
from jisr_kg.errors import JisrError
from jisr_kg.pipeline import build

start = build._EarlyChild.start

def start_and_kill(self, built):
    start(self, built)
    os.kill(self.child.pid, signal.SIGKILL)

build._EarlyChild.start = start_and_kill
try:
    build.build_release(Path(sys.argv[1]))
except JisrError as e:
    print(e)
"""


def run(script: str, out: Path, cache: Path) -> str:
    r = subprocess.run([sys.executable, "-c", script, str(out)], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "JISR_KG_CACHE": str(cache)}, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_the_files_without_inferences_are_written_while_reasoning_with_the_same_bytes(tmp_path: Path) -> None:
    cold = tmp_path / "cold"
    assert run(WATCH, cold, tmp_path / "cache") == "written while reasoning"
    # the same inputs again: the dataset comes from the cache, so nothing is reasoned and every file
    # is written after it
    warm = tmp_path / "warm"
    assert run(WATCH, warm, tmp_path / "cache") == "not written while reasoning"
    names = sorted(p.name for p in cold.iterdir())
    assert names == sorted(p.name for p in warm.iterdir())
    assert {"jisr-kg.nt", "jisr-kg-inferred.nt", "jisr-kg-consensus.ttl", "void.ttl"} <= set(names)
    for name in names:
        assert (cold / name).read_bytes() == (warm / name).read_bytes(), name


def test_a_killed_early_child_fails_the_build_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    message = run(KILL, out, tmp_path / "cache")
    assert message == ("the process writing the release's files ended without finishing (killed by SIGKILL); "
                       "nothing was written")
    assert not out.exists()
    assert list(tmp_path.glob(".dist.*")) == []


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The children forked (`forked.Forked`) while the test runs."""
    from jisr_kg.pipeline import forked

    made: list[int] = []

    class Counted(forked.Forked):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self.pid)

    monkeypatch.setattr(forked, "Forked", Counted)
    return made


@pytest.fixture
def split_always(monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> list[int]:
    """Every parse split between two processes; the list counts the children forked."""
    from jisr_kg.pipeline import dataset

    monkeypatch.setattr(dataset, "PARSE_SPLIT_MIN", 0)
    return forks


def test_inputs_parsed_by_two_processes_give_the_triples_of_one(split_always: list[int]) -> None:
    from jisr_kg.paths import inputs
    from jisr_kg.pipeline.dataset import parse_inputs
    from jisr_kg.pipeline.load import parse_files

    paths = inputs().rdf
    assert len(paths) > 2
    assert parse_inputs(paths) == parse_files(paths)
    assert len(split_always) == 1


def test_a_bad_file_parsed_by_the_child_is_reported_as_by_one_process(tmp_path: Path,
                                                                        split_always: list[int]) -> None:
    from jisr_kg.errors import InputError
    from jisr_kg.pipeline.dataset import parse_inputs
    from jisr_kg.pipeline.load import parse_files

    good = "<http://example.org/a> <http://example.org/p> _:b .\n"
    for name, text in [("a.ttl", good), ("b.ttl", good), ("c.ttl", good + "<x> <y\n"), ("d.ttl", "@prefix\n")]:
        (tmp_path / name).write_text(text, encoding="utf-8")
    paths = sorted(tmp_path.iterdir())
    with pytest.raises(InputError) as one:
        parse_files(paths)
    with pytest.raises(InputError) as two:
        parse_inputs(paths)
    assert str(two.value) == str(one.value) and "c.ttl" in str(two.value)
    assert two.value.exit_code == one.value.exit_code
    # the first half bad as well: its error comes first, as in one process
    (tmp_path / "a.ttl").write_text("<a> <b> <c\n", encoding="utf-8")
    with pytest.raises(InputError) as first:
        parse_inputs(paths)
    assert "a.ttl" in str(first.value)


def test_the_consensus_view_derived_by_a_child_is_the_one_of_one_process(monkeypatch: pytest.MonkeyPatch,
                                                                          forks: list[int]) -> None:
    from jisr_kg.paths import inputs
    from jisr_kg.pipeline import dataset

    inp = inputs()
    monkeypatch.setattr(dataset, "CONSENSUS_APART_MIN", 0)
    apart = dataset.compile_dataset(inp)
    assert len(forks) == 1
    monkeypatch.setattr(dataset, "CONSENSUS_APART_MIN", 10**9)
    together = dataset.compile_dataset(inp)
    assert len(forks) == 1
    assert apart.lines == together.lines and len(apart.lines[dataset.CONSENSUS_GRAPH]) > 0
