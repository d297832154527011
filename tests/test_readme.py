"""The README cannot rot: its example outputs, its Turtle and its Python are checked against the code."""

from __future__ import annotations

import re
import subprocess
import sys

import rdflib

from conftest import ROOT
from jisr_kg.rdf.namespaces import PREFIXES

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quickstart_has_exactly_two_commands() -> None:
    block = re.search(r"## Quickstart\n\n```\n(.*?)```", README, re.S)
    assert block, "no Quickstart block"
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    assert "jisr-kg build" in commands[0] and "pytest" in commands[1]


def test_example_outputs_are_current(built) -> None:  # warms the cache
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "readme_examples.py"), "--check"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr + "\n(run: python tools/readme_examples.py --write)"


def test_turtle_examples_are_in_the_graph(built) -> None:
    head = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items())
    blocks = re.findall(r"```turtle\n(.*?)```", README, re.S)
    assert blocks
    graph = built.union(infer=True)
    for block in blocks:
        example = rdflib.Graph().parse(data=head + block, format="turtle")
        missing = [t for t in example if t not in graph]
        assert not missing, f"README Turtle not in the graph: {missing[:3]}"


def test_python_example_runs(built) -> None:  # warms the cache
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "True" in r.stdout


def test_a_newcomer_reads_it_in_five_minutes() -> None:
    """Reference material lives in docs/; the README stays short enough to read in five minutes."""
    assert len(README) <= 15_000, f"README.md has {len(README)} characters; move reference material to docs/"
    for link in re.findall(r"\]\(((?:docs|data)/[^)#]+)\)", README):
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"


def test_every_command_is_in_the_reference() -> None:
    """docs/commands.md documents every subcommand the parser has (a new command cannot go unlisted)."""
    import argparse

    from jisr_kg.cli import make_parser

    reference = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    sub = next(a for a in make_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [name for name in sub.choices if f"**{name}**" not in reference]
    assert not missing, f"docs/commands.md does not describe: {missing}"
