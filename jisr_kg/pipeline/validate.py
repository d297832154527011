"""Validate: check a graph against the SHACL shapes in `ontology/shapes.ttl` and report the results.

The shapes are SHACL 1.0 (Core and SPARQL-based constraints), run by pyshacl without inference and
without its Advanced mode: the graph handed in is already complete (the command validates the
cached OWL RL closure of the build, see docs/decisions/0007-validation.md).

"Conforms" has SHACL's meaning everywhere (the Python object, the JSON and the Turtle report): no
result at all. What decides the command's exit code is a separate fact, `has_violations`: whether any
result has severity Violation. Warnings (incompleteness, such as a place without coordinates) are
reported but do not fail the command.

Results are plain strings, so that reports compare and sort without rdflib:
IRIs as they are (`https://...`), literals in N-Triples form (`"5"^^<http://...#integer>`,
`"Syria"@de`), blank nodes as `[]`, an inverse path as `^` + IRI. `display` shortens them for display.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jisr_kg import paths
from jisr_kg.errors import JisrError
from jisr_kg.rdf.namespaces import PREFIXES, XSD_STRING
from jisr_kg.rdf.terms import compact, escape_string

if TYPE_CHECKING:  # pragma: no cover
    import rdflib

    from jisr_kg.pipeline.dataset import BuiltDataset

SEVERITIES = ("Violation", "Warning", "Info")
REPORT_FORMATS = ("text", "turtle", "json")

SH = "http://www.w3.org/ns/shacl#"
SHAPES = "https://w3id.org/jisr-kg/shapes#"
#: Prefixes for display beyond the project's own (jisr_kg.rdf.namespaces.PREFIXES).
DISPLAY_PREFIXES = {"jkgsh": SHAPES, "sh": SH}
BLANK = "[]"


@dataclass(frozen=True, order=True)
class ValidationResult:
    """One SHACL validation result, as plain strings."""

    severity: str  # "Violation" | "Warning" | "Info"
    shape: str  # the source shape's IRI
    focus: str
    path: str | None
    value: str | None
    message: str
    component: str  # sh:sourceConstraintComponent, compact, e.g. "sh:MinCountConstraintComponent"

    def sort_key(self) -> tuple:
        """Violations first, then warnings, then infos; within a severity by shape, focus, path, value."""
        rank = SEVERITIES.index(self.severity) if self.severity in SEVERITIES else len(SEVERITIES)
        return (rank, self.severity, self.shape, self.focus, self.path or "", self.value or "",
                self.message, self.component)


@dataclass
class ValidationReport:
    """The results of one validation, sorted (see `ValidationResult.sort_key`), and pyshacl's report graph."""

    results: list[ValidationResult]
    graph: rdflib.Graph

    @property
    def conforms(self) -> bool:
        """SHACL's sh:conforms: True only when there is no result at all, of any severity."""
        return not self.results

    @property
    def has_violations(self) -> bool:
        """Whether any result is a Violation: what fails `validate` and stops `build`."""
        return any(r.severity == "Violation" for r in self.results)

    def count(self, severity: str) -> int:
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r} (choose from {', '.join(SEVERITIES)})")
        return sum(1 for r in self.results if r.severity == severity)

    def summary(self) -> str:
        line = f"Violations: {self.count('Violation')}, Warnings: {self.count('Warning')}"
        infos = self.count("Info")
        return line + (f", Infos: {infos}" if infos else "")

    def format(self, fmt: str) -> str:
        """The report as "text" (for people), "json" or "turtle" (the W3C SHACL report graph)."""
        if fmt == "text":
            return _text(self)
        if fmt == "json":
            return _json(self)
        if fmt == "turtle":
            return _turtle(self)
        raise ValueError(f"unknown report format {fmt!r} (choose from {', '.join(REPORT_FORMATS)})")


# ---------------------------------------------------------------- running the validation


def default_shapes_path() -> Path:
    return paths.project_root() / "ontology" / "shapes.ttl"


def load_shapes(path: Path | None = None) -> rdflib.Graph:
    """The shapes graph: `ontology/shapes.ttl` of the project unless another file is given."""
    from jisr_kg.pipeline.load import load

    return load([path if path is not None else default_shapes_path()])


