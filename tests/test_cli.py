"""The `jisr-kg` command as a user runs it: every command, every format, and the error paths."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
import rdflib

from conftest import ROOT, jisr

EXPORTS = ("turtle", "trig", "ntriples", "nquads", "jsonld", "xml")
RDFLIB_FORMAT = {"turtle": "turtle", "trig": "trig", "ntriples": "nt", "nquads": "nquads", "jsonld": "json-ld",
                 "xml": "xml"}
DATASET_FORMATS = {"trig", "nquads"}


def out(r) -> str:
    return r.stdout.decode("utf-8")


def err(r) -> str:
    return r.stderr.decode("utf-8")


def test_help_lists_every_command() -> None:
    r = jisr("--help")
    assert r.returncode == 0
    listed = set(re.findall(r"^    (\w+)\s", out(r), re.M))  # the command list, not the description
    for command in ("build", "validate", "queries", "query", "export", "stats", "coverage", "docs", "synth",
                    "push"):
        assert command in listed, out(r)
        sub = jisr(command, "--help")
        assert sub.returncode == 0 and out(sub).startswith(f"usage: jisr-kg {command}"), err(sub)


def test_build_writes_every_format_and_a_void_description(tmp_path, built) -> None:
    r = jisr("build", "-o", str(tmp_path / "dist"))
    assert r.returncode == 0, err(r)
    names = {p.name for p in (tmp_path / "dist").iterdir()}
    for suffix in (".ttl", ".trig", ".nt", ".nq", ".jsonld", ".rdf"):
        assert f"jisr-kg{suffix}" in names and f"jisr-kg-inferred{suffix}" in names
    assert {"void.ttl", "jisr-kg-consensus.ttl", "validation-report.txt"} <= names
    void = rdflib.Graph().parse(tmp_path / "dist" / "void.ttl")
    triples = void.value(rdflib.URIRef("https://w3id.org/jisr-kg/dataset"),
                         rdflib.URIRef("http://rdfs.org/ns/void#triples"))
    assert int(triples) == len(built.union(infer=True))
    assert "violations" in out(r) and "triples" in out(r)


def test_failed_build_leaves_the_previous_release_untouched(tmp_path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "jisr-kg.ttl").write_text("old release\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "bad.ttl").write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n")
    r = jisr("--data", str(data), "build", "-o", str(dist))
    assert r.returncode == 2
    assert (dist / "jisr-kg.ttl").read_text() == "old release\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "dist"]  # no temporary leftovers


@pytest.mark.parametrize("fmt", EXPORTS)
def test_export_parses_back_to_the_same_graph(fmt: str, built) -> None:
    r = jisr("export", "--format", fmt, "--inferred")
    assert r.returncode == 0, err(r)
    if fmt in DATASET_FORMATS:
        ds = rdflib.Dataset()
        ds.parse(data=r.stdout, format=RDFLIB_FORMAT[fmt])
        for name, graph in built.named_graphs(infer=True):
            back = ds.graph(rdflib.URIRef(name))
            assert set(back) == set(graph), name  # no blank nodes: isomorphic means equal
    else:
        back = rdflib.Graph().parse(data=r.stdout, format=RDFLIB_FORMAT[fmt])
        assert set(back) == set(built.union(infer=True))


@pytest.mark.parametrize("fmt", EXPORTS)
def test_export_is_byte_identical_across_processes(fmt: str, built) -> None:
    # Two separate processes: rdflib's order follows the per-process hash seed.
    first = jisr("export", "--format", fmt, "--inferred", env={"PYTHONHASHSEED": "1"})
    second = jisr("export", "--format", fmt, "--inferred", env={"PYTHONHASHSEED": "2"})
    assert first.returncode == 0 and first.stdout == second.stdout


@pytest.mark.parametrize("fmt,oxformat", [("turtle", "TURTLE"), ("ntriples", "N_TRIPLES"), ("nquads", "N_QUADS"),
                                          ("trig", "TRIG"), ("jsonld", "JSON_LD"), ("xml", "RDF_XML")])
def test_inferred_export_is_valid_rdf_for_an_independent_parser(fmt: str, oxformat: str, built) -> None:
    import pyoxigraph as ox

    r = jisr("export", "--format", fmt, "--inferred")
    quads = list(ox.parse(r.stdout, format=getattr(ox.RdfFormat, oxformat)))
    assert len(quads) == len(built.union(infer=True))


def test_export_to_a_file(tmp_path) -> None:
    target = tmp_path / "out" / "graph.ttl"
    r = jisr("export", "-o", str(target))
    assert r.returncode == 0 and r.stdout == b""
    assert len(rdflib.Graph().parse(target)) > 0


def test_consensus_export_has_no_claims(built) -> None:
    r = jisr("export", "--consensus")
    g = rdflib.Graph().parse(data=r.stdout, format="turtle")
    jkg = rdflib.Namespace("https://w3id.org/jisr-kg/ontology#")
    assert not list(g.subjects(rdflib.RDF.type, jkg.Claim))
    assert set(built.consensus) <= set(g)


def test_validate_conforms_on_the_project_data() -> None:
    r = jisr("validate")
    assert r.returncode == 0, out(r) + err(r)
    assert "Violations: 0" in out(r)


@pytest.mark.parametrize("fmt", ["text", "json", "turtle"])
def test_validate_formats(fmt: str) -> None:
    r = jisr("validate", "--format", fmt)
    assert r.returncode == 0
    # One meaning of "conforms" in every format (SHACL's: no result at all); our data has warnings.
    if fmt == "json":
        doc = json.loads(out(r))
        assert doc["conforms"] is False and doc["hasViolations"] is False and doc["counts"]["Warning"] > 0
    if fmt == "turtle":
        g = rdflib.Graph().parse(data=r.stdout, format="turtle")
        sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
        report = next(g.subjects(rdflib.RDF.type, sh.ValidationReport))
        assert g.value(report, sh.conforms) == rdflib.Literal(False)


def test_build_with_violations_shows_them_and_writes_nothing(tmp_path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "orphan.ttl").write_text(
        "@prefix jkg: <https://w3id.org/jisr-kg/ontology#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<https://w3id.org/jisr-kg/id/claim/orphan> a jkg:Claim ; rdfs:label \"a claim with no claimant\"@en .\n"
    )
    r = jisr("--data", str(data), "build", "-o", str(tmp_path / "dist"), env={"JISR_KG_CACHE": str(tmp_path / "c")})
    assert r.returncode == 1
    lines = err(r).splitlines()
    assert any(line.startswith("Violation: ") for line in lines) and "claim:orphan" in err(r)
    assert not any(line.startswith("Warning: ") for line in lines)  # only what stops the build
    assert lines[-1].startswith("jisr-kg: error: the data does not conform:")
    assert not (tmp_path / "dist").exists()


def test_validate_reports_a_violation_with_exit_1(tmp_path) -> None:
    claim = tmp_path / "claim.ttl"
    claim.write_text(
        "@prefix jkg: <https://w3id.org/jisr-kg/ontology#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<https://w3id.org/jisr-kg/id/claim/orphan> a jkg:Claim ; rdfs:label \"a claim with no claimant\"@en .\n"
    )
    r = jisr("validate", str(claim), str(ROOT / "data" / "source.ttl"))
    assert r.returncode == 1
    assert "claim:orphan" in out(r)


def test_malformed_turtle_names_file_line_and_column(tmp_path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b "unterminated .\n')
    r = jisr("validate", str(bad))
    assert r.returncode == 2
    assert re.search(rf"{re.escape(str(bad))}:3:\d+: syntax error", err(r)), err(r)
    assert "Traceback" not in err(r)


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    r = jisr("validate", str(tmp_path / "nope.ttl"))
    assert r.returncode == 2
    assert "nope.ttl: no such file or folder" in err(r)
    assert "Traceback" not in err(r)


def test_queries_lists_the_stored_queries() -> None:
    r = jisr("queries")
    assert r.returncode == 0
    names = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    listed = [line.split()[0] for line in out(r).splitlines() if line.strip()]
    assert listed == names


SELECT_PERSONS = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?person ?name WHERE { ?person a jkg:Person ; rdfs:label ?name } ORDER BY ?name
"""


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_query_from_stdin_in_every_results_format(engine: str, built) -> None:
    expected = sorted(str(o) for s in built.asserted.subjects(rdflib.RDF.type,
                      rdflib.URIRef("https://w3id.org/jisr-kg/ontology#Person"))
                      for o in built.asserted.objects(s, rdflib.RDFS.label))
    table = out(jisr("query", "-", "--engine", engine, stdin=SELECT_PERSONS))
    assert f"({len(expected)} rows)" in table
    csv_out = out(jisr("query", "-", "--engine", engine, "--format", "csv", stdin=SELECT_PERSONS))
    assert csv_out.splitlines()[0] == "person,name"
    assert [line.split(",", 1)[1] for line in csv_out.splitlines()[1:]] == expected
    tsv_out = out(jisr("query", "-", "--engine", engine, "--format", "tsv", stdin=SELECT_PERSONS))
    assert tsv_out.splitlines()[0] == "?person\t?name"
    assert tsv_out.splitlines()[1].endswith('"@en')
    doc = json.loads(out(jisr("query", "-", "--engine", engine, "--format", "json", stdin=SELECT_PERSONS)))
    assert [b["name"]["value"] for b in doc["results"]["bindings"]] == expected
    xml_out = out(jisr("query", "-", "--engine", engine, "--format", "xml", stdin=SELECT_PERSONS))
    assert xml_out.count("<result>") == len(expected)


