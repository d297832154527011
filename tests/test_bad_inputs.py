"""The catalogue of bad inputs (tests/bad_inputs/*.case): each command line gets its exit code and its
one-line message, and a refused command leaves every file as it was."""

from __future__ import annotations

import codecs
import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT, jisr

CASES = ROOT / "tests" / "bad_inputs"
KEEP = "keep me\n"


@dataclass
class Case:
    name: str
    setup: list[tuple[str, str]] = field(default_factory=list)
    run: list[str] = field(default_factory=list)
    cwd: str = "."
    stdin: str | None = None  # `stdin: TEXT`: what the command reads on standard input (one line)
    escapes: bool = False  # `escapes: yes`: \xNN in `run:` is that byte (bytes that are not UTF-8)
    exit: int = 0
    stderr: str = ""
    after: list[tuple[str, str]] = field(default_factory=list)


def read_case(path: Path) -> Case:
    case = Case(path.stem)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition(": ")
        assert sep, f"{path.name}:{number}: expected 'key: value'"
        if key in ("setup", "after"):
            verb, _, arg = value.partition(" ")
            getattr(case, key).append((verb, arg))
        elif key == "run":
            case.run = shlex.split(value)
        elif key == "exit":
            case.exit = int(value)
        elif key in ("stderr", "cwd", "stdin"):
            setattr(case, key, value)
        elif key == "escapes":
            case.escapes = value == "yes"
        else:
            raise AssertionError(f"{path.name}:{number}: unknown key {key!r}")
    return case


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path below `folder`, with the bytes of each file (None for a folder)."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("path", sorted(CASES.glob("*.case")), ids=lambda p: p.stem)
def test_bad_input(path: Path, tmp_path: Path) -> None:
    case = read_case(path)
    for verb, arg in case.setup:
        target = tmp_path / arg
        if verb == "file":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(KEEP, encoding="utf-8")
        elif verb == "dir":
            target.mkdir(parents=True, exist_ok=True)
        elif verb == "copy-data":
            shutil.copytree(ROOT / "data", target)
        elif verb == "write":  # `write PATH TEXT`: a file holding TEXT as written (and a newline)
            name, _, text = arg.partition(" ")
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text + "\n", encoding="utf-8")
        elif verb == "big-literal":  # a Turtle file with one literal of 17 MiB, over the parser's limit
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text('<http://example.org/a> <http://example.org/p> "' + "a" * (17 << 20) + '" .\n')
        else:
            raise AssertionError(f"{path.name}: unknown setup {verb!r}")
    before = snapshot(tmp_path)
    args = [os.fsdecode(codecs.escape_decode(a)[0]) for a in case.run] if case.escapes else case.run
    r = jisr(*args, stdin=case.stdin, cwd=tmp_path / case.cwd,
             env={"JISR_KG_CACHE": str(tmp_path.parent / f"{path.stem}-cache")})
    stderr = r.stderr.decode("utf-8")
    assert r.returncode == case.exit, stderr
    assert stderr.strip() == case.stderr.replace("{tmp}", os.path.realpath(tmp_path)), stderr
    assert len(stderr.strip().splitlines()) == 1, "one line, not a traceback"
    if case.exit != 0:
        assert snapshot(tmp_path) == before, "a refused command changed the files"
    for verb, arg in case.after:
        target = tmp_path / arg
        if verb == "file":
            assert target.is_file(), arg
        elif verb == "absent":
            assert not target.exists(), arg
        else:
            raise AssertionError(f"{path.name}: unknown after {verb!r}")
