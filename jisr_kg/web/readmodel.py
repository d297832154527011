"""The data of each page, gathered with SPARQL from the built store: plain dicts and lists that the
templates render. Nothing here knows about HTTP or HTML, so the server (jisr_kg.web.pages) and the
static site (jisr_kg.web.site) show the same thing, and a test can check the data without a browser.

Every function takes a `Reader`, which holds a `select(text) -> SelectResult` (the server's time-limited
`ctx.select`, or a store opened here) and what all pages share: the labels, the claimants' sides, the
source text and its coverage units, read once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, ID, JKG, ONTOLOGY, RDF, RDFS, SCHEMA, SKOS
from jisr_kg.rdf.terms import Term, compact
from jisr_kg.sparql.results import SelectResult

Select = Callable[[str], SelectResult]

#: compact() looks at every prefix; a page asks for the same few hundred IRIs again and again
_compact = lru_cache(maxsize=200_000)(compact)

_FORBIDDEN_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')

#: The links between claims, as (property, reading from the claim, reading from the other end).
LINKS = (
    ("contradicts", "contradicts", "contradicted by"),
    ("refutes", "refutes", "refuted by"),
    ("doubts", "doubts", "doubted by"),
    ("supports", "supports", "supported by"),
    ("alternativeTo", "is an alternative to", "is an alternative to"),
    ("statedBefore", "was stated before", "was stated after"),
)
_LINK_ORDER = [p for p, _, _ in LINKS]
DISPUTING = ("contradicts", "refutes", "doubts")
SYMMETRIC = ("contradicts", "alternativeTo")
STANDINGS = ("asserted", "disputed", "contradicted", "refuted")
SIDES = ("government side", "opposition side", "neither side")


def iri_ok(iri: str) -> bool:
    """True when `iri` may be pasted into a query between <>: the request path is user input."""
    return iri.startswith(("https://", "http://")) and not _FORBIDDEN_IN_IRI.search(iri)


def path_of(iri: str) -> str | None:
    """The site path of an IRI of this dataset (/id/actor/x, /ontology), or None for a foreign IRI."""
    if iri.startswith(ID):
        return "/id/" + iri[len(ID):]
    if iri == ONTOLOGY or iri.startswith(JKG):
        return "/ontology" + ("#" + iri[len(JKG):] if iri.startswith(JKG) else "")
    return None


def slug_of(iri: str) -> str:
    """The slug of a disputed point: its prefixed name with ':' and '/' as '-' (event:mutiny -> event-mutiny)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", compact(iri).strip("<>"))


def _v(t: Term | None) -> str | None:
    return t.value if t is not None else None


@dataclass
class Reader:
    """One store, with what every page shares read once: `select` runs SPARQL on `store` (a pyoxigraph
    Store), which the page of one IRI also reads by pattern (its own triples, what points at it: a
    look-up costs a quarter of the same SPARQL query)."""

    select: Select
    store: Any
    units_path: Path | None = None

    @classmethod
    def over(cls, store: Any, units_path: Path | None = None) -> Reader:
        """A Reader over a pyoxigraph Store: SPARQL with the union of the named graphs as default graph."""
        from jisr_kg.sparql.query import from_oxigraph

        def select(text: str) -> SelectResult:
            result = from_oxigraph(store.query(text, use_default_graph_as_union=True))
            assert isinstance(result, SelectResult)
            return result

        return cls(select, store, units_path)

    def rows(self, text: str) -> list[dict[str, Term | None]]:
        return self.select(text).as_dicts()

    # ---------------------------------------------------------------- shared

    @cached_property
    def labels(self) -> dict[str, str]:
        """Every label in the store (the shortest where there are several): for link texts."""
        out: dict[str, str] = {}
        for r in self.rows(f"""SELECT ?s ?l WHERE {{ {{ ?s <{RDFS}label> ?l }} UNION {{ ?s <{SKOS}prefLabel> ?l }}
                                FILTER(isIRI(?s)) }}"""):
            s, lab = r["s"].value, r["l"].value
            if s not in out or (len(lab), lab) < (len(out[s]), out[s]):
                out[s] = lab
        return out

    @cached_property
    def sides(self) -> dict[str, str]:
        """The side of every actor that has one (its label: government side, ...)."""
        out = {}
        for r in self.rows(f"SELECT ?a ?s WHERE {{ ?a <{JKG}side> ?s }}"):
            out[r["a"].value] = self.label(r["s"].value)
        return out

    @cached_property
    def source(self) -> tuple[str, str]:
        """(IRI, text) of the source document."""
        rows = self.rows(f"""SELECT ?d ?t WHERE {{ ?d a <{JKG}SourceDocument> ; <{SCHEMA}text> ?t }}
                             ORDER BY ?d LIMIT 1""")
        if not rows:
            return ("", "")
        return (rows[0]["d"].value, rows[0]["t"].value)

    @cached_property
    def units(self) -> list[tuple[str, int, int]]:
        """The coverage units (kind, start, end) that match the source text; none for other data."""
        from jisr_kg.pipeline.coverage import read_units

        text = self.source[1]
        try:
            units = read_units(self.units_path)
        except Exception:  # no units file: the page shows the text without them
            return []
        return [(u.kind, u.start, u.end) for u in units if text[u.start:u.end] == u.text]

    @cached_property
    def claim_table(self) -> ClaimTable:
        """Every claim of the store, ready for a page (read_claims): read once, as the labels are."""
        return read_claims(self)

    def label(self, iri: str) -> str:
        return self.labels.get(iri) or compact(iri)

    def ref(self, iri: str | None) -> dict | None:
        """A link to a thing: its label, prefixed name and site path (None where it has no page). Made
        once per IRI and shared: callers copy it ({**ref, ...}) rather than change it."""
        if iri is None:
            return None
        refs = self.__dict__.setdefault("_refs", {})
        got = refs.get(iri)
        if got is None:
            got = refs[iri] = {"iri": iri, "label": self.label(iri), "name": _compact(iri), "path": path_of(iri),
                               "side": self.sides.get(iri)}
        return got

    def sentence(self, start: int, end: int) -> dict:
        """The sentence (coverage unit) around an evidence span: the words before, the span, and after."""
        text = self.source[1]
        s0, e0 = start, end
        for _, us, ue in self.units:
            if us <= start and end <= ue:
                s0, e0 = us, ue
                break
        else:
            # no unit: widen to the nearest sentence ends
            b = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start))
            s0 = b + 1 if b >= 0 else 0
            m = re.compile(r"[.\n]").search(text, end)
            e0 = m.end() if m else len(text)
        return {"before": text[s0:start].lstrip(), "quote": text[start:end], "after": text[end:e0].rstrip(),
                "start": start, "end": end}