def test_query_construct_gives_turtle() -> None:
    q = "CONSTRUCT { ?p rdfs:label ?n } WHERE { ?p a jkg:Person ; rdfs:label ?n }"
    r = jisr("query", "-", stdin=q)
    assert r.returncode == 0, err(r)
    g = rdflib.Graph().parse(data=r.stdout, format="turtle")
    assert len(g) > 5


def test_query_ask() -> None:
    r = jisr("query", "-", "--format", "json", stdin="ASK { ?c a jkg:Claim }")
    assert json.loads(out(r))["boolean"] is True


def test_no_infer_hides_entailments() -> None:
    # Persons are prov:Agents only by the ontology's subclass axioms.
    q = "ASK { actor:joshua-landis a prov:Agent }"
    assert out(jisr("query", "-", stdin=q)) == "yes\n"
    assert out(jisr("query", "-", "--no-infer", stdin=q)) == "no\n"


def test_query_from_a_file(tmp_path) -> None:
    f = tmp_path / "persons.rq"
    f.write_text(SELECT_PERSONS)
    r = jisr("query", str(f), "--format", "csv")
    assert r.returncode == 0 and "Joshua Landis" in out(r)


def test_unknown_query_suggests_close_names() -> None:
    names = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    typo = names[0][:-1] + ("x" if not names[0].endswith("x") else "y")
    r = jisr("query", typo)
    assert r.returncode == 2
    assert f"no stored query named {typo!r}" in err(r)
    assert names[0] in err(r)


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_sparql_syntax_error_shows_line_and_column(engine: str) -> None:
    r = jisr("query", "-", "--engine", engine, stdin="SELECT ?s WHERE {\n  ?s ?p \n}\n")
    assert r.returncode == 2
    assert re.search(r"syntax error at line [23], column \d+", err(r)), err(r)
    assert "Traceback" not in err(r)


