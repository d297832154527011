"""The IRIs the code refers to, as plain strings (importing this module does not import rdflib)."""

BASE = "https://w3id.org/jisr-kg/"
JKG = BASE + "ontology#"
ONTOLOGY = BASE + "ontology"
ID = BASE + "id/"
GRAPH = BASE + "graph/"

#: Named graphs of the built dataset.
ASSERTED_GRAPH = GRAPH + "asserted"
CONSENSUS_GRAPH = GRAPH + "consensus"
INFERRED_GRAPH = GRAPH + "inferred"
DATASET = BASE + "dataset"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
PROV = "http://www.w3.org/ns/prov#"
OA = "http://www.w3.org/ns/oa#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"
DCTERMS = "http://purl.org/dc/terms/"

#: Prefixes offered to every query and used by every export.
PREFIXES = {
    "jkg": JKG,
    "actor": ID + "actor/",
    "unit": ID + "unit/",
    "place": ID + "place/",
    "event": ID + "event/",
    "claim": ID + "claim/",
    "qv": ID + "quantity/",
    "span": ID + "span/",
    "sel": ID + "selector/",
    "src": ID + "source/",
    "work": ID + "work/",
    "ref": ID + "reference/",
    "map": ID + "mapping/",
    "geom": ID + "geometry/",
    "concept": ID + "concept/",
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "prov": PROV,
    "oa": OA,
    "skos": SKOS,
    "schema": SCHEMA,
    "dcterms": DCTERMS,
    "org": "http://www.w3.org/ns/org#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "time": "http://www.w3.org/2006/time#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "wd": "http://www.wikidata.org/entity/",
    "sh": "http://www.w3.org/ns/shacl#",
    "jkgsh": BASE + "shapes#",
}
