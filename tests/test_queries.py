"""The stored queries: golden results, engine agreement, headers, competency questions, parameter safety,
the command line and the catalogue.

Golden results live in queries/expected/. A golden file is a TSV with a few `# key: value` lines first:

    # query: claims-by-claimant          the stored query (required; must match the file name)
    # param: claimant=actor:syrian-state-tv   one line per parameter (none: the query's defaults)
    # cq: CQ13                           the competency questions this result answers
    # order: set                         `set` (compared as a multiset) or `ordered` (compared as a list)
    # note: ...                          free text for the reader (any number)
    claimantLabel	claim	quote           the projected columns that are compared
    Syrian state TV	claim:...	...

`<name>.tsv` holds the result with the query's defaults; `<name>@<variant>.tsv` the result with other
parameters. A cell is the term's short form (a prefixed name for an IRI, the lexical form of a literal,
empty when unbound); a tab, a newline or a backslash inside a cell is written \\t, \\n, \\\\.

The competency questions are a copy in tests/data/competency-questions.json, so that the project stands
alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from jisr_kg import api
from jisr_kg.errors import QueryError
from jisr_kg.rdf.terms import Term
from jisr_kg.sparql.query import ParameterWarning, StoredQuery, resolve, stored_queries
from jisr_kg.sparql.results import SelectResult

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
EXPECTED = QUERIES / "expected"
CQ_FILE = Path(__file__).resolve().parent / "data" / "competency-questions.json"
VIEWS = {"consensus"}  # CONSTRUCT views without a golden result (checked by the build's own tests)


# ---------------------------------------------------------------- golden files


@dataclass
class Golden:
    path: Path
    query: str
    params: dict[str, str] = field(default_factory=dict)
    cqs: list[str] = field(default_factory=list)
    order: str = "set"
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.path.stem


def unescape(cell: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "\\": "\\"}.get(m.group(1), m.group(0)), cell)


def escape(cell: str) -> str:
    return cell.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def read_golden(path: Path) -> Golden:
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    g = Golden(path, query="")
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        key, _, value = lines[i][1:].strip().partition(":")
        value = value.strip()
        if key == "query":
            g.query = value
        elif key == "param":
            name, sep, v = value.partition("=")
            assert sep, f"{path.name}: '# param:' takes NAME=VALUE, not {value!r}"
            g.params[name.strip()] = v.strip()
        elif key == "cq":
            g.cqs = [c.strip() for c in value.replace(",", " ").split() if c.strip()]
        elif key == "order":
            assert value in ("set", "ordered"), f"{path.name}: '# order:' is set or ordered, not {value!r}"
            g.order = value
        i += 1
    assert i < len(lines), f"{path.name}: no header line with the compared columns"
    g.columns = lines[i].split("\t")
    for n, line in enumerate(lines[i + 1 :], start=i + 2):
        cells = tuple(unescape(c) for c in line.split("\t"))
        assert len(cells) == len(g.columns), f"{path.name}:{n}: {len(cells)} cells, {len(g.columns)} columns"
        g.rows.append(cells)
    return g


def goldens() -> list[Golden]:
    return [read_golden(p) for p in sorted(EXPECTED.glob("*.tsv"))]


def cell(t: Term | None) -> str:
    return "" if t is None else t.short()


def project(result: SelectResult, columns: list[str]) -> list[tuple[str, ...]]:
    missing = [c for c in columns if c not in result.variables]
    assert not missing, f"the golden compares columns the query does not project: {missing}"
    idx = [result.variables.index(c) for c in columns]
    return [tuple(cell(row[i]) for i in idx) for row in result.rows]


def render_golden(g: Golden, rows: list[tuple[str, ...]]) -> str:
    """The golden file as it would read with these rows (used to show a readable diff)."""
    return "\n".join(["\t".join(g.columns)] + ["\t".join(escape(c) for c in r) for r in rows])


# ---------------------------------------------------------------- running queries
# (the built dataset and its rdflib union are loaded once per process by pipeline.build's own cache)


@cache
def run(name: str, params: tuple[tuple[str, str], ...], engine: str) -> SelectResult:
    result = api.run_query(name, dict(params), engine=engine)
    assert isinstance(result, SelectResult), f"{name} is not a SELECT query"
    return result


def query_names() -> list[str]:
    return [q.name for q in stored_queries(QUERIES)]


def questions() -> dict[str, str]:
    data = json.loads(CQ_FILE.read_text(encoding="utf-8"))
    return {q["id"]: q["question"] for q in data["questions"]}


GOLDENS = goldens()


# ---------------------------------------------------------------- golden results


@pytest.mark.parametrize("name", [n for n in query_names() if n not in VIEWS])
def test_every_query_has_a_golden_result(name: str) -> None:
    path = EXPECTED / f"{name}.tsv"
    assert path.is_file(), f"stored query {name!r} has no golden result {path.relative_to(ROOT)}"
    assert not read_golden(path).params, f"{path.name} is the result with the defaults: it takes no '# param:'"


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda g: g.id)
def test_golden_file_names_its_query(golden: Golden) -> None:
    base = golden.path.stem.split("@", 1)[0]
    assert golden.query == base, f"{golden.path.name} says '# query: {golden.query}'"
    assert base in query_names(), f"{golden.path.name}: no stored query {base!r}"
    assert ("@" in golden.path.stem) == bool(golden.params), (
        f"{golden.path.name}: a variant (name@variant.tsv) sets parameters; the default result does not"
    )


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda g: g.id)
def test_result_equals_golden(golden: Golden) -> None:
    result = run(golden.query, tuple(sorted(golden.params.items())), "oxigraph")
    got = project(result, golden.columns)
    if golden.order == "ordered":
        assert got == golden.rows, "\n" + render_golden(golden, got)
    else:
        extra = Counter(got) - Counter(golden.rows)
        missing = Counter(golden.rows) - Counter(got)
        assert not extra and not missing, (
            f"\nrows the query returns that the golden lacks:\n{render_golden(golden, sorted(extra.elements()))}"
            f"\nrows of the golden that the query does not return:\n{render_golden(golden, sorted(missing.elements()))}"
        )


SOURCE_TEXT = ROOT / "data" / "source" / "june-2011-jisr-ash-shughur-clashes.txt"


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda g: g.id)
def test_golden_quotes_are_the_source_text(golden: Golden) -> None:
    """Every quote a golden expects is words of the article (the evidence), not a paraphrase."""
    text = SOURCE_TEXT.read_text(encoding="utf-8")
    for i, column in enumerate(golden.columns):
        if column == "quote" or column.endswith("Quote"):
            for row in golden.rows:
                assert not row[i] or row[i] in text, f"{golden.path.name}: {row[i]!r} is not in the source text"


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda g: g.id)
def test_engines_agree(golden: Golden) -> None:
    """rdflib and Oxigraph give the same rows of terms (in the same order where the query orders)."""
    params = tuple(sorted(golden.params.items()))
    ox = run(golden.query, params, "oxigraph")
    rl = run(golden.query, params, "rdflib")
    assert ox.variables == rl.variables
    ox_rows = [tuple(r) for r in ox.rows]
    rl_rows = [tuple(r) for r in rl.rows]
    if re.search(r"(?im)^\s*ORDER\s+BY", resolve(golden.query, QUERIES).text):
        assert ox_rows == rl_rows
    else:
        assert Counter(ox_rows) == Counter(rl_rows)


# ---------------------------------------------------------------- headers and competency questions


@pytest.mark.parametrize("name", query_names())
def test_header(name: str) -> None:
    q = resolve(name, QUERIES)
    assert q.summary, f"{name}.rq: the '#+' header has no summary"
    assert "cq" in q.header and isinstance(q.header["cq"], list), f"{name}.rq: the header needs 'cq:' (a list)"
    text = q.header.get("questions") or {}
    known = questions()
    for cq in q.cqs:
        assert cq in known, f"{name}.rq answers {cq}, which is not a competency question"
        assert text.get(cq) == known[cq], f"{name}.rq: the 'questions:' text of {cq} differs from the question"
    assert set(text) == set(q.cqs), f"{name}.rq: 'questions:' and 'cq:' name different questions"
    prefixes = set(re.findall(r"(?im)^\s*PREFIX\s+([\w-]*):", q.text))
    body = "\n".join(line for line in q.text.splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"(?<![\w<?$:/#.-])([A-Za-z][\w-]*):[A-Za-z_]", body))
    assert used <= prefixes, f"{name}.rq uses prefixes it does not declare: {sorted(used - prefixes)}"
    for p, v in q.defaults.items():
        assert p in {x.name for x in q.parameters}, f"{name}.rq: default for unknown parameter {p!r}"
        q.bind({p: v})  # every default is a valid value


def test_every_competency_question_is_answered() -> None:
    answered = {cq for q in stored_queries(QUERIES) for cq in q.cqs}
    missing = sorted(set(questions()) - answered)
    assert not missing, f"no stored query answers {missing}"


@pytest.mark.parametrize("name", query_names())
def test_each_answered_question_has_a_golden(name: str) -> None:
    """A query's `cq:` is checked: each question it claims has a golden result of it that says so."""
    q = resolve(name, QUERIES)
    claimed = {cq for g in GOLDENS if g.query == name for cq in g.cqs}
    assert set(q.cqs) <= claimed, f"{name}: no golden result answers {sorted(set(q.cqs) - claimed)}"
    assert claimed <= set(q.cqs), f"{name}: goldens answer {sorted(claimed - set(q.cqs))}, not in its 'cq:'"


