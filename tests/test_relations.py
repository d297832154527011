"""Every fact a relation (issue 14, docs/decisions/0014-every-fact-a-relation.md), checked on the project's data.

What a claim says lives in its triple (rdf:subject, rdf:predicate, rdf:object) and in relations of the
claim node, not in its label; figures name the group they count; evidence names the part of the
article it stands in; claimants say what kind of source they are; and claims of opposing sides about
the same thing are linked, or recorded as compatible.
"""

from __future__ import annotations

import re

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, URIRef

from conftest import JKG, OA, PROV, ROOT, SKOS, TEXT

ONTOLOGY = ROOT / "ontology" / "ontology.ttl"

# The terms minted for decision 14 (the section "every fact a relation" of the ontology).
NEW_TERMS = [
    "polarity", "validDuring", "validUntil", "validAfter", "occurrence", "status", "intensity", "resistance",
    "combatantStatus", "armedStatus", "fate", "hostileTo", "ignoredBy", "purpose", "selfDesignation",
    "approachDirection", "during", "disputedPoint", "disputeBetween", "compatibleWith", "reinforces", "ends",
    "resultedIn", "speaker", "witness", "echelon", "unitNumber", "countedGroup", "ArticleSection", "inSection",
    "sourceKind",
]
ALIGNMENTS = (RDFS.subPropertyOf, RDFS.subClassOf, SKOS.closeMatch, SKOS.relatedMatch, SKOS.exactMatch,
              SKOS.broadMatch, SKOS.narrowMatch, OWL.equivalentProperty)


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY)


@pytest.fixture(scope="module")
def asserted(built) -> rdflib.Graph:
    return built.asserted


def claims(g: rdflib.Graph) -> set[URIRef]:
    return set(g.subjects(RDF.type, JKG.Claim))


# ---------------------------------------------------------------- 1. no claim whose content is only its label


def test_no_label_only_claims(asserted: rdflib.Graph) -> None:
    """A claim without rdf:predicate is allowed only as a claim about a claim (an assessment)."""
    g = asserted
    all_claims = claims(g)
    label_only = sorted(
        str(c) for c in all_claims
        if g.value(c, RDF.predicate) is None and g.value(c, RDF.subject) not in all_claims
    )
    assert label_only == [], f"{len(label_only)} claims carry their content only in their label: {label_only}"


def test_every_claim_predicate_is_defined(asserted: rdflib.Graph, ontology: rdflib.Graph) -> None:
    """Each rdf:predicate of a claim in our namespace is a property the ontology defines."""
    used = {p for c in claims(asserted) for p in asserted.objects(c, RDF.predicate)}
    ours = {p for p in used if str(p).startswith(str(JKG))}
    undefined = sorted(str(p) for p in ours if (p, RDFS.label, None) not in ontology)
    assert not undefined, undefined


@pytest.mark.parametrize("name", NEW_TERMS)
def test_new_term_has_label_comment_and_alignment(name: str, ontology: rdflib.Graph) -> None:
    term = JKG[name]
    assert ontology.value(term, RDFS.label) is not None, f"jkg:{name} has no rdfs:label"
    assert ontology.value(term, RDFS.comment) is not None, f"jkg:{name} has no rdfs:comment"
    targets = [o for p in ALIGNMENTS for o in ontology.objects(term, p)]
    # aligned to a standard term, directly or through one of our terms that is
    def standard(t: rdflib.term.Node, depth: int = 0) -> bool:
        if not str(t).startswith(str(JKG)):
            return True
        return depth < 3 and any(standard(o, depth + 1) for p in ALIGNMENTS for o in ontology.objects(t, p))
    assert any(standard(t) for t in targets), f"jkg:{name} is not aligned to any standard term"


def test_competing_accounts_differ_in_data(asserted: rdflib.Graph) -> None:
    """'A fierce battle' and 'only minor security operations' are one property with two values."""
    g = asserted
    values = {}
    for c in claims(g):
        if g.value(c, RDF.predicate) == JKG.intensity:
            values.setdefault(g.value(c, RDF.object), set()).add(g.value(c, PROV.wasAttributedTo))
    actor = rdflib.Namespace("https://w3id.org/jisr-kg/id/actor/")
    assert values[JKG.HighIntensity] == {actor["syrian-government"], actor["syrian-opposition"]}
    assert values[JKG.LowIntensity] == {actor["bouthaina-shaaban"]}


def test_denied_triples_stay_out_of_the_consensus_view(built) -> None:
    g = built.asserted
    full = built.union(infer=True)
    negative = [c for c in claims(g) if (c, JKG.polarity, JKG.Negative) in g]
    assert negative, "no negative claim in the data"
    for c in negative:
        triple = (g.value(c, RDF.subject), g.value(c, RDF.predicate), g.value(c, RDF.object))
        assert triple not in full, f"{c} denies {triple}, but the triple is in the graph"


def test_fates_name_the_event_that_put_people_there(asserted: rdflib.Graph) -> None:
    g = asserted
    fates = [c for c in claims(g) if g.value(c, RDF.predicate) == JKG.fate]
    assert len(fates) == 5
    for c in fates:
        assert (g.value(c, JKG.validAfter), RDF.type, JKG.Event) in g, c


# ---------------------------------------------------------------- 2. figures say what they count

# Figures of killed, wounded, arrested or strength whose group has no node of its own, with the reason.
GROUP_NOT_NAMED = {
    "lead-opposition-massacre-killed": "'many people being massacred': the victims are not named as a group",
}


