"""The release as a user receives it: dist/ with the ontology and the shapes, a valid VoID/DCAT
description, one version everywhere, the licence, changelog and citation files, the ontology page,
and a wheel that installs and runs on its own (decision 20)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import rdflib
import yaml

from conftest import ROOT, jisr

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
DATASET = rdflib.URIRef("https://w3id.org/jisr-kg/dataset")
ONTOLOGY = rdflib.URIRef("https://w3id.org/jisr-kg/ontology")
DOWNLOAD = "https://w3id.org/jisr-kg/dist/"
IANA = "https://www.iana.org/assignments/media-types/"
MEDIA_TYPES = {".ttl": "text/turtle", ".trig": "application/trig", ".nt": "application/n-triples",
               ".nq": "application/n-quads", ".jsonld": "application/ld+json", ".rdf": "application/rdf+xml",
               ".txt": "text/plain"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "dist"
    r = jisr("build", "-o", str(out))
    assert r.returncode == 0, r.stderr.decode()
    return out


def released(dist: Path) -> list[Path]:
    """The files of the release that the VoID describes (all but itself and the folder's marker)."""
    return sorted(p for p in dist.iterdir() if p.name != "void.ttl" and not p.name.startswith("."))


def test_dist_carries_the_ontology_and_the_shapes(dist: Path) -> None:
    for name in ("ontology.ttl", "shapes.ttl"):
        assert (dist / name).read_bytes() == (ROOT / "ontology" / name).read_bytes(), name


def test_void_describes_every_file_with_iris_media_types_and_checksums(dist: Path) -> None:
    text = (dist / "void.ttl").read_text(encoding="utf-8")
    assert not re.search(r"@prefix ns\d+:", text), "every namespace is bound: no auto-named prefix"
    g = rdflib.Graph().parse(data=text, format="turtle")
    assert (DATASET, rdflib.RDF.type, VOID.Dataset) in g and (DATASET, rdflib.RDF.type, DCAT.Dataset) in g
    distributions = set(g.objects(DATASET, DCAT.distribution))
    files = released(dist)
    assert len(distributions) == len(files)
    by_url = {g.value(d, DCAT.downloadURL): d for d in distributions}
    for path in files:
        url = rdflib.URIRef(DOWNLOAD + path.name)
        assert url in by_url, path.name
        d = by_url[url]
        assert isinstance(g.value(d, DCAT.downloadURL), rdflib.URIRef)
        assert g.value(d, DCAT.mediaType) == rdflib.URIRef(IANA + MEDIA_TYPES[path.suffix]), path.name
        assert int(g.value(d, DCAT.byteSize)) == path.stat().st_size, path.name
        checksum = g.value(d, SPDX.checksum)
        assert (checksum, rdflib.RDF.type, SPDX.Checksum) in g
        assert g.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(g.value(checksum, SPDX.checksumValue)) == hashlib.sha256(path.read_bytes()).hexdigest(), path.name
    dumps = set(g.objects(DATASET, VOID.dataDump))
    for path in files:
        if path.suffix in (".ttl", ".trig", ".nt", ".nq", ".jsonld", ".rdf"):
            assert rdflib.URIRef(DOWNLOAD + path.name) in dumps, path.name


def _pyproject_version() -> str:
    found = re.search(r'(?m)^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert found
    return found.group(1)


def test_the_package_the_ontology_the_void_and_the_citation_agree_on_the_version(dist: Path) -> None:
    import jisr_kg

    version = jisr_kg.__version__
    assert _pyproject_version() == version
    ontology = rdflib.Graph().parse(ROOT / "ontology" / "ontology.ttl")
    assert str(ontology.value(ONTOLOGY, rdflib.OWL.versionInfo)) == version
    shapes = rdflib.Graph().parse(ROOT / "ontology" / "shapes.ttl")
    assert str(shapes.value(rdflib.URIRef("https://w3id.org/jisr-kg/shapes"), rdflib.OWL.versionInfo)) == version
    void = rdflib.Graph().parse(dist / "void.ttl")
    assert str(void.value(DATASET, DCAT.version)) == version
    assert str(void.value(DATASET, rdflib.OWL.versionInfo)) == version
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["version"] == version
    releases = re.findall(r"(?m)^## \[(\d[^\]]*)\] - (\d{4}-\d\d-\d\d)$", (ROOT / "CHANGELOG.md").read_text("utf-8"))
    assert releases and releases[0][0] == version, "the changelog's latest release is this version"
    assert str(citation["date-released"]) == releases[0][1]


def test_the_licence_covers_the_code_and_the_data() -> None:
    text = " ".join((ROOT / "LICENSE").read_text(encoding="utf-8").split())
    assert "MIT License" in text and "Permission is hereby granted, free of charge" in text
    assert "CC BY-SA 4.0" in text and "https://creativecommons.org/licenses/by-sa/4.0/" in text
    assert "June 2011 Jisr ash-Shughur clashes" in text and "Wikipedia contributors" in text


def test_the_changelog_follows_keep_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    assert "## [Unreleased]" in text
    headings = re.findall(r"(?m)^## .*$", text)
    assert all(re.fullmatch(r"## \[(Unreleased|\d+\.\d+\.\d+)\]( - \d{4}-\d\d-\d\d)?", h) for h in headings), headings
    kinds = set(re.findall(r"(?m)^### (.*)$", text))
    assert kinds and kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}, kinds


def test_the_citation_file_is_cff_1_2() -> None:
    """The keys and types of the Citation File Format 1.2.0 that this file uses (checked once in full
    with `cffconvert --validate`)."""
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert cff.get(key), key
    assert cff["type"] in ("software", "dataset")
    assert all(isinstance(a, dict) and (a.get("name") or a.get("family-names")) for a in cff["authors"])
    assert set(cff["license"]) == {"MIT", "CC-BY-SA-4.0"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", str(cff["date-released"]))
    # nothing invented: no repository URL or DOI has been assigned
    assert not {"doi", "repository-code", "url"} & set(cff)
    source = cff["references"][0]
    assert source["title"] == "June 2011 Jisr ash-Shughur clashes" and source["license"] == "CC-BY-SA-4.0"


def test_the_ontology_page_has_its_title_the_concept_schemes_and_the_shapes(tmp_path: Path) -> None:
    r = jisr("docs", "-o", str(tmp_path / "ontology.html"))
    assert r.returncode == 0, r.stderr.decode()
    html = (tmp_path / "ontology.html").read_text(encoding="utf-8")
    ontology = rdflib.Graph().parse(ROOT / "ontology" / "ontology.ttl")
    title = str(ontology.value(ONTOLOGY, rdflib.DCTERMS.title))
    assert re.search(r"<title>\s*(.*?)\s*</title>", html).group(1) == title
    assert re.search(r"<h1>\s*(.*?)\s*</h1>", html).group(1) == title
    schemes = set(ontology.subjects(rdflib.RDF.type, rdflib.SKOS.ConceptScheme))
    assert len(schemes) > 5
    section = html[html.index('id="conceptschemes"'):html.index('id="shapes"')]
    for s in schemes:
        assert f"<h3>{ontology.value(s, rdflib.SKOS.prefLabel)}</h3>" in section, s
        for concept in ontology.subjects(rdflib.SKOS.inScheme, s):
            assert str(concept).replace("https://w3id.org/jisr-kg/ontology#", "jkg:") in section, concept
    shapes = rdflib.Graph().parse(ROOT / "ontology" / "shapes.ttl")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    named = {s for kind in (sh.NodeShape, sh.PropertyShape) for s in shapes.subjects(rdflib.RDF.type, kind)
             if isinstance(s, rdflib.URIRef)}
    for s in named:
        assert f"<code>{str(s).replace('https://w3id.org/jisr-kg/shapes#', 'jkgsh:')}</code>" in html, s
    assert 'href="#conceptschemes"' in html and 'href="#shapes"' in html, "both in the table of contents"


# ---------------------------------------------------------------- the wheel


def _subpackages() -> set[str]:
    return {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "jisr_kg").rglob("__init__.py")
            if "__pycache__" not in p.parts}


def test_pyproject_names_every_subpackage() -> None:
    """setuptools ships only the packages it is told of: a new subpackage missing from the list would be
    missing from the wheel (and the installed command would fail on import)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    listed = set(re.findall(r'^\s*"(jisr_kg[\w.]*)",', text[text.index("packages = ["):], re.M))
    assert _subpackages() <= listed, _subpackages() - listed


@pytest.mark.slow
def test_the_wheel_installs_in_a_fresh_environment_and_runs(tmp_path: Path) -> None:
    """Build the wheel, check it carries the package, the ontology, the data and the queries, install it
    (not editable) in a new virtual environment, and run the main commands from there, away from the
    checkout."""
    # built from a copy: setuptools writes build/ and *.egg-info beside the sources, not in the checkout
    source = tmp_path / "source"
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "expected")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    for folder in ("jisr_kg", "ontology", "data", "queries"):
        shutil.copytree(ROOT / folder, source / folder, ignore=junk)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(wheels)],
                   cwd=source, check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("jisr_kg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in _subpackages():
        assert package.replace(".", "/") + "/__init__.py" in names, package
    resources = {"jisr_kg/resources/ontology/": ROOT / "ontology", "jisr_kg/resources/queries/": ROOT / "queries",
                 "jisr_kg/resources/data/": ROOT / "data", "jisr_kg/resources/data/source/": ROOT / "data" / "source"}
    for prefix, folder in resources.items():
        for path in folder.iterdir():
            if path.is_file():
                assert prefix + path.name in names, prefix + path.name
    for path in (ROOT / "jisr_kg").rglob("*"):  # package data: the server's templates, static files, basemap
        if path.is_file() and "__pycache__" not in path.parts:
            assert path.relative_to(ROOT).as_posix() in names, path

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True,
                   timeout=900)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JISR_KG_ROOT", "VIRTUAL_ENV"))}
    env["JISR_KG_CACHE"] = str(tmp_path / "cache")
    command = env_dir / "bin" / "jisr-kg"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        r = subprocess.run([str(command), "--quiet", *args], cwd=work, env=env, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, (args, r.stderr)
        return r

    where = subprocess.run([str(python), "-c", "import jisr_kg, jisr_kg.paths as p; print(jisr_kg.__file__); "
                            "print(p.project_root())"], cwd=work, env=env, capture_output=True, text=True, check=True)
    module, root = where.stdout.split()
    assert Path(module).is_relative_to(env_dir) and Path(root).is_relative_to(env_dir), where.stdout
    run("build", "-o", "out")
    assert {"jisr-kg.ttl", "void.ttl", "ontology.ttl", "shapes.ttl"} <= {p.name for p in (work / "out").iterdir()}
    assert "Jisr ash-Shughur" in run("query", "places").stdout
    assert run("--version").stdout.strip().endswith(__import__("jisr_kg").__version__)
