"""`jisr-kg synth`: K renamed copies of the data that load, validate and query like the data itself."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
import rdflib

from conftest import ROOT, jisr

pytestmark = pytest.mark.slow  # a doubled copy of the data, built and validated: run by .ci/run

ID = "https://w3id.org/jisr-kg/id/"
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
SCHEMA = rdflib.Namespace("https://schema.org/")


@pytest.fixture(scope="module")
def synth2(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "x2"
    r = jisr("synth", "--scale", "2", "-o", str(out))
    assert r.returncode == 0, r.stderr.decode()
    assert "2 copies" in r.stdout.decode()
    return out


def _load(folder: Path) -> rdflib.Graph:
    g = rdflib.Graph()
    for p in sorted(folder.glob("*.ttl")):
        g.parse(p, format="turtle")
    return g


def test_twice_the_claims_and_entities(synth2) -> None:
    from jisr_kg.api import stats

    original, doubled = stats(), stats(synth2)
    assert dict(doubled.classes) == {cls: 2 * n for cls, n in original.classes}
    claims = dict(original.classes)["jkg:Claim"]
    assert claims > 0 and dict(doubled.classes)["jkg:Claim"] == 2 * claims
    assert {who: n for who, n in doubled.claimants} == {who: 2 * n for who, n in original.claimants}
    assert {s: n for s, n in doubled.standings} == {s: 2 * n for s, n in original.standings}


def test_copies_are_renamed_and_only_the_projects_iris_are(synth2) -> None:
    data = _load(ROOT / "data")
    copy2 = _load_copy(synth2, 2)
    expected = set()
    for t in data:
        expected.add(tuple(rdflib.URIRef(str(x) + "-c2") if isinstance(x, rdflib.URIRef) and str(x).startswith(ID)
                           else x for x in t))
    assert set(copy2) == expected
    # external IRIs (Wikidata, GeoNames, licences) and the ontology's terms are shared, not copied
    external = {x for t in data for x in t if isinstance(x, rdflib.URIRef) and not str(x).startswith(ID)}
    assert external == {x for t in copy2 for x in t if isinstance(x, rdflib.URIRef) and not str(x).startswith(ID)}
    assert any("wikidata.org" in str(x) for x in external)


def _load_copy(folder: Path, k: int) -> rdflib.Graph:
    g = rdflib.Graph()
    for p in sorted(folder.glob(f"*.c{k:03d}.ttl")):
        g.parse(p, format="turtle")
    return g


def test_copy_one_is_the_data_byte_for_byte(synth2) -> None:
    for p in sorted((ROOT / "data").glob("*.ttl")):
        assert (synth2 / p.name).read_bytes() == p.read_bytes()
    assert filecmp.cmp(ROOT / "data" / "source" / "units.tsv", synth2 / "source" / "units.tsv", shallow=False)


def test_every_copy_has_its_own_source_document_and_every_selector_checks(synth2) -> None:
    g = _load(synth2)
    text = (ROOT / "data" / "source" / "june-2011-jisr-ash-shughur-clashes.txt").read_text(encoding="utf-8")
    documents = set(g.subjects(SCHEMA.text, None))
    assert len(documents) == 2
    assert {str(d) for d in documents} == {ID + "source/june-2011-jisr-ash-shughur-clashes",
                                           ID + "source/june-2011-jisr-ash-shughur-clashes-c2"}
    checked = 0
    for span, doc in g.subject_objects(OA.hasSource):
        assert str(g.value(doc, SCHEMA.text)) == text
        suffix = "-c2" if str(span).endswith("-c2") else ""
        assert str(doc).endswith("clashes" + suffix), (span, doc)  # a copy's spans point into its own document
        for sel in g.objects(span, OA.hasSelector):
            start, end = int(g.value(sel, OA.start)), int(g.value(sel, OA.end))
            assert text[start:end] == str(g.value(sel, OA.exact)), sel
            checked += 1
    assert checked > 0


def test_the_copies_validate(synth2) -> None:
    from jisr_kg.api import validate_data as validate

    original, doubled = validate(), validate(synth2)
    assert doubled.count("Violation") == 0, doubled.format("text")
    assert doubled.count("Warning") == 2 * original.count("Warning")


def test_data_option_works_for_query_stats_coverage_and_build(synth2, tmp_path) -> None:
    r = jisr("--data", str(synth2), "stats")
    assert r.returncode == 0, r.stderr.decode()
    assert "jkg:Claim" in r.stdout.decode()
    # copy 1 keeps the original IRIs, so a stored query's defaults still find what they find in data/
    local = jisr("query", "claims-by-claimant", "--format", "csv")
    scaled = jisr("--data", str(synth2), "query", "claims-by-claimant", "--format", "csv")
    assert scaled.returncode == 0, scaled.stderr.decode()
    assert scaled.stdout == local.stdout
    assert jisr("--data", str(synth2), "coverage").returncode == jisr("coverage").returncode
    r = jisr("--data", str(synth2), "build", "-o", str(tmp_path / "dist"))
    assert r.returncode == 0, r.stderr.decode()
    assert "0 violations" in r.stdout.decode()


def test_output_is_deterministic(synth2, tmp_path) -> None:
    again = tmp_path / "again"
    r = jisr("synth", "--scale", "2", "-o", str(again))  # a separate process: another hash seed
    assert r.returncode == 0
    def files(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    first, second = files(synth2), files(again)
    assert len(first) > 2 and first == second


def test_share_keeps_named_iris(tmp_path) -> None:
    out = tmp_path / "shared"
    r = jisr("synth", "--scale", "3", "-o", str(out), "--share", "actor:wikipedia-authors")
    assert r.returncode == 0, r.stderr.decode()
    g = _load(out)
    authors = [s for s in set(g.subjects()) if "wikipedia-authors" in str(s)]
    assert [str(s) for s in authors] == [ID + "actor/wikipedia-authors"]
    attributed = rdflib.URIRef("http://www.w3.org/ns/prov#wasAttributedTo")
    voiced = {str(c) for c in g.subjects(attributed, authors[0])}
    assert any(c.endswith("-c3") for c in voiced) and any(c.endswith("-c2") for c in voiced)


def test_writes_atomically_and_never_over_a_foreign_folder(tmp_path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me\n")
    r = jisr("synth", "--scale", "2", "-o", str(foreign))
    assert r.returncode != 0 and "Traceback" not in r.stderr.decode()
    assert (foreign / "notes.txt").read_text() == "keep me\n" and len(list(foreign.iterdir())) == 1

    out = tmp_path / "out"
    assert jisr("synth", "--scale", "3", "-o", str(out)).returncode == 0
    assert jisr("synth", "--scale", "2", "-o", str(out)).returncode == 0  # an earlier synth's folder: replaced
    assert not list(out.glob("*.c003.ttl")) and list(out.glob("*.c002.ttl"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "out"]  # no temporary folders left

    r = jisr("synth", "--scale", "0", "-o", str(tmp_path / "zero"))
    assert r.returncode != 0 and "Traceback" not in r.stderr.decode()
    r = jisr("synth", "--scale", "2", "-o", str(ROOT / "data" / "copies"))
    assert r.returncode != 0 and not (ROOT / "data" / "copies").exists()
