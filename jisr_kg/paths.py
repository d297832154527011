"""Where the ontology, the shapes, the data and the stored queries are, and the cache key of a build.

From a checkout (or an editable install) the folders beside the package are used, so that an edit to
`data/` is seen at once; a regular install falls back to the copies shipped inside the package.
Importing this module does not import rdflib, so that a cached query starts fast.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from jisr_kg.errors import InputError
from jisr_kg.rdf.formats import READ_EXTENSIONS

PACKAGE_DIR = Path(__file__).resolve().parent



def project_root() -> Path:
    """The folder that holds `ontology/`, `data/` and `queries/`."""
    env = os.environ.get("JISR_KG_ROOT")
    if env:
        return Path(env)
    checkout = PACKAGE_DIR.parent
    if (checkout / "ontology" / "ontology.ttl").is_file() and (checkout / "queries").is_dir():
        return checkout
    return PACKAGE_DIR / "resources"


def cache_root() -> Path:
    """Where built graphs are cached, outside the source folders."""
    env = os.environ.get("JISR_KG_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jisr-kg"


def rdf_files(path: Path) -> list[Path]:
    """The RDF files at `path`: the file itself, or every RDF file in the folder (sorted, not recursive)."""
    if not path.exists():
        raise InputError("no such file or folder", path=path)
    if path.is_file():
        if path.suffix not in READ_EXTENSIONS:
            raise InputError(f"not an RDF file (expected one of {', '.join(sorted(READ_EXTENSIONS))})", path=path)
        return [path]
    found = sorted((p for p in path.iterdir() if p.suffix in READ_EXTENSIONS and p.is_file()), key=lambda p: p.name)
    if not found:
        raise InputError("no RDF files in this folder", path=path)
    return found


@dataclass(frozen=True)
class Inputs:
    """Everything a build reads: the ontology, the data files and the consensus query."""

    ontology: tuple[Path, ...]
    data: tuple[Path, ...]
    consensus_query: Path
    shapes: Path
    extra: tuple[tuple[str, str], ...] = field(default=())  # settings that change the result

    @property
    def rdf(self) -> tuple[Path, ...]:
        return self.ontology + self.data

    def key(self) -> str:
        """A hash of every input's bytes and of the settings: the cache key of the built dataset
        (the shapes are not part of it: they check the dataset, they do not change it)."""
        from jisr_kg import __version__

        h = hashlib.sha256(f"jisr-kg {__version__} pipeline {PIPELINE}\n".encode())
        for name, value in self.extra:
            h.update(f"{name}={value}\n".encode())
        digests = _Digests()
        for p in (*self.rdf, self.consensus_query):
            h.update(str(p.name).encode() + b"\0")
            h.update(digests.of(p))
        digests.save()
        return h.hexdigest()[:32]


class _Digests:
    """The sha256 of input files, remembered by (size, mtime, inode) in the cache folder, so that a
    repeated command need not read every input again (40 MB at 100 times our data), as git's index
    does. A file changed within two seconds of being recorded is not remembered: its next change could
    keep the same size and mtime."""

    FILE = "digests.json"

    def __init__(self) -> None:
        import json

        self.path = cache_root() / self.FILE
        self.changed = False
        try:
            known = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            known = {}
        except (OSError, ValueError):
            known = None
        if not isinstance(known, dict):  # garbage in the file: trust none of it, and write it anew
            known, self.changed = {}, True
        # only well-formed entries: [size, mtime_ns, inode, sha256 hex]
        self.known: dict[str, list] = {
            k: e for k, e in known.items()
            if isinstance(e, list) and len(e) == 4 and all(isinstance(x, int) for x in e[:3])
            and isinstance(e[3], str) and len(e[3]) == 64 and all(c in "0123456789abcdef" for c in e[3])}
        if len(self.known) != len(known):
            self.changed = True

    def of(self, path: Path) -> bytes:
        try:
            st = path.stat()
            stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
            name = os.path.abspath(path)  # not resolve(): a realpath of 900 files costs more than the rest
            entry = self.known.get(name)
            if entry and entry[:3] == stamp:
                return bytes.fromhex(entry[3])
            digest = hashlib.sha256(path.read_bytes()).digest()
        except OSError as e:
            raise InputError(e.strerror or "cannot read", path=path) from None
        import time

        if time.time_ns() - st.st_mtime_ns > 2_000_000_000:
            self.known[name] = [*stamp, digest.hex()]
            self.changed = True
        return digest

    def save(self) -> None:
        if not self.changed:
            return
        import json
        import tempfile

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".digests.", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.known, f)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only cache folder: the digests are computed again next time


#: The reasoners `--reasoner` offers. owlrl is the reference; `rules` gives its entailments faster.
REASONERS: tuple[str, ...] = ("rules", "owlrl", "reasonable")
DEFAULT_REASONER = "rules"
#: Bumped when the pipeline's code changes what a build makes from the same inputs.
PIPELINE = 3  # 3: blank nodes scoped per file, relative IRIs against one fixed base


def inputs(data: Path | list[Path] | None = None, *, reasoner: str = DEFAULT_REASONER) -> Inputs:
    """The inputs of a build: the project's `data/` by default, or the given files and folders."""
    root = project_root()
    paths = [root / "data"] if data is None else ([data] if isinstance(data, Path) else list(data))
    files: list[Path] = []
    for p in paths:
        files.extend(rdf_files(p))
    return Inputs(
        ontology=(root / "ontology" / "ontology.ttl",),
        data=tuple(files),
        consensus_query=root / "queries" / "consensus.rq",
        shapes=root / "ontology" / "shapes.ttl",
        extra=(("reasoner", reasoner),),
    )


def queries_dir() -> Path:
    return project_root() / "queries"


def source_text_path(data_dir: Path | None = None) -> Path:
    """The source article's text file (for coverage)."""
    d = data_dir if data_dir is not None else project_root() / "data"
    return d / "source" / "june-2011-jisr-ash-shughur-clashes.txt"