def test_missing_query_file() -> None:
    r = jisr("query", "nope/missing.rq")
    assert r.returncode == 2 and "missing.rq: no such file" in err(r)


def test_stats_counts_triples_classes_and_claimants(built) -> None:
    r = jisr("stats")
    assert r.returncode == 0
    text = out(r)
    assert re.search(rf"^  asserted +{len(built.asserted)}$", text, re.M)
    assert "jkg:Claim" in text and "Wikipedia article authors" in text


def test_coverage_is_complete() -> None:
    r = jisr("coverage")
    assert "100.0%" in out(r)
    assert r.returncode == 0, out(r)


def test_docs_writes_html(tmp_path) -> None:
    target = tmp_path / "ontology.html"
    r = jisr("docs", "-o", str(target))
    assert r.returncode == 0, err(r)
    html = target.read_text()
    assert "<html" in html and "claim" in html.lower()


def test_docs_default_lies_outside_the_release_folder() -> None:
    """`build` replaces dist/; the docs must not be written where the next build deletes them."""
    from jisr_kg.cli import make_parser

    args = make_parser().parse_args(["docs"])
    assert not Path(args.output).is_relative_to("dist")


def test_build_replaces_its_own_release_and_a_pre_marker_one(tmp_path, built) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "void.ttl").write_text("a release from before the marker\n")
    for _ in range(2):  # the second run replaces the folder the first one wrote (it carries the marker)
        r = jisr("build", "-o", str(dist))
        assert r.returncode == 0, err(r)
        assert (dist / ".jisr-kg-output").is_file() and "jisr-kg" in (dist / "void.ttl").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]


