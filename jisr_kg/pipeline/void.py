"""VoID and DCAT description of a release: what the dataset is, its version, size, licence, source
and files.

Each file of the release is a dcat:Distribution with an IRI to download it from (dcat:downloadURL),
its media type as an IRI of the IANA registry (dcat:mediaType), its size and an SPDX checksum; each
RDF dump is also a void:dataDump. The files are published under DOWNLOAD_BASE, the project's w3id
namespace beside the identifiers (decision 20). Every namespace used is bound, so that the Turtle
has no auto-named prefix (ns1:).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import rdflib
from rdflib import OWL, RDF, XSD, BNode, Literal, URIRef

from jisr_kg import __version__
from jisr_kg.pipeline.dataset import BuiltDataset, new_graph
from jisr_kg.rdf import formats
from jisr_kg.rdf.namespaces import (
    ASSERTED_GRAPH,
    BASE,
    CONSENSUS_GRAPH,
    DATASET,
    DCTERMS,
    ID,
    INFERRED_GRAPH,
    ONTOLOGY,
    PREFIXES,
)

VOID = rdflib.Namespace(PREFIXES["void"])
DCAT = rdflib.Namespace(PREFIXES["dcat"])
DCT = rdflib.Namespace(DCTERMS)
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
SOURCE = URIRef(PREFIXES["src"] + "june-2011-jisr-ash-shughur-clashes")
LICENSE = URIRef("https://creativecommons.org/licenses/by-sa/4.0/")
#: Where the files of a release are downloaded from: `dist/` published under the project's namespace.
DOWNLOAD_BASE = BASE + "dist/"
#: The IANA media types registry: a media type's IRI is this plus the type ("text/turtle").
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
#: Media types of the files that are not RDF.
OTHER_MEDIA_TYPES = {".txt": "text/plain"}


@dataclass(frozen=True)
class GraphCounts:
    """What VoID counts of a graph: its triples, and its distinct IRI subjects and properties (kept, so
    that the counts of the whole dataset are those of the graphs put together: they share no triple)."""

    triples: int
    subjects: frozenset[str]
    properties: frozenset[str]

    @classmethod
    def of(cls, lines: Iterable[str]) -> GraphCounts:
        """Counted from a graph's sorted N-Triples lines as they go by: in sorted lines the triples of
        a subject are together (they all begin with the subject and a space, which no subject holds),
        so the distinct subjects are the changes of subject. Splitting every line at once took more
        memory than the lines themselves (4 GB at 1000 times our data)."""
        triples = 0
        subjects: set[str] = set()
        properties: set[str] = set()
        last = None
        for line in lines:
            triples += 1
            i = line.index(" ")
            if line[0] == "<" and (last is None or not line.startswith(last)):
                last = line[: i + 1]
                subjects.add(line[:i])
            properties.add(line[i + 1: line.index(" ", i + 1)])
        return cls(triples, frozenset(subjects), frozenset(properties))

    @classmethod
    def union(cls, parts: Iterable[GraphCounts]) -> GraphCounts:
        """The counts of graphs that share no triple, together."""
        parts = list(parts)
        return cls(sum(p.triples for p in parts), frozenset().union(*(p.subjects for p in parts)),
                   frozenset().union(*(p.properties for p in parts)))


def describe(built: BuiltDataset, files: dict[str, tuple[int, str]],
             counts: dict[str, GraphCounts] | None = None) -> bytes:
    """VoID/DCAT Turtle for the built dataset; `files` maps each file name to (bytes, sha256);
    `counts` maps a graph's IRI to its `GraphCounts`, counted now where not given (`build` counts
    them beside the exports)."""
    counts = {name: (counts or {}).get(name) or GraphCounts.of(built.lines[name]) for name in built.names()}
    g = new_graph()
    g.bind("spdx", SPDX)
    ds = URIRef(DATASET)
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, RDF.type, DCAT.Dataset))
    title = "jisr-kg: the June 2011 Jisr ash-Shughur clashes as claims with provenance"
    g.add((ds, DCT.title, Literal(title, lang="en")))
    g.add((ds, DCT.description, Literal(
        "Who claims what about the June 2011 Jisr ash-Shughur clashes, where the source article says it, "
        "and how the claims relate. Derived from the English Wikipedia article 'June 2011 Jisr ash-Shughur "
        "clashes' (CC BY-SA 4.0).", lang="en")))
    g.add((ds, DCT.license, LICENSE))
    g.add((ds, DCT.source, SOURCE))
    # the release's version, the package's and the ontology's owl:versionInfo are one (tests/test_release.py)
    g.add((ds, DCAT.version, Literal(__version__)))
    g.add((ds, OWL.versionInfo, Literal(__version__)))
    g.add((ds, DCT.conformsTo, URIRef(ONTOLOGY)))
    g.add((ds, VOID.uriSpace, Literal(ID)))
    g.add((ds, VOID.vocabulary, URIRef(PREFIXES["jkg"])))
    _add_counts(g, ds, GraphCounts.union(counts.values()))
    for name in built.names():
        part = URIRef(name)
        g.add((ds, VOID.subset, part))
        g.add((part, RDF.type, VOID.Dataset))
        g.add((part, DCT.title, Literal({ASSERTED_GRAPH: "asserted triples", CONSENSUS_GRAPH: "consensus view",
                                         INFERRED_GRAPH: "OWL 2 RL entailments"}[name], lang="en")))
        _add_counts(g, part, counts[name])
    for name, (size, digest) in sorted(files.items()):
        dist = URIRef(f"{DATASET}/distribution/{name}")
        url = URIRef(DOWNLOAD_BASE + name)
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCT.title, Literal(name)))
        g.add((dist, DCAT.downloadURL, url))
        g.add((dist, DCAT.accessURL, url))
        suffix = name[name.rfind("."):]
        fmt = formats.rdf_by_extension(suffix)
        media_type = fmt.media_type if fmt else OTHER_MEDIA_TYPES.get(suffix)
        if media_type:
            g.add((dist, DCAT.mediaType, URIRef(IANA_MEDIA_TYPES + media_type)))
        if fmt:
            g.add((ds, VOID.dataDump, url))
        g.add((dist, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
        # a blank node, written inline as [ ... ]: Turtle then has no label that could change between builds
        checksum = BNode()
        g.add((dist, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(digest, datatype=XSD.hexBinary)))
        g.add((dist, DCT.license, LICENSE))
    return g.serialize(format="turtle", encoding="utf-8")


def _add_counts(g: rdflib.Graph, node: URIRef, counts: GraphCounts) -> None:
    g.add((node, VOID.triples, Literal(counts.triples, datatype=XSD.integer)))
    g.add((node, VOID.distinctSubjects, Literal(len(counts.subjects), datatype=XSD.integer)))
    g.add((node, VOID.properties, Literal(len(counts.properties), datatype=XSD.integer)))