def open_store(store_path: Path, units_path: Path | None = None) -> Reader:
    """A Reader over an on-disk store, opened read-only once."""
    import pyoxigraph as ox

    return Reader.over(ox.Store.read_only(str(store_path)), units_path)


# ---------------------------------------------------------------- claims


# The claims are read once per store, in four passes over the asserted graph (their fields, their
# evidence, the links between them, the figures), and kept: a page then looks its claims up instead of
# asking the engine. Four queries per page cost 1 to 2 ms, most of a page's time, and the same claim is
# shown on the pages of its claimant, its subject and its object. (The parts are assembled in Python:
# Oxigraph plans a chain of OPTIONALs after a VALUES block badly, but over every claim, as here, the
# fields' OPTIONALs give one row per claim, faster than one row per field.)
_ALL_CLAIM_FIELDS = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
SELECT ?claim ?subject ?predicate ?object ?claimant ?standing ?modality ?verb WHERE {
  GRAPH <%s> {
    ?claim a jkg:Claim .
    OPTIONAL { ?claim rdf:subject ?subject } OPTIONAL { ?claim rdf:predicate ?predicate }
    OPTIONAL { ?claim rdf:object ?object } OPTIONAL { ?claim prov:wasAttributedTo ?claimant }
    OPTIONAL { ?claim jkg:standing ?standing } OPTIONAL { ?claim jkg:modality ?modality }
    OPTIONAL { ?claim jkg:reportingVerb ?verb }
  }
}
"""
_ALL_EVIDENCE = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?claim ?span ?start ?end WHERE {
  GRAPH <%s> { ?claim jkg:evidence ?span . ?span oa:hasSelector ?sel . ?sel oa:start ?start ; oa:end ?end }
}
"""
_ALL_FIGURES = """
PREFIX schema: <https://schema.org/>
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
SELECT ?q ?value ?min ?max ?wording ?approx ?unit WHERE {
  ?q a schema:QuantitativeValue .
  OPTIONAL { ?q schema:value ?value } OPTIONAL { ?q schema:minValue ?min } OPTIONAL { ?q schema:maxValue ?max }
  OPTIONAL { ?q jkg:wording ?wording } OPTIONAL { ?q jkg:approximate ?approx }
  OPTIONAL { ?q schema:unitText ?unit }
}
"""
_ALL_LINKS = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
SELECT ?a ?rel ?b WHERE {
  VALUES ?rel { jkg:contradicts jkg:refutes jkg:doubts jkg:supports jkg:alternativeTo jkg:statedBefore }
  GRAPH <%s> { ?a ?rel ?b }
}
"""


def _number(t: Term | None) -> str | None:
    if t is None:
        return None
    try:
        n = float(t.value)
    except ValueError:
        return t.value
    return f"{int(n):,}" if n == int(n) else f"{n:,}"


def _figures(reader: Reader) -> dict[str, dict]:
    """Every number with its range and wording, by IRI of the schema:QuantitativeValue."""
    out = {}
    for r in reader.rows(_ALL_FIGURES):
        value, lo, hi = _number(r["value"]), _number(r["min"]), _number(r["max"])
        shown = value or (f"{lo}–{hi}" if lo and hi else f"at least {lo}" if lo else f"at most {hi}" if hi else None)
        approx = r["approx"] is not None and r["approx"].value in ("true", "1")
        out[r["q"].value] = {"iri": r["q"].value, "value": shown, "wording": _v(r["wording"]),
                             "approximate": approx, "unit": _v(r["unit"]), "label": reader.label(r["q"].value),
                             "path": path_of(r["q"].value)}
    return out


@dataclass
class ClaimTable:
    """Every claim of a store, ready for a page; the claims about each thing, and by each claimant."""

    claims: dict[str, dict]
    about: dict[str, list[tuple[str, str]]]  # a thing's claims, with its role (subject, object) in each
    made: dict[str, list[str]]  # a claimant's claims


def read_claims(reader: Reader) -> ClaimTable:
    """Everything a page shows about each claim of the store, by IRI: what it says, who says it,
    standing, modality, its evidence inside its sentence, its figure, and its links to other claims
    both ways. Read with `Reader.claim_table`, which keeps it; the dicts are shared, so callers copy them."""
    # one row per claim (more where a field has several values: the first is shown); the rows are read
    # as lists, not dicts, as there are hundreds of thousands of terms at 100x
    fields: dict[str, list[Term | None]] = {}
    about: dict[str, set[tuple[str, str]]] = defaultdict(set)
    made: dict[str, set[str]] = defaultdict(set)
    for c, *values in reader.select(_ALL_CLAIM_FIELDS % ASSERTED_GRAPH).rows:
        assert c is not None
        subject, _, obj, claimant = values[:4]
        for role, thing in (("subject", subject), ("object", obj)):
            if thing is not None and thing.kind != "literal":
                about[thing.value].add((c.value, role))
        if claimant is not None:
            made[claimant.value].add(c.value)
        got = fields.setdefault(c.value, values)
        if got is not values:
            got[:] = [a if a is not None else b for a, b in zip(got, values)]
    out: dict[str, dict] = {}
    figs = _figures(reader)
    for c in sorted(fields):
        subject, predicate, obj, claimant, standing, modality, verb = fields[c]
        out[c] = {
            "iri": c, "label": reader.label(c), "name": _compact(c), "path": path_of(c),
            "subject": reader.ref(_v(subject)), "predicate": reader.ref(_v(predicate)),
            "object": _object(reader, obj), "claimant": reader.ref(_v(claimant)),
            "standing": reader.label(standing.value) if standing else None,
            "modality": reader.label(modality.value) if modality else None,
            "verb": _v(verb), "evidence": [], "links": [],
            "figure": figs.get(obj.value) if obj is not None and obj.kind == "uri" else None,
        }
    # a scaled copy of the data quotes the same sentences: each is cut once
    sentences: dict[tuple[int, int], dict] = {}
    for claim, span, start, end in reader.select(_ALL_EVIDENCE % ASSERTED_GRAPH).rows:
        d = out.get(claim.value) if claim is not None else None
        if d is None or span is None or start is None or end is None:
            continue
        try:
            s, e = int(start.value), int(end.value)
        except ValueError:
            continue
        if (s, e) not in sentences:
            sentences[s, e] = reader.sentence(s, e)
        ev = {"span": _compact(span.value), "span_path": path_of(span.value), **sentences[s, e]}
        if ev not in d["evidence"]:
            d["evidence"].append(ev)
    for d in out.values():
        d["evidence"].sort(key=lambda ev: ev["start"])
    readings = {p: (fw, bw) for p, fw, bw in LINKS}
    incoming: dict[str, list[dict]] = defaultdict(list)
    for r in reader.rows(_ALL_LINKS % ASSERTED_GRAPH):
        a, rel, b = r["a"].value, r["rel"].value[len(JKG):], r["b"].value
        if a in out:
            out[a]["links"].append({"rel": rel, "reading": readings[rel][0], "other": reader.ref(b), "outgoing": True})
        if b in out:
            incoming[b].append({"rel": rel, "reading": readings[rel][1], "other": reader.ref(a), "outgoing": False})
    for c, d in out.items():
        # outgoing first, so that a symmetric link asserted both ways (contradicts, alternativeTo) is
        # listed once, in the claim's own words
        once, seen = [], set()
        for x in d["links"] + incoming.get(c, []):
            key = (x["rel"], x["other"]["iri"]) if x["rel"] in SYMMETRIC else id(x)
            if key not in seen:
                seen.add(key)
                once.append(x)
        d["links"] = sorted(once, key=lambda x: (_LINK_ORDER.index(x["rel"]), not x["outgoing"], x["other"]["label"]))
    return ClaimTable(out, {k: sorted(v) for k, v in about.items()}, {k: sorted(v) for k, v in made.items()})


def claims(reader: Reader, iris: list[str]) -> dict[str, dict]:
    """The claims among `iris` (what is not a claim is left out), in their order, each a dict of its own
    (shallow: the lists and refs in it are shared and must not be changed)."""
    table = reader.claim_table.claims
    out: dict[str, dict] = {}
    for c in iris:
        d = table.get(c)
        if d is not None and c not in out:
            out[c] = dict(d)
    return out


def _object(reader: Reader, t: Term | None) -> dict | None:
    if t is None:
        return None
    if t.kind == "uri":
        return reader.ref(t.value)
    return {"literal": t.value, "datatype": compact(t.datatype) if t.datatype else None}


def group_claims(items: list[dict]) -> dict:
    """Claims by claimant (claimants in order of how many claims they make) and by standing."""
    by_claimant: dict[str, list[dict]] = defaultdict(list)
    for c in items:
        by_claimant[c["claimant"]["iri"] if c["claimant"] else ""].append(c)
    claimants = []
    for _key, cs in sorted(by_claimant.items(), key=lambda kv: (-len(kv[1]), kv[1][0]["claimant"]["label"]
                                                               if kv[1][0]["claimant"] else "")):
        cs.sort(key=lambda c: (c["evidence"][0]["start"] if c["evidence"] else 10**9, c["iri"]))
        claimants.append({"claimant": cs[0]["claimant"], "claims": cs})
    standings = {s: [c for c in items if c["standing"] == s] for s in STANDINGS}
    others = sorted({c["standing"] for c in items if c["standing"] not in STANDINGS and c["standing"]})
    for s in others:
        standings[s] = [c for c in items if c["standing"] == s]
    return {"by_claimant": claimants, "by_standing": {k: v for k, v in standings.items() if v}}


# ---------------------------------------------------------------- an entity (any IRI of the data)


#: What points at a thing, on its page: the first pairs (property, subject), as the store orders them.
INCOMING_LIMIT = 500


def _order(t: Term) -> tuple:
    """SPARQL's ORDER BY for what a page sorts: blank nodes, then IRIs, then literals by their text."""
    return ({"bnode": 0, "uri": 1}.get(t.kind, 2), t.value, t.datatype or "", t.lang or "")


