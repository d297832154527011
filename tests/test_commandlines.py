"""Every command line the documentation shows runs: the `$ jisr-kg ...` lines of the console blocks in
README.md and docs/*.md, the commands of the README's Quickstart, and the examples in each command's
`--help`. Each must exit 0 (or 1 for a check that found a problem: validate, coverage) and never
with a usage error: a documented flag that does not work is caught here.

Each runs as a user would type it, in a new folder, with this module's own cache (built by the first
command that needs it). The part of a pipeline after `jisr-kg` (`| head`, `| wc -l`) is left out;
`echo '...' | jisr-kg ...` gives the echoed text on stdin. Commands that need a server (serve, push,
--endpoint) are skipped, saying why.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CHECKS = {"validate", "coverage"}  # commands whose exit 1 means "the check found a problem"
NEEDS_SERVER = {"serve": "starts a server that runs until stopped", "push": "needs a SPARQL store to push to"}
A_QUERY_FILE = "SELECT ?name WHERE { ?p a jkg:Person ; rdfs:label ?name } ORDER BY ?name\n"


@dataclass(frozen=True)
class CommandLine:
    source: str  # where it is shown: FILE:LINE or `COMMAND --help`
    args: tuple[str, ...]  # after `jisr-kg`
    stdin: str | None = None

    @property
    def id(self) -> str:
        return f"{self.source}: jisr-kg {' '.join(self.args)}"[:150]


def parse(line: str, source: str) -> CommandLine | None:
    """The jisr-kg command in a shell line (`$ ` already removed), or None where there is none."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;")
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    for token in lexer:
        if token in ("|", "&&", ";"):
            segments.append([])
        else:
            segments[-1].append(token)
    for i, words in enumerate(segments):
        if words and words[0] == "jisr-kg":
            before = segments[i - 1] if i and line.count("|") else []
            stdin = " ".join(before[1:]) + "\n" if before[:1] == ["echo"] else None
            return CommandLine(source, tuple(words[1:]), stdin)
    return None


def documented() -> list[CommandLine]:
    found: list[CommandLine] = []
    for path in DOCS:
        name = path.relative_to(ROOT).as_posix()
        block, quickstart, heading = None, False, ""
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("#"):
                heading = line.lstrip("#").strip().lower()
            if line.startswith("```"):
                block = None if block is not None else line[3:].strip()
                quickstart = block is not None and heading == "quickstart"
                continue
            if block == "console" and line.startswith("$ "):
                command = parse(line[2:], f"{name}:{number}")
            elif quickstart and "jisr-kg" in line:
                command = parse(line, f"{name}:{number} (Quickstart)")
            else:
                continue
            if command is not None:
                found.append(command)
    return found


def help_examples() -> list[CommandLine]:
    """The `$ jisr-kg ...` lines of every command's --help."""
    from jisr_kg.cli import make_parser

    parser = make_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for name, command in sub.choices.items():
        for line in command.format_help().splitlines():
            m = re.match(r"\s+\$ (.*)", line)
            if m and (c := parse(m.group(1), f"jisr-kg {name} --help")) is not None:
                found.append(c)
    return found


COMMAND_LINES = documented() + help_examples()


def test_the_documentation_shows_command_lines() -> None:
    """The collection itself works: the README's example, the Quickstart's build and the examples of
    `query --help` are all found (an empty list would make every other test here pass)."""
    sources = {c.source.split(":")[0] for c in COMMAND_LINES}
    assert {"README.md", "jisr-kg query --help", "jisr-kg export --help"} <= sources
    assert any(c.args == ("build",) and "Quickstart" in c.source for c in COMMAND_LINES)
    assert any(c.stdin for c in COMMAND_LINES)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("commandlines-cache")


def skip_reason(c: CommandLine) -> str | None:
    if c.args and c.args[0] in NEEDS_SERVER:
        return NEEDS_SERVER[c.args[0]]
    if any(a == "--endpoint" or a.startswith("--endpoint=") for a in c.args):
        return "queries a remote SPARQL endpoint"
    return None


def problem(command: CommandLine, cache: Path, folder: Path) -> str | None:
    """Run the command line as documented; what is wrong with its outcome, or None."""
    for arg in command.args:  # a query file the text asks the reader to write (my-question.rq)
        if arg.endswith(".rq") and not (ROOT / arg).exists():
            (folder / arg).parent.mkdir(parents=True, exist_ok=True)
            (folder / arg).write_text(A_QUERY_FILE, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "jisr_kg", *command.args], cwd=folder, capture_output=True,
                       input=command.stdin.encode() if command.stdin is not None else None, timeout=900,
                       env={**os.environ, "JISR_KG_CACHE": str(cache), "COLUMNS": "100"})
    stderr = r.stderr.decode("utf-8", "replace")
    allowed = {0, 1} if command.args and command.args[0] in CHECKS else {0}
    if r.returncode not in allowed:
        return f"{command.source}: exit {r.returncode}\n{stderr[-2000:]}"
    if "usage:" in stderr or "Traceback" in stderr:
        return f"{command.source}: {stderr[-2000:]}"
    return None


@pytest.mark.parametrize("command", COMMAND_LINES, ids=lambda c: c.id)
def test_documented_command_line_runs(command: CommandLine, cache: Path, tmp_path: Path) -> None:
    reason = skip_reason(command)
    if reason:
        pytest.skip(reason)
    assert problem(command, cache, tmp_path) is None


def test_a_documented_flag_that_does_not_work_is_caught(cache: Path, tmp_path: Path) -> None:
    """This test can fail: a line documenting a flag the command does not take (as `build --rdfs` was
    once documented and failed), or a query that exits 2, is reported."""
    for line in ("jisr-kg build --no-such-flag -o out", "echo 'INSERT DATA { <a:b> <a:c> <a:d> }' | jisr-kg query -"):
        command = parse(line, "an example")
        assert command is not None
        assert problem(command, cache, tmp_path) is not None, line