def validate_graph(data: rdflib.Graph, shapes: rdflib.Graph | None = None) -> ValidationReport:
    """Validate `data` as it is (no inference: hand in the closure) against `shapes` (default: ours).

    The data graph must contain the ontology: sh:targetClass and sh:class follow rdfs:subClassOf in
    the data graph, and the concept checks read skos:inScheme there.
    """
    from pyshacl import validate
    from pyshacl.errors import ReportableRuntimeError, ShapeLoadError

    if shapes is None:
        shapes = load_shapes()
    try:
        _conforms, report_graph, _text = validate(
            data,
            shacl_graph=shapes,
            inference="none",
            advanced=False,
            js=False,
            meta_shacl=False,
            abort_on_first=False,
            allow_infos=False,
            allow_warnings=False,
            debug=False,
        )
    except (ShapeLoadError, ReportableRuntimeError) as e:
        raise JisrError(f"the shapes cannot be applied: {e}") from None
    return ValidationReport(sorted(results_of(report_graph), key=ValidationResult.sort_key), report_graph)


#: The validators `--validator` offers: "sparql" (the shapes translated to SPARQL, run on the Oxigraph
#: store; jisr_kg.pipeline.shacl_sparql) and "pyshacl" (the reference). They give the same results.
VALIDATORS = ("sparql", "pyshacl")
DEFAULT_VALIDATOR = "sparql"