def test_questions_copy_stands_alone() -> None:
    data = json.loads(CQ_FILE.read_text(encoding="utf-8"))
    assert "copied_from" in data
    ids = [q["id"] for q in data["questions"]]
    assert len(ids) == len(set(ids))
    # the 42 questions copied from the shared file, and the project's own (CQ-R..., issue 14)
    assert len([i for i in ids if not i.startswith("CQ-R")]) == 42
    assert "added" in data and all(q["id"].startswith("CQ-R") for q in data["questions"][42:])


# ---------------------------------------------------------------- parameter safety

PAYLOADS = [
    '"} ; DROP ALL ; #',
    "x' } } INSERT DATA { <urn:a> <urn:b> <urn:c> } #",
    'line one\nline two"} ; CLEAR DEFAULT ; {"',
    "\\\" } UNION { ?s ?p ?o } #",
    "'''\"\"\" }}}} ;;; DELETE WHERE { ?s ?p ?o }",
]
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def store_size(engine: str) -> str:
    if engine == "oxigraph":
        result = api.run_text(COUNT_ALL, engine=engine)
    else:  # the rdflib graph has no named graphs: count its triples
        result = api.run_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", engine=engine)
    assert isinstance(result, SelectResult)
    return result.rows[0][0].value


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_string_parameter_is_a_plain_value(payload: str, engine: str) -> None:
    import rdflib.plugins.sparql as sparql

    q = resolve("instrument-events", QUERIES)
    assert "instrument" in {p.name for p in q.parameters if p.kind == "string"}
    text = q.bind({"instrument": payload})
    # the bound text is still one SELECT query, with the payload as one string in one VALUES block
    parsed = sparql.prepareQuery(text)
    assert parsed.algebra.name == "SelectQuery"
    assert text.count("VALUES ?_instrument") == 1
    before = store_size(engine)
    result = api.run_query("instrument-events", {"instrument": payload}, engine=engine)
    assert isinstance(result, SelectResult)
    assert result.rows == []
    assert store_size(engine) == before


