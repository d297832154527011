"""The cache of built datasets, keyed by a hash of the inputs (see `paths.Inputs.key`).

Each entry is a folder holding the three graphs as sorted N-Triples and, once a query has needed it,
an Oxigraph store of the same dataset, so that a repeated query neither re-parses nor re-reasons.
Both are written into a temporary folder and renamed into place, so that an interrupted build leaves
no half-written entry. The store is made on first use, not by every build: a build does not query.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from jisr_kg.paths import cache_root
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH

GRAPH_FILES = {
    ASSERTED_GRAPH: "asserted.nt",
    CONSENSUS_GRAPH: "consensus.nt",
    INFERRED_GRAPH: "inferred.nt",
}
STORE_DIR = "oxigraph"
#: How many entries to keep; older ones are removed when a new one is written.
KEEP = 8


def entry(key: str) -> Path:
    return cache_root() / key


def has(key: str) -> bool:
    d = entry(key)
    return all((d / f).is_file() for f in GRAPH_FILES.values())


def save(built) -> Path:  # noqa: ANN001 - BuiltDataset; typed loosely to keep rdflib out of import time
    """Write the built dataset into the cache and return its folder."""
    final = entry(built.key)
    if has(built.key):
        return final
    cache_root().mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{built.key}.", dir=cache_root()))
    try:
        for name, filename in GRAPH_FILES.items():
            (tmp / filename).write_bytes(built.ntriples(name))
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _prune()
    return final


def load(key: str):  # noqa: ANN201 - returns BuiltDataset or None
    """The cached dataset for `key`, or None when there is none."""
    if not has(key):
        return None
    from jisr_kg.pipeline.dataset import BuiltDataset

    # not splitlines(): a literal may hold U+2028 and the like, which N-Triples leaves unescaped
    lines = {name: (entry(key) / filename).read_text(encoding="utf-8").split("\n")[:-1]
             for name, filename in GRAPH_FILES.items()}
    return BuiltDataset(lines, key)


def store_path(key: str) -> Path:
    """The Oxigraph store of a cached entry (which `has(key)`), loaded from its N-Triples on first use."""
    path = entry(key) / STORE_DIR
    if path.is_dir():
        return path
    import pyoxigraph as ox

    tmp = Path(tempfile.mkdtemp(prefix=f".{STORE_DIR}.", dir=entry(key)))
    try:
        store = ox.Store(str(tmp / STORE_DIR))
        for name, filename in GRAPH_FILES.items():
            store.bulk_load(path=str(entry(key) / filename), format=ox.RdfFormat.N_TRIPLES,
                            to_graph=ox.NamedNode(name))
        store.flush()
        del store  # releases the store's lock before it is moved
        try:
            os.replace(tmp / STORE_DIR, path)
        except OSError:
            if not path.is_dir():  # another process made it meanwhile: use that one
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def is_entry(path: Path) -> bool:
    """Whether `path` is a folder this cache wrote: its name is a key (32 hex digits) and it holds the
    graph files. Nothing else in the cache folder is ever removed: `JISR_KG_CACHE` may name a folder
    that other programs share."""
    return (len(path.name) == 32 and all(c in "0123456789abcdef" for c in path.name)
            and path.is_dir() and not path.is_symlink() and (path / GRAPH_FILES[ASSERTED_GRAPH]).is_file())


def _prune() -> None:
    entries = sorted((p for p in cache_root().iterdir() if is_entry(p)), key=lambda p: p.stat().st_mtime,
                     reverse=True)
    for old in entries[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