def test_an_empty_parameter_lifts_the_default() -> None:
    from jisr_kg.sparql.query import resolve

    q = resolve("claims-by-claimant")
    assert "VALUES ?_claimant_iri" in q.bind({})  # the header's default
    assert q.bind({"claimant": ""}) == q.text
    everyone = out(jisr("query", "claims-by-claimant", "--param", "claimant=", "--format", "csv"))
    landis = out(jisr("query", "claims-by-claimant", "--format", "csv"))
    assert len(everyone.splitlines()) > len(landis.splitlines()) > 1


# ---------------------------------------------------------------- conventions (issue 11)


@pytest.mark.parametrize(("name", "fmt"), [("t.csv", "csv"), ("t.tsv", "tsv"), ("t.srj", "json"), ("t.json", "json"),
                                           ("t.srx", "xml"), ("t.txt", "table")])
def test_query_output_format_from_the_extension(name: str, fmt: str, tmp_path: Path) -> None:
    from jisr_kg import api
    from jisr_kg.sparql.results import write

    r = jisr("query", "claims-by-claimant", "-o", str(tmp_path / name))
    assert r.returncode == 0, err(r)
    assert (tmp_path / name).read_bytes().decode("utf-8") == write(api.run_query("claims-by-claimant"), fmt)


def test_construct_output_format_from_the_extension(tmp_path: Path) -> None:
    construct = "CONSTRUCT { ?p a jkg:Person } WHERE { ?p a jkg:Person }"
    r = jisr("query", "-", "-o", str(tmp_path / "people.nt"), stdin=construct)
    assert r.returncode == 0, err(r)
    g = rdflib.Graph().parse(tmp_path / "people.nt", format="nt")  # N-Triples, not Turtle with prefixes
    assert len(g) > 5 and "@prefix" not in (tmp_path / "people.nt").read_text()


@pytest.mark.parametrize(("name", "fmt"), [("x.nt", "nt"), ("x.jsonld", "json-ld"), ("x.rdf", "xml"),
                                           ("x.nq", "nquads"), ("x.ttl", "turtle")])
def test_export_format_from_the_extension(name: str, fmt: str, tmp_path: Path, built) -> None:
    r = jisr("export", "-o", str(tmp_path / name))
    assert r.returncode == 0, err(r)
    parsed = (rdflib.Dataset() if fmt == "nquads" else rdflib.Graph()).parse(tmp_path / name, format=fmt)
    assert len(parsed) == len(built.asserted) + len(built.consensus)


def test_export_explicit_format_that_agrees_with_the_extension(tmp_path: Path) -> None:
    r = jisr("export", "-o", str(tmp_path / "x.nt"), "--format", "ntriples")
    assert r.returncode == 0, err(r)


def test_every_command_exits_2_on_a_usage_error() -> None:
    """argparse's own errors and ours: 2, never 1 (1 means a check found a problem)."""
    from jisr_kg.cli import make_parser

    parser = make_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name in [*commands, None]:
        r = jisr(*([name] if name else []), "--no-such-flag")
        assert r.returncode == 2, (name, err(r))
        assert "usage:" in err(r) and "Traceback" not in err(r)
    q = ["query", "claims-by-claimant"]
    for args in ([*q, "--timeout", "-1"], [*q, "--max-width", "x"], [*q, "--max-memory", "0"], [*q, "--format", "nq"],
                 [*q, "--param", "nothing"], [*q, "--format", "turtle"], ["export", "--inferred", "--consensus"]):
        r = jisr(*args)
        assert r.returncode == 2, (args, err(r))
        assert "Traceback" not in err(r)