@pytest.mark.parametrize("payload", PAYLOADS + ["actor:x> } ; DROP ALL ; #", "http://example.org/a b"])
def test_iri_parameter_with_syntax_is_refused(payload: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args, **kwargs):
        raise AssertionError("the query was run")

    monkeypatch.setattr(api, "query_oxigraph", never)
    monkeypatch.setattr(api, "query_rdflib", never)
    with pytest.raises(QueryError, match="IRI"):
        api.run_query("claims-by-claimant", {"claimant": payload})


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("value", ["actor:nobody-at-all", "https://example.org/not-in-the-graph", "urn:x:y"])
def test_iri_parameter_unknown_gives_no_rows(value: str, engine: str) -> None:
    with pytest.warns(ParameterWarning, match="claimant.* is not in the graph"):
        result = api.run_query("claims-by-claimant", {"claimant": value}, engine=engine)
    assert isinstance(result, SelectResult) and result.rows == []


@pytest.mark.parametrize("value", ['2011-06-03" } ; DROP ALL ; #', "3 June 2011", "2011-13-45"])
def test_date_parameter_is_checked(value: str) -> None:
    with pytest.raises(QueryError, match="date"):
        api.run_query("events-on-date", {"day": value})


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(QueryError, match="no parameter 'claimnt'"):
        api.run_query("claims-by-claimant", {"claimnt": "actor:joshua-landis"})