def validate_dataset(built: BuiltDataset, *, validator: str = DEFAULT_VALIDATOR, shapes: Path | None = None,
                     progress: Callable[[str], None] | None = None, use_cache: bool = True,
                     started: StartedStore | None = None) -> ValidationReport:
    """Validate a build: asserted, consensus and inferred triples together (the cached closure).

    The report is kept with the cached dataset, keyed by the shapes' digest and the validator, so that
    a repeated `build`, `validate` or `serve` with unchanged inputs does not validate again. `started`:
    the store some of its graphs were loaded into ahead (`start_store`), which it then completes."""
    if validator not in VALIDATORS:
        raise JisrError(f"unknown validator {validator!r} (choose from {', '.join(VALIDATORS)})")
    shapes_path = shapes if shapes is not None else default_shapes_path()
    name = None
    if use_cache and built.key:
        name = _report_name(validator, shapes_path)
        cached = _cached_report(built.key, name)
        if cached is not None:
            if progress:
                progress("the validation report of these inputs is in the cache")
            return cached
    report = _validate_built(built, validator, shapes_path, progress, started)
    if name is not None:
        import hashlib

        from jisr_kg.pipeline import cache

        body = json.dumps([asdict(r) for r in report.results], ensure_ascii=False)
        doc = {"sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(), "results": body}
        cache.write_extra(built.key, name, json.dumps(doc).encode("utf-8"))
    return report


def cached_report(built: BuiltDataset, *, validator: str = DEFAULT_VALIDATOR, shapes: Path | None = None,
                  progress: Callable[[str], None] | None = None) -> ValidationReport | None:
    """The report kept with the cached dataset for these shapes and this validator, or None."""
    key = getattr(built, "key", None)
    if not key:
        return None
    try:
        name = _report_name(validator, shapes if shapes is not None else default_shapes_path())
    except JisrError:
        return None
    found = _cached_report(key, name)
    if found is not None and progress:
        progress("the validation report of these inputs is in the cache")
    return found


def _report_name(validator: str, shapes_path: Path) -> str:
    import hashlib

    try:
        digest = hashlib.sha256(shapes_path.read_bytes()).hexdigest()[:24]
    except OSError as e:
        raise JisrError(e.strerror or "cannot read", path=shapes_path) from None
    return f"validation-{validator}-{digest}.json"


def _cached_report(key: str, name: str) -> ValidationReport | None:
    """A report kept with the cache entry, if it is there and intact (else None: validate again)."""
    import hashlib

    from jisr_kg.pipeline import cache

    raw = cache.read_extra(key, name)
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
        body = doc["results"]
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != doc["sha256"]:
            return None
        results = [ValidationResult(**r) for r in json.loads(body)]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return ValidationReport(results, None)  # type: ignore[arg-type]


@dataclass
class StartedStore:
    """An in-memory store holding some graphs of a dataset, loaded ahead of its validation (as the
    validator would load them: only the triples its queries can read): see `start_store`."""

    store: object  # pyoxigraph.Store
    graphs: frozenset[str]
    shapes: Path


def start_store(graphs: dict[str, list[str]], *, validator: str = DEFAULT_VALIDATOR,
                shapes: Path | None = None) -> StartedStore | None:
    """Load some graphs (IRI -> sorted lines) of a dataset into the store its validation will query,
    ahead of it: `build` does this while a child derives the consensus view, and the validating child
    it forks later finds them loaded. None where the validation would not use such a store (pyshacl,
    shapes the SPARQL validator does not run)."""
    import pyoxigraph as ox

    from jisr_kg.pipeline import shacl_sparql

    shapes_path = shapes if shapes is not None else default_shapes_path()
    if validator != "sparql":
        return None
    try:
        checker = shacl_sparql.validator_for(shapes_path)
    except (shacl_sparql.Unsupported, JisrError):
        return None
    store = ox.Store()
    _load(store, graphs, checker.predicates)
    return StartedStore(store, frozenset(graphs), shapes_path)


def _validate_built(built: BuiltDataset, validator: str, shapes_path: Path,
                    progress: Callable[[str], None] | None, started: StartedStore | None = None) -> ValidationReport:
    say = progress or (lambda _msg: None)
    if validator == "sparql":
        from jisr_kg.pipeline import shacl_sparql

        why = shacl_sparql.unsafe_lines(built.lines[name] for name in built.names())
        if why is None:
            try:
                checker = shacl_sparql.validator_for(shapes_path)
            except shacl_sparql.Unsupported as e:
                why = f"the shapes use {e}, which only pyshacl runs"
        if why is None:
            store, union = _store_of(built, checker.predicates,
                                     started if started is not None and started.shapes == shapes_path else None)
            results = checker.validate(store, union=union)
            return ValidationReport(sorted(results, key=ValidationResult.sort_key), None)  # type: ignore[arg-type]
        say(f"validating with pyshacl: {why}")
    shapes_graph = load_shapes(shapes_path)
    return validate_graph(built.union(infer=True), shapes_graph)


#: Up to this many triples the validator loads them into an in-memory Oxigraph store (about 300 bytes
#: a triple; reading it is several times faster than the on-disk store); above, it queries the cache
#: entry's on-disk store, so that memory stays bounded at any size. 16 million (1000 times our data is
#: 14.4 million, a store of about 4.3 GB): since a large release is written from the cache files
#: (decision 22), the parent holds no lines while the child validates, and the store costs less than the
#: consensus view's step before it (its store and the set of lines); on disk, the 1000x validation took
#: 30 of the build's 35 minutes.
IN_MEMORY_MAX = 16_000_000


def _store_of(built: BuiltDataset, predicates: frozenset[str] | None = None,
              started: StartedStore | None = None):  # (pyoxigraph.Store, union?)
    """A store of `built` to validate: in memory (`started`'s, completed with the graphs it lacks, if
    given), or the cached on-disk one for a large dataset.

    With `predicates` (the `<iri>`s the shapes' queries can match: `SparqlValidator.predicates`), the
    in-memory store holds only the triples of those predicates (`lines_with_predicates`): no other
    triple can change a result. At 100x that keeps 82% of the 1.4 million triples and loading them
    takes 4.5 -> 3.5 s of CPU, the filter's 0.3 s included (decision 17).

    The lines are parsed leniently (Oxigraph skips its IRI and language-tag checks): they were
    written by Oxigraph from terms it parsed strictly (jisr_kg.pipeline.load.parse_file) or made from
    those, so the checks can only pass again; the same quads at 100x, 0.7 s less CPU."""
    import pyoxigraph as ox

    from jisr_kg.pipeline import cache

    total = sum(built.count(name) for name in built.names())
    if total > IN_MEMORY_MAX and built.key and cache.has(built.key):
        try:
            return ox.Store.read_only(str(cache.store_path(built.key))), True
        except OSError:
            pass
    if started is not None:
        _load(started.store, {name: built.lines[name] for name in built.names() if name not in started.graphs},
              predicates)
        return started.store, True
    store = ox.Store()
    _load(store, {name: built.lines[name] for name in built.names()}, predicates)
    return store, True


def _load(store, graphs: dict[str, Iterable[str]], predicates: frozenset[str] | None) -> None:  # pyoxigraph.Store
    import pyoxigraph as ox

    from jisr_kg.pipeline.dataset import LinesReader

    for name, lines in graphs.items():  # a few thousand lines at a time (the lines may be read from a file)
        if predicates is not None:
            lines = lines_with_predicates(lines, predicates)
        store.load(input=LinesReader(lines), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name),
                   lenient=True)


