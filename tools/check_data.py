"""Quick authoring check for data/*.ttl (until `jisr-kg validate` and `jisr-kg coverage` cover it all).

Parses every data file, then reports: selectors whose oa:exact differs from the source text,
spans that cross a unit of data/source/units.tsv, claims without exactly one claimant or without
evidence, IRIs used as claim subjects/objects/claimants that have no rdfs:label, and units not covered.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import rdflib
from rdflib.namespace import RDF, RDFS

ROOT = Path(__file__).resolve().parent.parent
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
JKG = rdflib.Namespace("https://w3id.org/jisr-kg/ontology#")
JD = "https://w3id.org/jisr-kg/id/"


def main() -> int:
    g = rdflib.Graph()
    for f in sorted((ROOT / "data").glob("*.ttl")):
        g.parse(f)
    g.parse(ROOT / "ontology" / "ontology.ttl")
    text = (ROOT / "data/source/june-2011-jisr-ash-shughur-clashes.txt").read_text(encoding="utf-8")
    rows = [r for r in csv.reader(open(ROOT / "data/source/units.tsv", encoding="utf-8"), delimiter="\t")
            if r and not r[0].startswith("#")][1:]
    units = [(int(r[1]), int(r[2]), r[0], r[3]) for r in rows]
    problems = 0
    covered = set()
    for sel in g.subjects(RDF.type, OA.TextPositionSelector):
        s, e = int(g.value(sel, OA.start)), int(g.value(sel, OA.end))
        exact = str(g.value(sel, OA.exact))
        if text[s:e] != exact:
            print(f"WRONG EXACT {sel}: text has {text[s:e]!r}")
            problems += 1
        inside = [u for u in units if u[0] <= s and e <= u[1]]
        if not inside:
            print(f"SPAN CROSSES UNITS {sel} {text[s:e]!r}")
            problems += 1
    for c in g.subjects(RDF.type, JKG.Claim):
        claimants = list(g.objects(c, PROV.wasAttributedTo))
        if len(claimants) != 1:
            print(f"CLAIMANTS {c}: {claimants}")
            problems += 1
        spans = list(g.objects(c, JKG.evidence))
        if not spans:
            print(f"NO EVIDENCE {c}")
            problems += 1
        if not g.value(c, RDFS.label):
            print(f"NO LABEL {c}")
            problems += 1
        for sp in spans:
            sel = g.value(sp, OA.hasSelector)
            if sel is None or g.value(sel, OA.start) is None:
                print(f"SPAN WITHOUT SELECTOR {sp}")
                problems += 1
                continue
            s, e = int(g.value(sel, OA.start)), int(g.value(sel, OA.end))
            for u in units:
                if u[0] <= s and e <= u[1]:
                    covered.add(u[:2])
        for p in (RDF.subject, RDF.object, PROV.wasAttributedTo):
            for o in g.objects(c, p):
                if not (isinstance(o, rdflib.URIRef) and str(o).startswith(JD)):
                    continue
                # quantities are described by their values, everything else by a label
                described = g.value(o, RDF.type) if "/quantity/" in str(o) else g.value(o, RDFS.label)
                if described is None:
                    print(f"UNDEFINED {o} (used by {c})")
                    problems += 1
    missing = [u for u in units if u[:2] not in covered]
    print(f"{len(set(g.subjects(RDF.type, JKG.Claim)))} claims; units covered {len(units) - len(missing)}/{len(units)}")
    if "-v" in sys.argv:
        for u in missing:
            print(f"  uncovered {u[2]} {u[0]}-{u[1]}: {u[3][:90]}")
    print(f"{problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