def table_lines(text: str) -> list[str]:
    return text.splitlines()[:-1]  # without the "(N rows)" line


@pytest.mark.parametrize("width", [60, 100])
def test_table_fits_max_width_with_ellipses(width: int) -> None:
    r = jisr("query", "claims-by-claimant", "--max-width", str(width))
    assert r.returncode == 0, err(r)
    lines = table_lines(out(r))
    assert max(len(line) for line in lines) <= width
    assert "…" in out(r)
    assert len({line.index("|") for line in lines[1:] if "|" in line} | {lines[1].index("+")}) == 1  # aligned


def test_table_unlimited_and_the_default_off_a_terminal() -> None:
    from jisr_kg import api

    quotes = [row["quote"].value for row in api.run_query("claims-by-claimant").as_dicts()]
    longest = max(quotes, key=len)
    assert len(longest) > 80
    default = out(jisr("query", "claims-by-claimant"))  # not a terminal: each cell cut at 80, as before
    assert "…" in default and longest not in default
    rows = table_lines(default)[2:]  # below the header and its rule
    assert rows and all(len(cell.strip()) <= 80 for line in rows for cell in line.split(" | "))
    whole = out(jisr("query", "claims-by-claimant", "--max-width", "0"))
    assert "…" not in whole and longest in whole


def test_table_fits_the_terminal() -> None:
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "jisr_kg", "-q", "query", "claims-by-claimant"], cwd=ROOT,
                         stdout=follower, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "72"})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert p.wait(60) == 0
    os.close(leader)
    lines = b"".join(chunks).decode("utf-8").replace("\r\n", "\n").splitlines()
    assert lines and max(len(line) for line in lines) <= 72
    assert "…" in "\n".join(lines)


def test_param_with_bytes_that_are_not_utf8() -> None:
    import os
    import subprocess
    import sys

    r = subprocess.run([sys.executable.encode(), b"-m", b"jisr_kg", b"-q", b"query", b"instrument-events", b"--param",
                        b"instrument=\xff"], capture_output=True, cwd=ROOT, env=dict(os.environ))
    assert r.returncode == 2
    assert err(r).strip() == "jisr-kg: error: --param instrument=\\xff: the value is not UTF-8 text"


def test_query_help_lists_the_prefixes_a_query_may_use() -> None:
    from jisr_kg.rdf.namespaces import PREFIXES

    text = out(jisr("query", "--help"))
    for prefix, namespace in PREFIXES.items():
        assert re.search(rf"^  {re.escape(prefix)}: +{re.escape(namespace)}$", text, re.M), prefix


def test_a_warning_names_an_iri_parameter_not_in_the_graph() -> None:
    r = jisr("query", "claims-by-claimant", "--param", "claimant=actor:joshua-landus")
    assert r.returncode == 0
    assert err(r).strip() == ("jisr-kg: warning: parameter 'claimant': actor:joshua-landus is not in the graph "
                              "(no triple names it), so it matches nothing")


def test_query_text_that_is_not_utf8(tmp_path: Path) -> None:
    import subprocess
    import sys

    query = b'SELECT * WHERE {\n  ?s ?p "\xff" }\n'
    r = subprocess.run([sys.executable, "-m", "jisr_kg", "-q", "query", "-"], input=query, capture_output=True,
                       cwd=ROOT)
    assert r.returncode == 2
    assert err(r).strip() == "jisr-kg: error: <stdin>:2: the query is not UTF-8 text (byte 0xff)"
    (tmp_path / "q.rq").write_bytes(query)
    r = jisr("query", str(tmp_path / "q.rq"))
    assert r.returncode == 2
    assert err(r).strip() == f"jisr-kg: error: {tmp_path / 'q.rq'}:2: the query is not UTF-8 text (byte 0xff)"