def test_unbound_parameter_answers_for_all() -> None:
    """A parameter without a default stays unbound: the query answers for every value."""
    q = resolve("refuted-claims", QUERIES)
    assert "named_refuter" in {p.name for p in q.parameters} and "named_refuter" not in q.defaults
    everything = run("refuted-claims", (), "oxigraph")
    named = run("refuted-claims", (("named_refuter", "true"),), "oxigraph")
    assert 0 < len(named.rows) < len(everything.rows)


# ---------------------------------------------------------------- right results or a clear refusal


def test_date_parameter_in_basic_form_is_the_same_day() -> None:
    extended = run("events-on-date", (("day", "2011-06-04"),), "oxigraph")
    basic = run("events-on-date", (("day", "20110604"),), "oxigraph")
    assert extended.rows and basic.rows == extended.rows


def test_mistyped_prefix_in_an_iri_parameter_is_named() -> None:
    with pytest.raises(QueryError) as e:
        api.run_query("claims-by-claimant", {"claimant": "actr:joshua-landis"})
    message = str(e.value)
    assert "unknown prefix 'actr:'" in message and "did you mean actor:?" in message
    assert "jkg, actor, unit, place" in message  # the known ones are listed


def test_a_full_iri_with_any_scheme_in_angle_brackets() -> None:
    with pytest.warns(ParameterWarning):
        result = api.run_query("claims-by-claimant", {"claimant": "<tag:example.org,2011:x>"})
    assert isinstance(result, SelectResult) and result.rows == []


def test_an_iri_parameter_in_the_graph_gives_no_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert api.run_query("claims-by-claimant", {"claimant": "actor:joshua-landis"}).rows


ECHO = StoredQuery("echo", None, """PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?quote (STRLEN(?_text) AS ?length) (ENCODE_FOR_URI(?_text) AS ?encoded) WHERE {
  ?selector oa:exact ?quote . FILTER (CONTAINS(?quote, ?_text))
}""")


@pytest.mark.parametrize("text", ['a"b', "\U0001F600", '"', "\\", "'", 'huge numbers"', "\u0634", "e\u0301"])
def test_string_parameter_is_the_same_on_both_engines(text: str) -> None:
    """Quotes, backslashes and characters beyond the BMP reach both engines as the same string."""
    ox, rl = (api.run_query(ECHO, {"text": text}, engine=e) for e in ("oxigraph", "rdflib"))
    assert isinstance(ox, SelectResult) and isinstance(rl, SelectResult)
    assert sorted(map(str, ox.rows)) == sorted(map(str, rl.rows))
    if text == 'huge numbers"':
        assert ox.rows  # a quote inside the data's text is found


GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


@pytest.mark.parametrize("infer", [True, False])
def test_graph_on_rdflib_gives_what_oxigraph_gives(infer: bool, built) -> None:
    ox, rl = (api.run_text(GRAPH_COUNTS, engine=e, infer=infer).rows for e in ("oxigraph", "rdflib"))
    assert ox == rl
    expected = [built.count(g) for g in built.names(infer=infer)]
    assert [int(n.value) for _, n in ox] == expected


def test_from_is_honoured_on_oxigraph(built) -> None:
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH

    count = f"SELECT (COUNT(*) AS ?n) FROM <{ASSERTED_GRAPH}> WHERE {{ ?s ?p ?o }}"
    assert int(api.run_text(count).rows[0][0].value) == built.count(ASSERTED_GRAPH)
    named = f"SELECT ?g (COUNT(*) AS ?n) FROM NAMED <{CONSENSUS_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
    assert [(g.value, int(n.value)) for g, n in api.run_text(named).rows] == [
        (CONSENSUS_GRAPH, built.count(CONSENSUS_GRAPH))]


