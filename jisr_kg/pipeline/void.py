"""VoID and DCAT description of a release: what the dataset is, its version, size, licence, source
and files.

Each file of the release is a dcat:Distribution with an IRI to download it from (dcat:downloadURL),
its media type as an IRI of the IANA registry (dcat:mediaType), its size and an SPDX checksum; each
RDF dump is also a void:dataDump. The files are published under DOWNLOAD_BASE, the project's w3id
namespace beside the identifiers (decision 20). Every namespace used is bound, so that the Turtle
has no auto-named prefix (ns1:).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

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


#: The VoID counts of one graph, or of the whole dataset: triples, distinct IRI subjects, properties.
Counts = tuple[int, int, int]


def describe(built: BuiltDataset, files: dict[str, tuple[int, str]],
             counts: dict[str, Counts] | None = None) -> bytes:
    """VoID/DCAT Turtle for the built dataset; `files` maps each file name to (bytes, sha256);
    `counts` maps each graph's IRI and the dataset's (DATASET) to their `counts`, counted now where
    not given (`build` counts them beside the exports)."""
    counts = dict(counts or {})
    for name in (DATASET, *built.names()):
        if name not in counts:
            counts[name] = dataset_counts(built) if name == DATASET else graph_counts(built.lines[name])
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
    _add_counts(g, ds, counts[DATASET])
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


def dataset_counts(built: BuiltDataset) -> Counts:
    """`graph_counts` of the union of the graphs."""
    return graph_counts(heapq.merge(*(built.lines[name] for name in built.names())))


def graph_counts(lines: Iterable[str]) -> Counts:
    """Triples, distinct IRI subjects and distinct properties of a graph, given as sorted N-Triples lines.

    Counted as the lines go by, nothing kept but the properties: in sorted lines the triples of a
    subject are together (they all begin with the subject and a space, which no subject holds), so
    the distinct subjects are the changes of subject. Splitting every line at once took more memory
    than the lines themselves (4 GB at 1000 times our data)."""
    triples = subjects = 0
    properties: set[str] = set()
    last = None
    for line in lines:
        triples += 1
        i = line.index(" ")
        if line[0] == "<" and (last is None or not line.startswith(last)):
            subjects += 1
            last = line[: i + 1]
        properties.add(line[i + 1: line.index(" ", i + 1)])
    return triples, subjects, len(properties)


def _add_counts(g: rdflib.Graph, node: URIRef, counts: Counts) -> None:
    triples, subjects, properties = counts
    g.add((node, VOID.triples, Literal(triples, datatype=XSD.integer)))
    g.add((node, VOID.distinctSubjects, Literal(subjects, datatype=XSD.integer)))
    g.add((node, VOID.properties, Literal(properties, datatype=XSD.integer)))