def test_casualty_and_strength_figures_name_their_group(asserted: rdflib.Graph) -> None:
    g = asserted
    missing = []
    for c in claims(g):
        if g.value(c, RDF.predicate) in (JKG.killed, JKG.wounded, JKG.casualties, JKG.arrested, JKG.strength):
            qv = g.value(c, RDF.object)
            slug = str(c).rsplit("/", 1)[1]
            if g.value(qv, JKG.countedGroup) is None and slug not in GROUP_NOT_NAMED:
                missing.append(slug)
    assert not missing, f"figures without jkg:countedGroup: {sorted(missing)}"


def test_strength_and_losses_are_different_figures(asserted: rdflib.Graph) -> None:
    g = asserted
    unit = URIRef("https://w3id.org/jisr-kg/id/unit/government-unit-of-120")
    figures = {g.value(c, RDF.predicate) for c in claims(g)
               if (qv := g.value(c, RDF.object)) is not None and (qv, JKG.countedGroup, unit) in g}
    assert figures == {JKG.strength, JKG.killed}


# ---------------------------------------------------------------- 4. units, sections, claimants


def test_numbered_units_carry_their_number_and_echelon(asserted: rdflib.Graph) -> None:
    g = asserted
    for unit in g.subjects(RDF.type, JKG.MilitaryUnit):
        label = str(g.value(unit, RDFS.label))
        m = re.match(r"(\d+)(st|nd|rd|th) ", label)
        number = g.value(unit, JKG.unitNumber)
        if m:
            assert number is not None and int(number) == int(m.group(1)), unit
            assert g.value(unit, JKG.echelon) is not None, unit
        else:
            assert number is None, unit


def _sections() -> list[tuple[str, int, int]]:
    """The parts of the article from its headings: (slug, start, end); a section runs to the next heading
    of its level or higher, so a subsection lies inside its section."""
    heads = [(m.start(), len(m.group(1)), m.group(2)) for m in re.finditer(r"^(=+) ?([^=\n]+?) ?=+$", TEXT, re.M)][1:]
    infobox = TEXT.index("Infobox")
    lead = TEXT.index("\n\n", infobox) + 2
    parts = [("infobox", infobox, lead), ("lead", lead, heads[0][0])]
    for i, (start, level, title) in enumerate(heads):
        end = next((s for s, lv, _ in heads[i + 1:] if lv <= level), len(TEXT))
        parts.append((re.sub(r"[^a-z]+", "-", title.lower()).strip("-"), start, end))
    return parts


def test_every_span_stands_in_its_section(asserted: rdflib.Graph) -> None:
    g = asserted
    parts = _sections()
    base = "https://w3id.org/jisr-kg/id/source/june-2011-jisr-ash-shughur-clashes-"
    wrong = []
    for span in g.subjects(RDF.type, OA.SpecificResource):
        sel = g.value(span, OA.hasSelector)
        start, end = int(g.value(sel, OA.start)), int(g.value(sel, OA.end))
        inside = [(e - s, slug) for slug, s, e in parts if s <= start and end <= e]
        expected = base + min(inside)[1]
        if str(g.value(span, JKG.inSection)) != expected:
            wrong.append((str(span), str(g.value(span, JKG.inSection)), expected))
    assert not wrong, wrong[:5]


def test_every_claimant_says_what_kind_of_source_it_is(asserted: rdflib.Graph) -> None:
    g = asserted
    claimants = {g.value(c, PROV.wasAttributedTo) for c in claims(g)}
    missing = sorted(str(a) for a in claimants if g.value(a, JKG.sourceKind) is None)
    assert not missing, missing
    unnamed = {a for a in claimants if (a, RDF.type, JKG.UnnamedSource) in g}
    assert all(g.value(a, JKG.sourceKind) == JKG.UnnamedSourceKind for a in unnamed)


# ---------------------------------------------------------------- 5. links between claims complete


def test_no_unlinked_opposing_claims() -> None:
    """The stored check: pairs of claims by claimants on different sides about the same subject and
    property, neither linked nor recorded as compatible (jkg:compatibleWith)."""
    from jisr_kg import run_query

    result = run_query("unlinked-opposing-claims")
    rows = [tuple(t.short() if t is not None else "" for t in row) for row in result.rows]
    assert rows == [], "decide each pair (link it, or jkg:compatibleWith with a note):\n" + "\n".join(map(str, rows))


def test_compatible_pairs_say_why(asserted: rdflib.Graph) -> None:
    g = asserted
    for a, b in g.subject_objects(JKG.compatibleWith):
        notes = " ".join(str(n) for n in g.objects(a, SKOS.editorialNote))
        assert str(b).rsplit("/", 1)[1] in notes, f"{a} is compatible with {b} but no editorial note says why"


def test_claims_per_section_golden_counts_from_the_text(asserted: rdflib.Graph) -> None:
    """The golden result of `claims-per-section` (CQ-R17), recounted here from the spans' offsets and the
    text's headings, without jkg:inSection."""
    g = asserted
    parts = _sections()
    spans: dict[str, set] = {slug: set() for slug, _, _ in parts}
    claims_in: dict[str, set] = {slug: set() for slug, _, _ in parts}
    for claim in claims(g):
        for span in g.objects(claim, JKG.evidence):
            sel = g.value(span, OA.hasSelector)
            start, end = int(g.value(sel, OA.start)), int(g.value(sel, OA.end))
            slug = min((e - s, slug) for slug, s, e in parts if s <= start and end <= e)[1]
            spans[slug].add(span)
            claims_in[slug].add(claim)
    golden = (ROOT / "queries" / "expected" / "claims-per-section.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in golden if not line.startswith("#")][1:]
    base = "src:june-2011-jisr-ash-shughur-clashes-"
    got = {r[0].removeprefix(base): (int(r[2]), int(r[3])) for r in rows}
    assert got == {slug: (len(spans[slug]), len(claims_in[slug])) for slug, _, _ in parts}