def own_triples(reader: Reader, iri: str) -> list[tuple[str, Term, str]]:
    """(property, value, graph) of every triple about `iri` in a named graph, by property and value."""
    import pyoxigraph as ox

    from jisr_kg.rdf.terms import ox_term

    out = [(q.predicate.value, ox_term(q.object), q.graph_name.value)
           for q in reader.store.quads_for_pattern(ox.NamedNode(iri), None, None, None)
           if isinstance(q.graph_name, ox.NamedNode)]
    return sorted(out, key=lambda t: (t[0], _order(t[1]), t[2]))


def pointing_at(reader: Reader, iri: str, limit: int = INCOMING_LIMIT) -> list[tuple[str, Term]]:
    """(property, subject) of the asserted triples whose value is `iri`, by property and subject, the
    first `limit` of them."""
    import pyoxigraph as ox

    from jisr_kg.rdf.terms import ox_term

    found = {(q.predicate.value, ox_term(q.subject))
             for q in reader.store.quads_for_pattern(None, None, ox.NamedNode(iri), ox.NamedNode(ASSERTED_GRAPH))}
    return sorted(found, key=lambda t: (t[0], _order(t[1])))[:limit]


# (one pattern, both properties in a VALUES block: a UNION of the two with BIND and a type check took
# ~15 ms, as Oxigraph started from every claim; claims() keeps only what is typed jkg:Claim)
_ABOUT = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT ?claim ?role WHERE {
  GRAPH <%s> { VALUES (?p ?role) { (rdf:subject "subject") (rdf:object "object") } ?claim ?p <%s> }
}
"""
#: The claims a claimant makes, on its page: the first in the article's order.
MADE_LIMIT = 2000
_RELATED = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?other ?type WHERE {
  GRAPH <%s> {
    { ?c rdf:subject <%s> ; rdf:object ?other } UNION { ?c rdf:object <%s> ; rdf:subject ?other }
    ?other a ?type .
  }
  FILTER (isIRI(?other) && STRSTARTS(STR(?other), "%s"))
}
"""