@pytest.mark.parametrize(("text", "kwargs", "message"), [
    ("SELECT * FROM <https://example.org/g> WHERE { ?s ?p ?o }", {},
     "FROM <https://example.org/g>: the dataset has no"),
    ("SELECT * FROM <https://w3id.org/jisr-kg/graph/asserted> WHERE { ?s ?p ?o }", {"engine": "rdflib"},
     "--engine rdflib does not honour FROM"),
    ("SELECT * FROM <https://w3id.org/jisr-kg/graph/asserted> WHERE { ?s ?p ?o }", {"infer": False},
     "--no-infer cannot go with FROM"),
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", {},
     r"an update \(INSERT \.\.\.\) is not a query: jisr-kg never changes"),
    ("DELETE WHERE { ?s ?p ?o }", {"engine": "rdflib"}, r"an update \(DELETE"),
    ("PREFIX x: <urn:x:>\n# only a prologue\n", {}, "the query is empty"),
    ("", {}, "the query is empty"),
    ("SELECT * WHERE {\n  ?s actr:name ?o }", {}, "unknown prefix 'actr:' at line 2"),
    ("SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:1/> { ?s ?p ?o } }", {"engine": "rdflib"},
     "SERVICE <http://127.0.0.1:1/>, a request to another server"),
])
def test_what_a_local_query_refuses(text: str, kwargs: dict, message: str) -> None:
    from jisr_kg.errors import JisrError

    with pytest.raises(JisrError, match=message) as e:
        api.run_text(text, **kwargs)
    assert e.value.exit_code == 2


def test_prefixes_in_strings_iris_and_comments_are_not_prefixes() -> None:
    text = 'SELECT ?s WHERE { ?s rdfs:label ?l FILTER (?l != "actr:x") } # actr:y\n'
    assert isinstance(api.run_text(text), SelectResult)


# ---------------------------------------------------------------- the command line


def cli() -> list[str]:
    script = Path(sys.executable).parent / "jisr-kg"
    if script.is_file():
        return [str(script)]
    found = shutil.which("jisr-kg")
    return [found] if found else [sys.executable, "-m", "jisr_kg"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    return subprocess.run([*cli(), *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def test_cli_lists_every_query() -> None:
    out = run_cli("queries")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for q in stored_queries(QUERIES):
        assert any(line.split()[0] == q.name and q.summary in line for line in lines if line.strip()), q.name
    doc = json.loads(run_cli("queries", "--format", "json").stdout)
    assert {d["name"]: d["cq"] for d in doc} == {q.name: q.cqs for q in stored_queries(QUERIES)}


def test_cli_query_with_param() -> None:
    from jisr_kg.sparql.results import write

    out = run_cli("query", "claims-by-claimant", "--param", "claimant=actor:syrian-state-tv", "--format", "tsv", "-q")
    assert out.returncode == 0, out.stderr
    expected = api.run_query("claims-by-claimant", {"claimant": "actor:syrian-state-tv"})
    assert out.stdout == write(expected, "tsv")
    assert out.stdout.startswith("?claimant\t?claimantLabel\t")
    assert "Syria TV claimed that a number of the bodies of policemen were mutilated" in out.stdout


def test_cli_refuses_bad_parameters() -> None:
    out = run_cli("query", "claims-by-claimant", "--param", "claimnt=actor:joshua-landis", "-q")
    assert out.returncode != 0 and "no parameter 'claimnt'" in out.stderr
    out = run_cli("query", "claims-by-claimant", "--param", 'claimant=actor:x> } ; DROP ALL ; #', "-q")
    assert out.returncode != 0 and "IRI" in out.stderr and "Traceback" not in out.stderr


# ---------------------------------------------------------------- the catalogue cannot rot


def test_queries_reference_is_current() -> None:
    from jisr_kg.sparql.catalogue import render_reference

    doc = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
    assert doc == render_reference(stored_queries(QUERIES)), (
        "docs/queries.md is out of date: run `python -m jisr_kg.sparql.catalogue`"
    )


def test_catalogue_lists_every_query_and_question() -> None:
    from jisr_kg.sparql.catalogue import render_catalogue, render_reference

    qs = stored_queries(QUERIES)
    table, reference = render_catalogue(qs), render_reference(qs)
    known = questions()
    for q in qs:
        assert f"`{q.name}`" in table and f"jisr-kg query {q.name}" in reference
        for cq in q.cqs:
            assert known[cq].replace("|", "\\|") in table


def test_stored_query_objects_are_the_packaged_ones() -> None:
    """The tests read queries/ beside the package, which is what the command uses from a checkout."""
    names = {q.name for q in stored_queries()}
    assert names == set(query_names())
    assert all(isinstance(q, StoredQuery) for q in stored_queries())
