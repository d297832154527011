"""The modelling rules the whole graph must keep (docs/decisions/), checked on the project's data."""

from __future__ import annotations

import re

import rdflib
from rdflib import RDF, URIRef

from conftest import JKG, OA, PROV, SCHEMA, SKOS, TEXT


def test_one_schema_org_namespace(built) -> None:
    for t in built.asserted:
        for term in t:
            assert not str(term).startswith("http://schema.org/"), t


def test_no_blank_nodes_in_the_data(built) -> None:
    for t in built.asserted:
        assert not any(isinstance(term, rdflib.BNode) for term in t), t


def test_five_or_fourteen_is_two_alternative_claims_not_a_range(built) -> None:
    g = built.asserted
    claims = [c for c in g.subjects(RDF.type, JKG.Claim)
              if (qv := g.value(c, RDF.object)) is not None and str(g.value(qv, JKG.wording)) == "five or 14"]
    values = sorted(int(g.value(g.value(c, RDF.object), SCHEMA.value)) for c in claims)
    assert values == [5, 14]
    a, b = claims
    assert (a, JKG.alternativeTo, b) in g or (b, JKG.alternativeTo, a) in g
    for c in claims:
        qv = g.value(c, RDF.object)
        assert g.value(qv, SCHEMA.minValue) is None and g.value(qv, SCHEMA.maxValue) is None
        assert (g.value(c, PROV.wasAttributedTo), RDF.type, JKG.UnnamedSource) in g


def test_the_slip_than_4000_is_kept_with_an_editorial_note(built) -> None:
    g = built.asserted
    [claim] = [c for c in g.subjects(RDF.type, JKG.Claim)
               if (qv := g.value(c, RDF.object)) is not None and str(g.value(qv, JKG.wording)) == "than 4,000"]
    qv = g.value(claim, RDF.object)
    assert int(g.value(qv, SCHEMA.minValue)) == 4000 and g.value(qv, SCHEMA.maxValue) is None
    assert "more than 4,000" in str(g.value(claim, SKOS.editorialNote))
    quotes = [str(q) for q in g.objects(None, OA.exact)]
    assert any("than 4,000 locals" in q and "more than" not in q for q in quotes)


def test_the_river_of_the_bodies_is_not_the_orontes(built) -> None:
    g = built.union(infer=True)
    river = [s for s in g.subjects(OA.exact, None) if "thrown into the river" in str(g.value(s, OA.exact))]
    assert river, "no evidence for the bodies thrown into the river"
    orontes = URIRef("https://w3id.org/jisr-kg/id/place/orontes-river")
    for sel in river:
        for span in g.subjects(OA.hasSelector, sel):
            for claim in g.subjects(JKG.evidence, span):
                assert orontes not in set(g.objects(claim, None)), claim


def test_every_number_in_the_article_is_in_the_graph(built) -> None:
    """Each figure the article writes ('about 40', '2,000', '120–140', 'five', '82') is a typed value, a
    date, the wording of a quantity or part of a name in the graph."""
    g = built.asserted
    numbers = {int(v) for p in (SCHEMA.value, SCHEMA.minValue, SCHEMA.maxValue) for v in g.objects(None, p)}
    dates = {str(o) for o in g.objects() if isinstance(o, rdflib.Literal) and o.datatype and "date" in o.datatype
             or isinstance(o, rdflib.Literal) and o.datatype and "gYear" in o.datatype}
    words = " ".join(str(o) for p in (JKG.wording, rdflib.RDFS.label, SKOS.altLabel) for o in g.objects(None, p))
    body = TEXT[TEXT.index("Infobox"):TEXT.index("==See also==")]
    missing = []
    for m in re.finditer(r"\d[\d,]*", body):
        figure = m.group(0).rstrip(",")
        value = int(figure.replace(",", ""))
        if value in numbers or figure in words or any(str(value) in d for d in dates):
            continue
        missing.append(f"{figure!r} in {body[max(0, m.start() - 30):m.end() + 10]!r}")
    assert not missing, "\n".join(missing)