#: How related things are grouped on an entity page, by asserted type.
RELATED_GROUPS = (
    ("Actors", ("Person", "Organisation", "ArmedGroup", "Collective", "UnnamedSource", "State")),
    ("Units", ("MilitaryUnit",)),
    ("Places", ("Place", "Country", "Region", "Settlement", "WaterBody", "Facility")),
    ("Events", ("Event",)),
    ("Claims", ("Claim",)),
)


def entity(reader: Reader, iri: str) -> dict | None:
    """The page of one IRI of the data, or None when the store knows nothing about it."""
    if not iri_ok(iri):
        return None
    triples = []
    types, comments, alt = [], [], []
    for p, o, g in own_triples(reader, iri):
        asserted = g == ASSERTED_GRAPH
        triples.append({"p": reader.ref(p), "o": _object(reader, o), "graph": g.rsplit("/", 1)[-1]})
        if p == RDF + "type" and asserted:
            types.append(reader.ref(o.value))
        elif p == RDFS + "comment" and asserted:
            comments.append(o.value)
        elif p == SKOS + "altLabel" and asserted:
            alt.append(o.value)
    incoming = [{"s": reader.ref(s.value), "p": reader.ref(p)} for p, s in pointing_at(reader, iri)]
    if not triples and not incoming:
        return None
    # one row per triple: the asserted copy wins over the same triple in the inferred graph
    seen: dict[tuple, dict] = {}
    for t in triples:
        key = (t["p"]["iri"], repr(t["o"]))
        if key not in seen or t["graph"] == "asserted":
            seen[key] = t
    triples = sorted(seen.values(), key=lambda t: (t["p"]["name"], str(t["o"])))
    table = reader.claim_table
    about = table.about.get(iri, [])
    about_iris = sorted({c for c, _ in about})
    cl = claims(reader, about_iris + ([iri] if any(t["iri"] == JKG + "Claim" for t in types if t) else []))
    own = cl.pop(iri, None)
    roles = defaultdict(set)
    for c, role in about:
        roles[c].add(role)
    about_claims = [dict(c, role=sorted(roles[c["iri"]])) for c in cl.values()]
    related: dict[str, dict[str, dict]] = {name: {} for name, _ in RELATED_GROUPS}
    for r in reader.rows(_RELATED % (ASSERTED_GRAPH, iri, iri, ID)):
        other, typ = r["other"].value, r["type"].value
        local = typ[len(JKG):] if typ.startswith(JKG) else ""
        for name, kinds in RELATED_GROUPS:
            if local in kinds and other != iri:
                related[name][other] = reader.ref(other)
    numbers = [c for c in about_claims if c["figure"]]
    # the claims this thing makes, when it is a claimant
    made = sorted(claims(reader, table.made.get(iri, [])).values(),
                  key=lambda c: (c["evidence"][0]["start"] if c["evidence"] else 10**9, c["iri"]))[:MADE_LIMIT]
    return {
        "iri": iri, "name": compact(iri), "path": path_of(iri), "label": reader.label(iri),
        "types": [t for t in types if t], "side": reader.sides.get(iri), "comments": comments, "alt": alt,
        "claim": own, "claims": group_claims(about_claims), "claim_count": len(about_claims),
        "figures": sorted(numbers, key=lambda c: c["iri"]),
        "related": {k: sorted(v.values(), key=lambda x: x["label"].casefold()) for k, v in related.items() if v},
        "triples": triples, "incoming": incoming, "made": made,
    }


def described(reader: Reader, iri: str, triples: list[tuple[Term, Term, Term]]) -> dict:
    """The page of an IRI that is not in the data but has a description (a named graph: its size and
    label), from the description's triples about it."""
    rows = [{"p": reader.ref(p.value), "o": _object(reader, o), "graph": ""} for s_, p, o in triples
            if s_.value == iri]
    label = next((r["o"]["literal"] for r in rows if r["p"]["iri"] == RDFS + "label" and "literal" in r["o"]),
                 iri.rsplit("/", 1)[-1])
    return {"iri": iri, "name": _compact(iri), "path": None, "label": label, "types": [], "side": None,
            "comments": [], "alt": [], "claim": None, "claims": {}, "claim_count": 0, "figures": [], "related": {},
            "triples": sorted(rows, key=lambda t: (t["p"]["name"], str(t["o"]))), "incoming": [], "made": []}