def lines_with_predicates(lines: Iterable[str], predicates: frozenset[str]) -> Iterator[str]:
    """The N-Triples lines whose predicate is one of `predicates` (`<iri>`s), and those whose predicate
    is written with an escape (which may denote one of them). A line is `<s> <p> o .`: neither an IRI
    nor a blank node label holds a space, so the predicate is the line's second field (0.3 s for the
    1.4 million lines at 100x)."""
    return (line for line in lines if (p := line.split(" ", 2)[1]) in predicates or "\\" in p)


def results_of(report_graph: rdflib.Graph) -> list[ValidationResult]:
    """The results of a W3C SHACL report graph as `ValidationResult`s (unsorted)."""
    from rdflib import RDF, URIRef

    sh = _sh()
    out = []
    # Only the report's own results: nested ones (sh:detail, or pyshacl's results of sh:node and sh:or
    # operands) explain a result and are not results of the validation.
    tops = {r for report in report_graph.subjects(RDF.type, sh.ValidationReport)
            for r in report_graph.objects(report, sh.result)}
    for r in sorted(tops, key=str):
        severity = report_graph.value(r, sh.resultSeverity)
        sev = str(severity)
        sev = sev[len(SH):] if sev.startswith(SH) else display(sev)
        messages = sorted({str(m) for m in report_graph.objects(r, sh.resultMessage)})
        path = report_graph.value(r, sh.resultPath)
        value = report_graph.value(r, sh.value)
        component = report_graph.value(r, sh.sourceConstraintComponent)
        out.append(
            ValidationResult(
                severity=sev,
                shape=term_string(report_graph.value(r, sh.sourceShape)),
                focus=term_string(report_graph.value(r, sh.focusNode)),
                path=None if path is None else path_string(report_graph, path),
                value=None if value is None else term_string(value),
                message=" ".join(messages),
                component=display(str(component)) if isinstance(component, URIRef) else term_string(component),
            )
        )
    return out


def _sh():  # rdflib.Namespace
    from rdflib import Namespace

    return Namespace(SH)


# ---------------------------------------------------------------- terms as strings and back


def term_string(node: object) -> str:
    """An RDF term as a plain string: an IRI as is, a literal in N-Triples form, a blank node as []."""
    from rdflib import BNode, Literal, URIRef

    if node is None:
        return ""
    if isinstance(node, URIRef):
        return str(node)
    if isinstance(node, BNode):
        return BLANK
    if isinstance(node, Literal):
        text = '"' + escape_string(str(node)) + '"'
        if node.language:
            return f"{text}@{node.language}"
        if node.datatype is not None and str(node.datatype) != XSD_STRING:
            return f"{text}^^<{node.datatype}>"
        return text
    return str(node)


def path_string(graph: rdflib.Graph, path: object) -> str:
    """A SHACL property path as a string: an IRI, or ^IRI for an inverse path (others in SPARQL syntax)."""
    from rdflib import RDF, BNode, URIRef
    from rdflib.collection import Collection

    sh = _sh()
    if isinstance(path, URIRef):
        return str(path)
    if isinstance(path, BNode):
        inverse = graph.value(path, sh.inversePath)
        if inverse is not None:
            return "^" + path_string(graph, inverse)
        alternatives = graph.value(path, sh.alternativePath)
        if alternatives is not None:
            return "(" + " | ".join(path_string(graph, p) for p in Collection(graph, alternatives)) + ")"
        for prop, suffix in ((sh.zeroOrMorePath, "*"), (sh.oneOrMorePath, "+"), (sh.zeroOrOnePath, "?")):
            inner = graph.value(path, prop)
            if inner is not None:
                return path_string(graph, inner) + suffix
        if graph.value(path, RDF.first) is not None:
            return "(" + " / ".join(path_string(graph, p) for p in Collection(graph, path)) + ")"
    return term_string(path)


def display(text: str | None) -> str:
    """A result string for display: IRIs as prefixed names, literals with compact datatypes."""
    if text is None:
        return "-"
    if text == BLANK or text.startswith("_:"):
        return text
    if text.startswith('"'):
        lexical, _, suffix = _split_literal(text)
        if len(lexical) > 80:
            lexical = lexical[:77] + "..."
        if suffix.startswith("^^<") and suffix.endswith(">"):
            suffix = "^^" + display(suffix[3:-1])
        return f'"{lexical}"{suffix}'
    if text.startswith("^"):
        return "^" + display(text[1:])
    for prefix, ns in DISPLAY_PREFIXES.items():
        if text.startswith(ns):
            return f"{prefix}:{text[len(ns):]}"
    return compact(text)


