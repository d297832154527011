"""External identifiers and coordinates come only from the checked list, data/source/linked-ids.tsv."""

from __future__ import annotations

import csv

import rdflib
from rdflib import URIRef

from conftest import ROOT

SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
GEO = rdflib.Namespace("http://www.opengis.net/ont/geosparql#")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
ID = "https://w3id.org/jisr-kg/id/"


def rows() -> list[dict[str, str]]:
    with (ROOT / "data/source/linked-ids.tsv").open(encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def test_every_external_link_is_a_checked_identifier(built) -> None:
    allowed = set()
    for row in rows():
        allowed.add(URIRef(f"http://www.wikidata.org/entity/{row['wikidata_qid']}"))
        if row["geonames_id"]:
            allowed.add(URIRef(f"https://sws.geonames.org/{row['geonames_id']}/"))
    linked = set(built.asserted.objects(None, SKOS.exactMatch))
    assert linked == allowed
    assert not list(built.asserted.triples((None, rdflib.OWL.sameAs, None)))


def test_every_coordinate_is_a_checked_one_with_its_source(built) -> None:
    checked = {(float(r["lon"]), float(r["lat"])) for r in rows() if r["lat"]}
    points = set()
    for geometry, wkt in built.asserted.subject_objects(GEO.asWKT):
        lon, lat = (float(x) for x in str(wkt).removeprefix("POINT(").removesuffix(")").split())
        points.add((lon, lat))
        assert list(built.asserted.objects(geometry, PROV.wasDerivedFrom)), f"{geometry} has no source"
    assert points == checked


def test_only_our_entities_carry_links(built) -> None:
    for s in built.asserted.subjects(SKOS.exactMatch, None):
        assert str(s).startswith(ID)