# ---------------------------------------------------------------- the ontology


_TERMS = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?t ?type ?comment ?super ?domain ?range ?scheme WHERE {
  GRAPH <%s> {
    ?t a ?type . FILTER (STRSTARTS(STR(?t), "%s"))
    FILTER (?type IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty, skos:Concept, skos:ConceptScheme))
  }
  OPTIONAL { ?t rdfs:comment ?comment } OPTIONAL { ?t skos:definition ?comment }
  OPTIONAL { GRAPH <%s> { { ?t rdfs:subClassOf ?super } UNION { ?t rdfs:subPropertyOf ?super }
                          UNION { ?t skos:broader ?super } } }
  OPTIONAL { ?t rdfs:domain ?domain } OPTIONAL { ?t rdfs:range ?range }
  OPTIONAL { ?t skos:inScheme ?scheme }
}
"""
_TERM_KINDS = {"Class": "Classes", "ObjectProperty": "Properties", "DatatypeProperty": "Properties",
               "ConceptScheme": "Concept schemes", "Concept": "Concepts"}


def ontology(reader: Reader) -> dict:
    """Every term of the ontology with its label, comment, parents, domain, range and scheme; terms
    are anchors of one page (/ontology#Claim), as their IRIs are (ontology#Claim)."""
    terms: dict[str, dict] = {}
    for r in reader.rows(_TERMS % (ASSERTED_GRAPH, JKG, ASSERTED_GRAPH)):
        t = r["t"].value
        d = terms.setdefault(t, {"iri": t, "anchor": t[len(JKG):], "label": reader.label(t), "kinds": set(),
                                 "comment": None, "super": {}, "domain": {}, "range": {}, "scheme": None})
        d["kinds"].add(r["type"].value.rsplit("#", 1)[-1])
        if r["comment"] is not None and not d["comment"]:
            d["comment"] = r["comment"].value
        for key in ("super", "domain", "range"):
            if r[key] is not None and r[key].kind == "uri":
                d[key][r[key].value] = reader.ref(r[key].value)
        if r["scheme"] is not None:
            d["scheme"] = reader.ref(r["scheme"].value)
    groups: dict[str, list] = {name: [] for name in dict.fromkeys(_TERM_KINDS.values())}
    for d in sorted(terms.values(), key=lambda d: d["anchor"].casefold()):
        kind = next((_TERM_KINDS[k] for k in ("Class", "ObjectProperty", "DatatypeProperty", "ConceptScheme",
                                              "Concept") if k in d["kinds"]), "Classes")
        d.update(kinds=sorted(d["kinds"]), super=list(d["super"].values()), domain=list(d["domain"].values()),
                 range=list(d["range"].values()))
        groups[kind].append(d)
    return {"groups": {k: v for k, v in groups.items() if v}, "count": len(terms)}


# ---------------------------------------------------------------- disputes


_DISPUTE_LINKS = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT ?a ?rel ?b ?pa ?pb WHERE {
  VALUES ?rel { jkg:contradicts jkg:refutes jkg:doubts }
  GRAPH <%s> { ?a ?rel ?b . OPTIONAL { ?a rdf:subject ?pa } OPTIONAL { ?b rdf:subject ?pb } }
}
"""


def disputed_points(reader: Reader) -> list[dict]:
    """The things claims disagree about: the subject of a claim that contradicts, refutes or doubts
    another, or is contradicted, refuted or doubted. Each with its slug and how many links it has."""
    points: dict[str, dict] = {}
    for r in reader.rows(_DISPUTE_LINKS % ASSERTED_GRAPH):
        for p in (r["pa"], r["pb"]):
            if p is None or p.kind != "uri":
                continue
            d = points.setdefault(p.value, {**reader.ref(p.value), "slug": slug_of(p.value), "links": set()})
            d["links"].add((r["a"].value, r["rel"].value, r["b"].value))
    out = []
    for d in points.values():
        d["link_count"] = len(d.pop("links"))
        out.append(d)
    return sorted(out, key=lambda d: (-d["link_count"], d["label"].casefold()))


def dispute(reader: Reader, slug: str) -> dict | None:
    """One disputed point: its claims in columns by side, who refutes or doubts whom with what words,
    the figures side by side, and the network of the claims and their links."""
    point = next((p for p in disputed_points(reader) if p["slug"] == slug), None)
    if point is None:
        return None
    iri = point["iri"]
    about = [r["claim"].value for r in reader.rows(_ABOUT % (ASSERTED_GRAPH, iri))]
    first = claims(reader, about)
    # the claims of the point that take part in a link, and the claims at the other end of a link
    involved = {c for c, d in first.items() if d["links"]}
    others = {link["other"]["iri"] for c in involved for link in first[c]["links"]}
    cl = {**first, **claims(reader, sorted(others - set(first)))}
    shown = {c: cl[c] for c in sorted(involved | others) if c in cl}
    columns: dict[str, list[dict]] = {}
    for c in shown.values():
        side = (c["claimant"] or {}).get("side") or "no side recorded"
        columns.setdefault(side, []).append(c)
    order = {s: i for i, s in enumerate((*SIDES, "no side recorded"))}
    cols = []
    for side, items in sorted(columns.items(), key=lambda kv: order.get(kv[0], 99)):
        grouped = group_claims(items)["by_claimant"]
        cols.append({"side": side, "claimants": grouped})
    links = []
    seen = set()
    for c in shown.values():
        for link in c["links"]:
            if not link["outgoing"] or link["other"]["iri"] not in shown:
                continue
            # a symmetric link asserted both ways is one row, as it is one line on each claim
            ends = (c["iri"], link["other"]["iri"])
            key = (link["rel"], *(sorted(ends) if link["rel"] in SYMMETRIC else ends))
            if key in seen:
                continue
            seen.add(key)
            links.append({"from": c, "rel": link["rel"], "reading": link["reading"], "to": shown[link["other"]["iri"]]})
    links.sort(key=lambda x: ([p for p, _, _ in LINKS].index(x["rel"]), x["from"]["label"]))
    numbers = [c for c in shown.values() if c["figure"]]
    numbers += [c for c in first.values() if c["figure"] and c["iri"] not in shown]
    return {"point": point, "columns": cols, "links": links, "figures": numbers, "claims": list(shown.values()),
            "network": network(list(shown.values()), links)}


def network(nodes: list[dict], links: list[dict], size: int = 420) -> dict:
    """A circle layout of the claims (numbered) and their links, for a small inline SVG."""
    import math

    n = max(len(nodes), 1)
    r = size / 2 - 40
    pos = {}
    out_nodes = []
    for i, c in enumerate(sorted(nodes, key=lambda c: (SIDES.index(c["claimant"]["side"])
                                                      if c["claimant"] and c["claimant"].get("side") in SIDES else 9,
                                                      c["iri"]))):
        a = 2 * math.pi * i / n - math.pi / 2
        x, y = size / 2 + r * math.cos(a), size / 2 + r * math.sin(a)
        pos[c["iri"]] = (x, y)
        side = (c["claimant"] or {}).get("side") or ""
        out_nodes.append({"n": i + 1, "x": round(x, 1), "y": round(y, 1), "claim": c,
                          "cls": "gov" if side.startswith("government") else "opp" if side.startswith("opposition")
                          else "none"})
    number = {d["claim"]["iri"]: d["n"] for d in out_nodes}
    edges = []
    for link in links:
        (x1, y1), (x2, y2) = pos[link["from"]["iri"]], pos[link["to"]["iri"]]
        # stop the line at the circle of the target, so the arrowhead shows
        dx, dy = x2 - x1, y2 - y1
        d = math.hypot(dx, dy) or 1
        edges.append({"x1": round(x1 + dx / d * 14, 1), "y1": round(y1 + dy / d * 14, 1),
                      "x2": round(x2 - dx / d * 16, 1), "y2": round(y2 - dy / d * 16, 1), "rel": link["rel"],
                      "from": number[link["from"]["iri"]], "to": number[link["to"]["iri"]]})
    return {"size": size, "nodes": out_nodes, "edges": edges}


# ---------------------------------------------------------------- the source


_SPANS = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT DISTINCT ?claim ?start ?end WHERE {
  GRAPH <%s> {
    ?span oa:hasSource <%s> ; oa:hasSelector ?sel . ?sel oa:start ?start ; oa:end ?end .
    ?claim jkg:evidence ?span ; a jkg:Claim .
  }
}
"""


def source(reader: Reader) -> dict:
    """The article cut into pieces at every span and unit boundary: each piece knows its unit (and
    whether claims cover it) and the innermost span over it; then every span with its claims."""
    doc, text = reader.source
    spans: dict[tuple[int, int], set[str]] = defaultdict(set)
    # the spans into this document only (a scaled copy of the data has a document of its own per copy)
    for r in (reader.rows(_SPANS % (ASSERTED_GRAPH, doc)) if iri_ok(doc) else []):
        try:
            s, e = int(r["start"].value), int(r["end"].value)
        except ValueError:
            continue
        if 0 <= s < e <= len(text):
            spans[(s, e)].add(r["claim"].value)
    units = reader.units
    covered = {u for u in units if any(u[1] <= s and e <= u[2] for s, e in spans)}
    cuts = sorted({0, len(text), *(x for se in spans for x in se), *(x for u in units for x in u[1:])})
    by_start = sorted(spans, key=lambda se: (se[0], se[1]))
    pieces = []
    unit_at = iter(sorted(units, key=lambda u: u[1]))
    current = next(unit_at, None)
    for a, b in zip(cuts, cuts[1:]):
        while current is not None and current[2] <= a:
            current = next(unit_at, None)
        unit = current if current is not None and current[1] <= a and b <= current[2] else None
        over = [se for se in by_start if se[0] <= a and b <= se[1]]
        inner = min(over, key=lambda se: (se[1] - se[0], se)) if over else None
        pieces.append({"text": text[a:b], "span": f"{inner[0]}-{inner[1]}" if inner else None, "depth": len(over),
                       "unit": f"{unit[1]}-{unit[2]}" if unit else None,
                       "unit_start": unit is not None and unit[1] == a, "unit_end": unit is not None and unit[2] == b,
                       "covered": unit in covered if unit else None, "kind": unit[0] if unit else None})
    cl = claims(reader, sorted({c for cs in spans.values() for c in cs}))
    span_list = [{"id": f"{s}-{e}", "start": s, "end": e, "quote": text[s:e],
                  "claims": sorted((cl[c] for c in cs if c in cl), key=lambda c: (c["label"].casefold(), c["iri"]))}
                 for (s, e), cs in sorted(spans.items())]
    n_units = len(units)
    return {"doc": reader.ref(doc) if doc else None, "pieces": pieces, "spans": span_list,
            "units": n_units, "covered": len(covered),
            "share": round(100.0 * len(covered) / n_units, 1) if n_units else None}


# ---------------------------------------------------------------- the timeline


_TIMELINE = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX schema: <https://schema.org/>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?event ?sequence ?kind ?date ?precision ?claimant ?claim ?standing WHERE {
  GRAPH <%s> { ?event a jkg:Event . OPTIONAL { ?event jkg:sequence ?sequence } }
  OPTIONAL {
    VALUES (?p ?kind) { (schema:startDate "start") (schema:endDate "end") }
    GRAPH <%s> { ?claim rdf:subject ?event ; rdf:predicate ?p ; rdf:object ?date ; prov:wasAttributedTo ?claimant .
                 OPTIONAL { ?claim jkg:datePrecision ?precision } OPTIONAL { ?claim jkg:standing ?standing } }
  }
}
"""


def _as_date(value: str) -> date | None:
    """The first day a date of any precision stands for (2011-06 -> 1 June 2011)."""
    m = re.fullmatch(r"(-?\d{4})(?:-(\d\d))?(?:-(\d\d))?", value.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


def timeline(reader: Reader) -> dict:
    """The events in time: each with the dates each claimant gives (start and end), whether they
    differ (disputed) or are approximate; undated events are placed by the article's order between
    their dated neighbours. Laid out for an SVG: the wider context (before 2011) in a band of its own,
    then March to mid-June 2011 on a scale of days."""
    events: dict[str, dict] = {}
    for r in reader.rows(_TIMELINE % (ASSERTED_GRAPH, ASSERTED_GRAPH)):
        e = r["event"].value
        try:
            seq = int(r["sequence"].value) if r["sequence"] is not None else None
        except ValueError:
            seq = None
        d = events.setdefault(e, {**reader.ref(e), "sequence": seq, "dates": []})
        if r["date"] is not None:
            when = _as_date(r["date"].value)
            prec = reader.label(r["precision"].value) if r["precision"] else None
            item = {"kind": r["kind"].value, "value": r["date"].value, "date": when, "precision": prec,
                    "approximate": prec not in (None, "day"), "claimant": reader.ref(r["claimant"].value),
                    "claim": reader.ref(r["claim"].value),
                    "standing": reader.label(r["standing"].value) if r["standing"] else None}
            if item not in d["dates"]:
                d["dates"].append(item)
    # events with neither a date nor a place in the article's order cannot be drawn: listed apart
    unplaced = sorted((d for d in events.values() if d["sequence"] is None and not d["dates"]),
                      key=lambda d: d["label"].casefold())
    items = sorted((d for d in events.values() if d["sequence"] is not None or d["dates"]),
                   key=lambda d: (d["sequence"] if d["sequence"] is not None else -1, d["label"]))
    for d in items:
        d["dates"].sort(key=lambda x: (x["kind"] != "start", x["value"], x["claimant"]["label"]))
        starts = {x["value"] for x in d["dates"] if x["kind"] == "start"}
        d["disputed"] = len(starts) > 1 or any(x["standing"] not in (None, "asserted") for x in d["dates"])
        d["approximate"] = any(x["approximate"] for x in d["dates"])
        dated = [x["date"] for x in d["dates"] if x["kind"] == "start" and x["date"]]
        d["when"] = min(dated) if dated else None
        ends = [x["date"] for x in d["dates"] if x["kind"] == "end" and x["date"]]
        d["until"] = max(ends) if ends else None
        d["placed"] = d["when"] is None
    # undated events take the date of the dated event before them in the article's order (or after)
    last = None
    for d in (x for x in items if x["sequence"] is not None):
        if d["when"] is not None:
            last = d["when"]
        elif last is not None:
            d["guess"] = last
    nxt = None
    for d in reversed([x for x in items if x["sequence"] is not None]):
        if d["when"] is not None:
            nxt = d["when"]
        elif "guess" not in d and nxt is not None:
            d["guess"] = nxt
    for d in items:
        d["at"] = d["when"] or d.get("guess")
    items.sort(key=lambda d: (d["at"] or date.max, d["sequence"] if d["sequence"] is not None else -1))
    return {"events": items, "unplaced": unplaced, "svg": _timeline_svg(items)}


#: The time scale of the picture, in pieces: (first day, last day, share of the width). The weeks of the
#: clashes get most of the room; the months before them less; the years before 2011 a band of their own.
_SCALE = ((date(1975, 1, 1), date(2011, 1, 1), 0.12), (date(2011, 1, 1), date(2011, 6, 1), 0.30),
          (date(2011, 6, 1), date(2011, 6, 20), 0.58))


def _timeline_svg(items: list[dict]) -> dict:
    """Positions for the timeline picture: one row per event, on a time scale in three pieces (the
    years before 2011, January to May 2011, 1 to 20 June 2011)."""
    width, left, right, row = 800, 10, 10, 22
    span = width - left - right

    def x_of(d: date) -> float:
        x = left
        for a, b, share in _SCALE:
            if d < b or (a, b, share) == _SCALE[-1]:
                part = min(1.0, max(0.0, (d - a).days / (b - a).days))
                return round(x + part * share * span, 1)
            x += share * span
        return round(x, 1)

    rows = []
    for i, d in enumerate(items):
        y = 48 + i * row
        at = d["at"]
        x = x_of(at) if at else None
        x2 = x_of(d["until"]) if d.get("until") else None
        others = sorted({x_of(v["date"]) for v in d["dates"] if v["kind"] == "start" and v["date"]} - {x})
        label_right = x is None or x < width * 0.45
        rows.append({"y": y, "x": x, "x2": x2 if x2 and x is not None and x2 > x else None,
                     "alts": others, "event": d, "label_right": label_right})
    ticks = [{"x": x_of(date(1980, 1, 1)), "label": "1980"}, {"x": x_of(date(2011, 1, 1)), "label": "2011"}]
    ticks += [{"x": x_of(date(2011, m, 1)), "label": name} for m, name in ((3, "Mar"), (4, "Apr"), (5, "May"))]
    ticks += [{"x": x_of(date(2011, 6, day)), "label": f"{day} Jun", "minor": day not in (1, 4, 12)}
              for day in (1, 4, 6, 8, 10, 12, 15)]
    bands = [{"x": left, "w": round(_SCALE[0][2] * span, 1), "label": "before 2011"},
             {"x": round(left + (_SCALE[0][2] + _SCALE[1][2]) * span, 1), "w": round(_SCALE[2][2] * span, 1),
              "label": "June 2011"}]
    return {"width": width, "height": 60 + len(items) * row, "rows": rows, "ticks": ticks, "bands": bands,
            "scale": {"x0": left}}


# ---------------------------------------------------------------- the map


_PLACES = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
SELECT ?place ?wkt ?container WHERE {
  GRAPH <%s> { ?place a ?kind . ?kind <http://www.w3.org/2000/01/rdf-schema#subClassOf>* jkg:Place }
  OPTIONAL { ?place geo:hasGeometry/geo:asWKT ?wkt }
  OPTIONAL { ?place jkg:within ?container . FILTER (?container != ?place) }
}
"""
_POINT = re.compile(r"\s*(?:<[^>]*>\s*)?POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)\s*", re.I)


