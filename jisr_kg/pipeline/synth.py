"""Synth: K renamed copies of the project's data, for scale tests and benchmarks.

`jisr-kg synth --scale K -o DIR` writes a data folder that `--data DIR` reads like `data/`:

- Copy 1 is the data as it is: every RDF file of the data folder is copied byte for byte, so that the
  IRIs the code, the stored queries' defaults and the shapes name (`actor:wikipedia-authors`,
  `src:june-2011-jisr-ash-shughur-clashes`, ...) still mean what they mean in `data/`.
- Copy k (2..K) of `NAME.ttl` is `NAME.cKKK.ttl`: the same triples with every IRI the project mints
  (under https://w3id.org/jisr-kg/id/) renamed by appending `-ck` (`claim:lead-x` -> `claim:lead-x-c2`,
  `span:2905-3060` -> `span:2905-3060-c2`, `src:june-2011-...` -> `src:june-2011-...-c2`). Each copy
  therefore has its own source document node holding the same text, and every selector of the copy
  points into it, so every selector still checks.
- Shared, never renamed: the ontology (it is not in the data folder; `jkg:` terms and the SKOS
  concepts in it), any `id/` IRI the ontology itself describes, every IRI outside the project's `id/`
  space (Wikidata, GeoNames, licences, vocabularies), and what `--share` names (nothing by default).
  Literals are never changed.
- Consequence: the consensus query names `actor:wikipedia-authors`, so by default only copy 1's claims
  reach the consensus view (copy k's article voice is `actor:wikipedia-authors-ck`). With
  `--share actor:wikipedia-authors` every copy's article-voice claims do, and the consensus and
  inferred graphs grow K-fold too (the benchmarks use that); the entities are then K-fold less one.
- `source/` (the article's text and its units) is copied, so that `coverage` works on the folder.

The copies are written as sorted Turtle by Oxigraph's serialiser with the project's prefixes, so the
output depends on nothing but the input bytes and K. The folder is written into a temporary folder
beside DIR and renamed into place; an existing DIR is replaced only if an earlier `synth` wrote it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from jisr_kg.errors import InputError, JisrError
from jisr_kg.fsutil import check_output_dir, mark, swap_in
from jisr_kg.paths import project_root, rdf_files
from jisr_kg.rdf.namespaces import ID, PREFIXES

MANIFEST = "synth-manifest.json"
_OX_FORMATS = {
    ".ttl": "TURTLE",
    ".trig": "TRIG",
    ".nt": "N_TRIPLES",
    ".nq": "N_QUADS",
    ".jsonld": "JSON_LD",
    ".rdf": "RDF_XML",
    ".owl": "RDF_XML",
}


@dataclass
class SynthSummary:
    out_dir: Path
    scale: int
    files: list[str] = field(default_factory=list)
    triples: int = 0  # distinct triples in the output folder


def copy_suffix(k: int) -> str:
    """The suffix appended to the project's IRIs in copy k (copy 1 keeps the original IRIs)."""
    return "" if k == 1 else f"-c{k}"