def _split_literal(text: str) -> tuple[str, str, str]:
    """'"lex"@en' -> (lex, '"', '@en'): the escaped lexical form and what follows the closing quote."""
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return text[1:i], '"', text[i + 1 :]
        i += 1
    return text[1:], "", ""


def _node(text: str, blank_id: str):  # rdflib term
    from rdflib import BNode, Literal, URIRef
    from rdflib.util import from_n3

    if text == BLANK:
        return BNode(blank_id)
    if text.startswith('"'):
        node = from_n3(text)
        assert isinstance(node, Literal)
        return node
    return URIRef(text)


# ---------------------------------------------------------------- formats


def _text(report: ValidationReport) -> str:
    out: list[str] = []
    groups: dict[tuple[str, str], list[ValidationResult]] = {}
    for r in report.results:  # already in severity, shape order
        groups.setdefault((r.severity, r.shape), []).append(r)
    for (severity, shape), results in groups.items():
        n = len(results)
        out.append(f"{severity}: {display(shape)} ({n} result{'s' if n != 1 else ''})")
        for r in results:
            message = _IRI.sub(_compact_match, r.message).replace("\r", "\\r").replace("\n", "\\n")
            out.append(f"  {display(r.focus)} | {display(r.path)} | {display(r.value)} | {message}")
        out.append("")
    out.append(report.summary())
    return "\n".join(out) + "\n"


_IRI = re.compile(r"https?://[^\s\"'<>(){}|^`]*[^\s\"'<>(){}|^`.,;:!?]")


def _compact_match(m: re.Match[str]) -> str:
    short = display(m.group(0))
    return m.group(0) if short.startswith("<") else short


def _json(report: ValidationReport) -> str:
    doc = {
        "conforms": report.conforms,  # SHACL's meaning: no result at all
        "hasViolations": report.has_violations,  # what decides the exit code
        "counts": {s: report.count(s) for s in SEVERITIES},
        "results": [asdict(r) for r in report.results],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _turtle(report: ValidationReport) -> str:
    """The W3C SHACL validation report, rebuilt from the sorted results with stable blank-node ids, so
    that the same results give the same bytes. sh:conforms has SHACL's meaning (no result at all)."""
    import rdflib
    from rdflib import RDF, RDFS, BNode, Literal, URIRef

    sh = _sh()
    g = rdflib.Graph()
    for prefix, ns in {**PREFIXES, **DISPLAY_PREFIXES}.items():
        g.bind(prefix, ns, override=True, replace=True)
    node = BNode("report")
    g.add((node, RDF.type, sh.ValidationReport))
    g.add((node, sh.conforms, Literal(report.conforms)))
    g.add((node, RDFS.comment, Literal(
        f"jisr-kg: {report.summary()}. The command succeeds (exit 0) when there is no Violation; "
        "sh:conforms is false as soon as there is any result.", lang="en")))
    for i, r in enumerate(report.results):
        res = BNode(f"r{i:05d}")
        g.add((node, sh.result, res))
        g.add((res, RDF.type, sh.ValidationResult))
        severity = URIRef(SH + r.severity) if r.severity in SEVERITIES else URIRef(r.severity)
        g.add((res, sh.resultSeverity, severity))
        g.add((res, sh.sourceShape, _node(r.shape, f"r{i:05d}s")))
        g.add((res, sh.focusNode, _node(r.focus, f"r{i:05d}f")))
        if r.path is not None:
            if r.path.startswith("^") and " " not in r.path:
                inverse = BNode(f"r{i:05d}p")
                g.add((inverse, sh.inversePath, URIRef(r.path[1:])))
                g.add((res, sh.resultPath, inverse))
            elif not r.path.startswith(("(", '"', BLANK)):
                g.add((res, sh.resultPath, URIRef(r.path)))
        if r.value is not None:
            g.add((res, sh.value, _node(r.value, f"r{i:05d}v")))
        g.add((res, sh.resultMessage, Literal(r.message)))
        g.add((res, sh.sourceConstraintComponent, URIRef(expand(r.component))))
    return g.serialize(format="turtle")


def expand(name: str) -> str:
    """The inverse of `compact` for prefixed names: "sh:MinCountConstraintComponent" -> its IRI."""
    for prefix, ns in DISPLAY_PREFIXES.items():
        if name.startswith(prefix + ":"):
            return ns + name[len(prefix) + 1 :]
    for prefix, ns in PREFIXES.items():
        if name.startswith(prefix + ":"):
            return ns + name[len(prefix) + 1 :]
    return name.strip("<>")