def _basemap() -> dict[str, list[list[list[float]]]]:
    """The countries around Syria (Natural Earth via world-atlas, shipped in static/basemap/)."""
    import json

    path = Path(__file__).resolve().parent / "static" / "basemap" / "levant-50m.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["countries"]
    except (OSError, ValueError, KeyError):
        return {}


def places(reader: Reader) -> dict:
    """Places with checked coordinates, projected for an SVG map (equirectangular, cos(latitude) for
    the width), and those without, each with what contains it."""
    import math

    found: dict[str, dict] = {}
    for r in reader.rows(_PLACES % ASSERTED_GRAPH):
        p = r["place"].value
        d = found.setdefault(p, {**reader.ref(p), "point": None, "within": {}})
        if r["wkt"] is not None:
            m = _POINT.fullmatch(r["wkt"].value)
            if m:
                d["point"] = (float(m.group(1)), float(m.group(2)))
        if r["container"] is not None:
            d["within"][r["container"].value] = reader.ref(r["container"].value)
    located = sorted((d for d in found.values() if d["point"]), key=lambda d: d["label"].casefold())
    unlocated = sorted((d for d in found.values() if not d["point"]), key=lambda d: d["label"].casefold())
    for d in found.values():
        d["within"] = sorted(d["within"].values(), key=lambda x: x["label"].casefold())
    width, height, pad = 640, 560, 40
    svg: dict = {"width": width, "height": height, "points": [], "grid": [], "countries": []}
    if located:
        lons = [d["point"][0] for d in located]
        lats = [d["point"][1] for d in located]
        lon0, lon1 = math.floor(min(lons)) - 1, math.ceil(max(lons)) + 1
        lat0, lat1 = math.floor(min(lats)) - 1, math.ceil(max(lats)) + 1
        k = math.cos(math.radians((lat0 + lat1) / 2))
        # widen the window to the picture's shape, so the map is not a narrow strip
        want = (lat1 - lat0) * (width - 2 * pad) / (height - 2 * pad) / k
        if lon1 - lon0 < want:
            extra = math.ceil((want - (lon1 - lon0)) / 2)
            lon0, lon1 = lon0 - extra, lon1 + extra
        sx = (width - 2 * pad) / ((lon1 - lon0) * k)
        sy = (height - 2 * pad) / (lat1 - lat0)
        s = min(sx, sy)

        def xy(lon: float, lat: float) -> tuple[float, float]:
            return (round(pad + (lon - lon0) * k * s, 1), round(height - pad - (lat - lat0) * s, 1))

        for name, rings in _basemap().items():
            d = " ".join("M" + " L".join(f"{x},{y}" for x, y in (xy(lon, lat) for lon, lat in ring)) + " Z"
                         for ring in rings)
            svg["countries"].append({"name": name, "d": d, "home": name == "Syria"})
        for lon in range(lon0, lon1 + 1):
            (x, y0), (_, y1) = xy(lon, lat0), xy(lon, lat1)
            svg["grid"].append({"x1": x, "y1": y0, "x2": x, "y2": y1, "label": f"{lon}°E", "lx": x, "ly": y0 + 14})
        for lat in range(lat0, lat1 + 1):
            (x0, y), (x1, _) = xy(lon0, lat), xy(lon1, lat)
            svg["grid"].append({"x1": x0, "y1": y, "x2": x1, "y2": y, "label": f"{lat}°N", "lx": x0 - 4, "ly": y + 4,
                                "anchor": "end"})
        # labels: right of the dot, else left, else a line lower or higher, so that no two overlap
        pins = [xy(*d["point"]) for d in located]
        boxes: list[tuple[float, float, float, float]] = [(x - 7, y - 7, x + 7, y + 7) for x, y in pins]
        for d in sorted(located, key=lambda d: -d["point"][1]):
            x, y = xy(*d["point"])
            w = 7.2 * len(d["label"]) + 4
            for dy in (0, 16, -16, 32, -32, 48):
                for right in (True, False):
                    bx = x + 10 if right else x - 10 - w
                    box = (bx, y + dy - 11, bx + w, y + dy + 4)
                    if 0 <= box[0] and box[2] <= width and not any(
                            box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
                        break
                else:
                    continue
                break
            boxes.append(box)
            svg["points"].append({"x": x, "y": y, "place": d, "right": right, "ly": round(y + dy + 4, 1),
                                  "lx": x + 10 if right else x - 10, "leader": dy != 0})
        svg["box"] = {"lon0": lon0, "lon1": lon1, "lat0": lat0, "lat1": lat1}
    return {"located": located, "unlocated": unlocated, "svg": svg}