def synthesize(scale: int, out_dir: Path, data: Path | None = None, *, share: tuple[str, ...] = (),
               progress=None) -> SynthSummary:
    """Write `scale` copies of the data folder (the project's `data/` by default) into `out_dir`.

    `share` names project IRIs (full, or prefixed as in `actor:wikipedia-authors`) that every copy keeps
    unrenamed, as if the K copies were K articles with, say, one and the same article-voice claimant.
    """
    import hashlib
    import json
    import shutil
    import tempfile

    import pyoxigraph as ox

    from jisr_kg.fsutil import default_mode

    say = progress or (lambda _msg: None)
    if scale < 1:
        raise JisrError(f"--scale takes a whole number of copies, 1 or more, not {scale}")
    src = (data if data is not None else project_root() / "data").resolve()
    if not src.is_dir():
        raise InputError("not a folder (synth copies a data folder)", path=src)
    from jisr_kg.pipeline.build import input_paths

    out_dir = check_output_dir(out_dir, "synth", protected=[src, *input_paths()], legacy_marker=MANIFEST)

    files = rdf_files(src)
    from jisr_kg.sparql.query import expand_iri

    shared = _ontology_ids() | {expand_iri(iri, "--share") for iri in share}
    width = max(3, len(str(scale)))
    summary = SynthSummary(out_dir, scale)
    manifest: dict = {
        "generator": "jisr-kg synth",
        "scale": scale,
        "naming": "copy 1 keeps the original IRIs; copy k>1 appends '-ck' to every IRI under " + ID,
        "inputs": {},
        "shared": sorted(expand_iri(iri, "--share") for iri in share),
        "files": [],
    }

    copy1: set = set()
    shared_triples: set = set()  # triples without a project IRI: the same in every copy
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        os.chmod(tmp, default_mode(directory=True))
        for path in files:
            raw = path.read_bytes()
            manifest["inputs"][path.name] = hashlib.sha256(raw).hexdigest()
            (tmp / path.name).write_bytes(raw)  # copy 1, verbatim
            summary.files.append(path.name)
            triples = _parse(ox, path, raw)
            copy1.update(triples)
            shared_triples.update(t for t in triples if _rename(ox, [t], "-c", shared, 0) == [t])
            say(f"{path.name}: {len(triples)} triples x {scale}")
            for k in range(2, scale + 1):
                name = f"{path.stem}.c{k:0{width}d}.ttl"
                renamed = _rename(ox, triples, copy_suffix(k), shared, k)
                (tmp / name).write_bytes(_turtle(ox, renamed))
                summary.files.append(name)
        summary.triples = len(shared_triples) + scale * (len(copy1) - len(shared_triples))
        manifest["triples"] = summary.triples
        source = src / "source"
        if source.is_dir():
            shutil.copytree(source, tmp / "source")
        manifest["files"] = sorted(summary.files)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        mark(tmp, "synth")
        swap_in(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return summary


def _ontology_ids() -> frozenset[str]:
    """`id/` IRIs that the ontology itself describes (as subjects): shared by every copy."""
    import pyoxigraph as ox

    path = project_root() / "ontology" / "ontology.ttl"
    if not path.is_file():
        return frozenset()
    return frozenset(
        t.subject.value
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(ID)
    )


def _parse(ox, path: Path, raw: bytes) -> list:
    fmt = getattr(ox.RdfFormat, _OX_FORMATS[path.suffix])
    try:
        quads = list(ox.parse(input=raw, format=fmt, base_iri=path.resolve().as_uri()))
    except SyntaxError as e:
        raise InputError(f"syntax error: {e}", path=path) from None
    # Named graphs are merged, as `load` merges them; the copies are plain Turtle. Blank nodes (the data
    # has none, see authoring.md) get labels in order of appearance, so that the output is stable.
    labels: dict = {}

    def stable(t):
        if isinstance(t, ox.BlankNode):
            if t not in labels:
                labels[t] = ox.BlankNode(f"b{len(labels) + 1}")
            return labels[t]
        return t

    return list(dict.fromkeys(ox.Triple(stable(q.subject), q.predicate, stable(q.object)) for q in quads))


def _rename(ox, triples: list, suffix: str, shared: frozenset[str], k: int) -> list:
    cache: dict = {}

    def term(t):
        got = cache.get(t)
        if got is not None:
            return got
        if isinstance(t, ox.NamedNode) and t.value.startswith(ID) and t.value not in shared:
            new = ox.NamedNode(t.value + suffix)
        elif isinstance(t, ox.BlankNode):  # the data has none (authoring.md); keep copies apart if it ever does
            new = ox.BlankNode(f"{t.value}c{k}")  # labels are stable (see _parse)
        else:
            new = t
        cache[t] = new
        return new

    return [ox.Triple(term(t.subject), term(t.predicate), term(t.object)) for t in triples]


def _turtle(ox, triples: list) -> bytes:
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    return ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
