"""The package's shape and the bugs found in its review (issue 16), each with a test that failed before."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, jisr

PACKAGE = ROOT / "jisr_kg"
#: Each layer may import only the layers before it (and itself): rdf (namespaces, terms, formats: plain
#: data, importing nothing else of the package) < the foundation modules (errors, paths, fsutil) <
#: sparql < pipeline < store < api. The shells (cli, web) sit on top.
LAYERS = ["rdf", "foundation", "sparql", "pipeline", "store", "api", "shell"]


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "jisr_kg":
        raise ValueError(module)
    if len(parts) == 1 or parts[1] in ("errors", "paths", "fsutil", "__init__"):
        return "foundation"
    if parts[1] in ("rdf", "sparql", "pipeline", "store"):
        return parts[1]
    if parts[1] in ("api", "search"):
        return "api"
    return "shell"  # cli, web, __main__


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_layers_import_one_way() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        here = module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jisr_kg"):
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("jisr_kg")]
            for target in targets:
                if target == "jisr_kg" and isinstance(node, ast.ImportFrom):
                    names = [a.name for a in node.names]
                    if names == ["__version__"]:
                        continue
                    target = "jisr_kg." + names[0]
                if LAYERS.index(layer(target)) > LAYERS.index(layer(here)):
                    wrong.append(f"{here} imports {target}")
    assert not wrong, wrong


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    """`jisr-kg export | head -c 10`: the reader stops early; that is no error."""
    r = subprocess.run(f"{sys.executable} -m jisr_kg --quiet export | head -c 10 >/dev/null; "
                       "echo ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True,
                       text=True, cwd=ROOT, timeout=300)
    assert r.stdout.strip() == "0", r.stderr
    assert "error" not in r.stderr.lower() and "Traceback" not in r.stderr


def test_a_parameter_beside_a_non_ascii_variable() -> None:
    """SPARQL variable names may hold any letter; binding a parameter must not trip over them."""
    text = "SELECT ?été WHERE { ?_lieu_iri rdfs:label ?été }"
    r = jisr("query", "-", "--param", "lieu=place:jisr-ash-shughur", "--format", "csv", stdin=text)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines()[1:] == ["Jisr ash-Shughur"]


def test_a_non_ascii_parameter_name() -> None:
    from jisr_kg.sparql.query import StoredQuery

    q = StoredQuery("q", None, "SELECT ?x WHERE { ?x rdfs:label ?_ville }")
    assert [p.name for p in q.parameters] == ["ville"]
    q = StoredQuery("q", None, "SELECT ?x WHERE { ?x rdfs:label ?_été }")
    assert [p.name for p in q.parameters] == ["été"]
    assert 'VALUES ?_été { "x" }' in q.bind({"été": "x"})


@pytest.mark.parametrize("name", ["../queries/places", "/etc/passwd", "queries/places.rq", "places.rq", "..",
                                  str(ROOT / "queries" / "places.rq")])
def test_the_api_finds_stored_queries_by_name_only(name: str) -> None:
    from jisr_kg import JisrError, run_query

    with pytest.raises(JisrError, match="no stored query named"):
        run_query(name)


def test_the_api_takes_a_path_object_for_a_file() -> None:
    from jisr_kg import run_query

    assert run_query(ROOT / "queries" / "places.rq").rows


def test_the_in_process_dataset_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from jisr_kg.pipeline import build

    monkeypatch.setattr(build, "_LOADED", {})
    for i in range(build.LOADED_MAX + 3):
        build._remember(f"key{i}", object())
    assert list(build._LOADED) == [f"key{i}" for i in range(3, build.LOADED_MAX + 3)]


def test_coverage_reads_the_units_of_the_given_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    units = data / "source" / "units.tsv"
    lines = units.read_text(encoding="utf-8").splitlines(keepends=True)
    units.write_text("".join(lines[:-5]), encoding="utf-8")  # five units fewer
    r = jisr("--data", str(data), "coverage", env={"JISR_KG_CACHE": str(tmp_path / "cache")})
    assert "all units        103/103" in r.stdout.decode(), r.stdout.decode() + r.stderr.decode()


def test_validation_runs_in_this_process_when_threads_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """No fork from a process with other threads (a server): the child could inherit a held lock."""
    import multiprocessing
    import threading

    from jisr_kg.pipeline import build, validate

    calls: list[int] = []
    monkeypatch.setattr(validate, "validate_dataset", lambda built: calls.append(threading.get_ident()) or "report")
    monkeypatch.setattr(multiprocessing, "get_context", lambda *a: pytest.fail("forked"))
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    try:
        assert build.validate_beside(object(), lambda: "work") == ("report", "work")
    finally:
        stop.set()
    assert calls == [threading.get_ident()]
