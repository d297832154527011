"""The one table of formats: every RDF serialisation and SPARQL results format the project reads or
writes, with its name on the command line, its file endings, its media types and the name each engine
knows it by. Export, load, query results, the CLI and the server's content negotiation all look here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str  # the name `--format` takes
    kind: str  # "graph" (triples), "dataset" (quads) or "results" (SELECT/ASK)
    extensions: tuple[str, ...]  # the first is the one we write
    media_types: tuple[str, ...]  # the first is the one we send
    rdflib: str | None = None  # rdflib's parser/serialiser name
    oxigraph: str | None = None  # the pyoxigraph.RdfFormat member

    @property
    def extension(self) -> str:
        return self.extensions[0]

    @property
    def media_type(self) -> str:
        return self.media_types[0]


FORMATS: tuple[Format, ...] = (
    Format("turtle", "graph", (".ttl",), ("text/turtle", "application/x-turtle"), "turtle", "TURTLE"),
    Format("trig", "dataset", (".trig",), ("application/trig",), "trig", "TRIG"),
    Format("ntriples", "graph", (".nt",), ("application/n-triples", "text/plain"), "nt", "N_TRIPLES"),
    Format("nquads", "dataset", (".nq",), ("application/n-quads",), "nquads", "N_QUADS"),
    Format("jsonld", "graph", (".jsonld",), ("application/ld+json",), "json-ld", "JSON_LD"),
    Format("xml", "graph", (".rdf", ".owl", ".xml"), ("application/rdf+xml",), "xml", "RDF_XML"),
)

RESULT_FORMATS: tuple[Format, ...] = (
    Format("table", "results", (".txt",), ("text/plain",)),
    Format("csv", "results", (".csv",), ("text/csv",)),
    Format("tsv", "results", (".tsv",), ("text/tab-separated-values",)),
    Format("json", "results", (".srj", ".json"), ("application/sparql-results+json", "application/json")),
    Format("xml", "results", (".srx", ".xml"), ("application/sparql-results+xml", "application/xml")),
)

#: Names, in the order `--help` lists them.
RDF_NAMES: tuple[str, ...] = tuple(f.name for f in FORMATS)
DATASET_NAMES: tuple[str, ...] = tuple(f.name for f in FORMATS if f.kind == "dataset")
GRAPH_NAMES: tuple[str, ...] = tuple(f.name for f in FORMATS if f.kind == "graph")
RESULT_NAMES: tuple[str, ...] = tuple(f.name for f in RESULT_FORMATS)

_RDF = {f.name: f for f in FORMATS}
_RESULTS = {f.name: f for f in RESULT_FORMATS}


def rdf(name: str) -> Format:
    """The RDF format called `name` (KeyError for another name)."""
    return _RDF[name]


def results(name: str) -> Format:
    """The SPARQL results format called `name` (KeyError for another name)."""
    return _RESULTS[name]


def rdf_by_extension(suffix: str) -> Format | None:
    """The RDF format a file ending names (".ttl" -> turtle), or None."""
    return next((f for f in FORMATS if suffix.lower() in f.extensions), None)


def results_by_extension(suffix: str) -> Format | None:
    return next((f for f in RESULT_FORMATS if suffix.lower() in f.extensions), None)


#: The file endings `load` reads (.xml is not read as RDF: too many XML files are not).
READ_EXTENSIONS: tuple[str, ...] = tuple(e for f in FORMATS for e in f.extensions if e != ".xml")
