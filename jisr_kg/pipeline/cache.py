"""The cache of built datasets, keyed by a hash of the inputs (see `paths.Inputs.key`).

Each entry is a folder holding the three graphs as sorted N-Triples, a manifest of their sizes and
sha256 digests, and, once needed, an Oxigraph store of the same dataset and the validation report.
An entry is written into a temporary folder, its manifest last, and renamed into place, so that an
interrupted build leaves no half-written entry. An entry is never trusted blindly: a missing
manifest, a file of another size or digest, a store that does not open or lacks a graph is noted on
stderr (through the progress callback), thrown away and rebuilt.

Commands that find no entry for their key take a lock on it (`flock` on `.KEY.lock`), so that several
commands started at once on a cold cache build it once and the others wait for it (at most
`JISR_KG_LOCK_WAIT` seconds, then they go on without waiting). A cache folder that cannot be written
means running without the cache, with a warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from jisr_kg.paths import cache_root
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH

Progress = Callable[[str], None]

GRAPH_FILES = {
    ASSERTED_GRAPH: "asserted.nt",
    CONSENSUS_GRAPH: "consensus.nt",
    INFERRED_GRAPH: "inferred.nt",
}
MANIFEST = "manifest.json"
STORE_DIR = "oxigraph"
#: How many entries to keep; older ones are removed when a new one is written.
KEEP = 8
#: How long a command waits for another one building the same entry, in seconds.
LOCK_WAIT = 1800.0


def _silent(_msg: str) -> None:
    pass


def entry(key: str) -> Path:
    return cache_root() / key


# ---------------------------------------------------------------- can the cache be used at all


_WARNED: set[str] = set()


def writable(progress: Progress | None = None) -> bool:
    """Whether entries can be written; if not, say once that the commands run without the cache."""
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        ok = os.access(root, os.W_OK | os.X_OK)
    except OSError:
        ok = False
    if not ok and str(root) not in _WARNED:
        _WARNED.add(str(root))
        (progress or _silent)(f"warning: the cache folder {root} cannot be written; running without the cache")
    return ok


# ---------------------------------------------------------------- the manifest


def _manifest(key: str) -> dict | None:
    """The entry's manifest ({file: {"size", "sha256", "lines"}}) if it is well-formed, else None."""
    try:
        doc = json.loads((entry(key) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict) or set(files) != set(GRAPH_FILES.values()):
        return None
    for info in files.values():
        if not (isinstance(info, dict) and isinstance(info.get("size"), int)
                and isinstance(info.get("sha256"), str) and isinstance(info.get("lines"), int)):
            return None
    return files


def has(key: str) -> bool:
    """Whether an entry for `key` is there, with its manifest and files of the recorded sizes (the
    digests are checked when the entry is read, by `load`)."""
    files = _manifest(key)
    if files is None:
        return False
    d = entry(key)
    try:
        return all((d / name).stat().st_size == info["size"] for name, info in files.items())
    except OSError:
        return False


def discard(key: str, why: str, progress: Progress | None = None) -> None:
    """Throw a damaged entry away (renamed first, so that no reader sees half of it), saying why."""
    d = entry(key)
    if not d.exists():
        return
    (progress or _silent)(f"the cache entry {key[:12]} is damaged ({why}); rebuilding it")
    try:
        gone = d.with_name(f".{key}.damaged-{os.getpid()}-{time.monotonic_ns()}")
        os.replace(d, gone)
        shutil.rmtree(gone, ignore_errors=True)
    except OSError:
        pass  # a read-only cache: nothing is written there, and nothing read from it is trusted


def _damage(key: str) -> str | None:
    """Why the entry for `key` cannot be trusted, or None when its files match the manifest."""
    files = _manifest(key)
    if files is None:
        return f"no valid {MANIFEST}"
    for name, info in files.items():
        path = entry(key) / name
        try:
            size = path.stat().st_size
        except OSError:
            return f"{name} is missing"
        if size != info["size"]:
            return f"{name} has {size} bytes, not {info['size']}"
    return None


# ---------------------------------------------------------------- writing and reading an entry


def save(built, progress: Progress | None = None) -> Path | None:  # BuiltDataset
    """Write the built dataset into the cache and return its folder (None without a usable cache)."""
    final = entry(built.key)
    if has(built.key):
        return final
    if not writable(progress):
        return None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{built.key}.", dir=cache_root()))
    except OSError as e:
        (progress or _silent)(f"warning: cannot write the cache ({e.strerror}); running without it")
        return None
    try:
        files = {}
        for name, filename in GRAPH_FILES.items():
            h = hashlib.sha256()
            size = 0
            with open(tmp / filename, "wb") as f:
                for chunk in _chunks(built.lines[name]):
                    f.write(chunk)
                    h.update(chunk)
                    size += len(chunk)
            files[filename] = {"size": size, "sha256": h.hexdigest(), "lines": len(built.lines[name])}
        # the manifest last: an entry without it is never read
        with open(tmp / MANIFEST, "w", encoding="utf-8") as f:
            json.dump({"files": files}, f, indent=1, sort_keys=True)
        if final.exists():
            gone = final.with_name(f".{built.key}.old-{os.getpid()}")
            os.replace(final, gone)
            shutil.rmtree(gone, ignore_errors=True)
        os.replace(tmp, final)
    except OSError as e:
        (progress or _silent)(f"warning: cannot write the cache ({e.strerror or e}); running without it")
        return None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _prune()
    return final


def _chunks(lines: list[str], size: int = 20000) -> Iterator[bytes]:
    """N-Triples text of `lines`, a few thousand lines at a time (never the whole file in memory)."""
    for i in range(0, len(lines), size):
        yield ("\n".join(lines[i : i + size]) + "\n").encode("utf-8")


def load(key: str, progress: Progress | None = None):  # returns BuiltDataset or None
    """The cached dataset for `key`, or None when there is none or it is damaged (then it is thrown
    away, with a note, so that the caller rebuilds it)."""
    if not entry(key).is_dir():
        return None
    why = _damage(key)
    if why is not None:
        discard(key, why, progress)
        return None
    from jisr_kg.pipeline.dataset import BuiltDataset

    files = _manifest(key)
    assert files is not None
    lines = {}
    for name, filename in GRAPH_FILES.items():
        try:
            raw = (entry(key) / filename).read_bytes()
        except OSError:
            discard(key, f"{filename} cannot be read", progress)
            return None
        info = files[filename]
        if len(raw) != info["size"] or hashlib.sha256(raw).hexdigest() != info["sha256"]:
            discard(key, f"{filename} does not match its digest", progress)
            return None
        # not splitlines(): a literal may hold U+2028 and the like, which N-Triples leaves unescaped
        lines[name] = raw.decode("utf-8").split("\n")[:-1]
        del raw
        if len(lines[name]) != info["lines"]:
            discard(key, f"{filename} does not have its {info['lines']} lines", progress)
            return None
    return BuiltDataset(lines, key)


def file_backed(key: str):  # returns BuiltDataset or None
    """The entry for `key` (which `has(key)`) as a dataset whose lines are read from its files each time
    they are used (`dataset.FileLines`), not held in memory; None when there is no such entry."""
    from jisr_kg.pipeline.dataset import BuiltDataset, FileLines

    counts = line_counts(key)
    if counts is None or not has(key):
        return None
    return BuiltDataset({name: FileLines(entry(key) / GRAPH_FILES[name], n) for name, n in counts.items()}, key)


def line_counts(key: str) -> dict[str, int] | None:
    """Triples per graph IRI of a sound entry, from its manifest (without reading the graphs)."""
    files = _manifest(key)
    if files is None:
        return None
    return {name: files[filename]["lines"] for name, filename in GRAPH_FILES.items()}


# ---------------------------------------------------------------- the Oxigraph store


def store_path(key: str, progress: Progress | None = None) -> Path:
    """The Oxigraph store of a cached entry (which `has(key)`), loaded from its N-Triples on first use.
    A store that does not open, or lacks one of the graphs, is made again."""
    path = entry(key) / STORE_DIR
    if path.is_dir():
        why = _store_damage(path, key)
        if why is None:
            return path
        with lock(key, progress):
            if path.is_dir() and _store_damage(path, key) is not None:
                (progress or _silent)(f"the cached Oxigraph store is damaged ({why}); making it again")
                gone = path.with_name(f".{STORE_DIR}.damaged-{os.getpid()}-{time.monotonic_ns()}")
                os.replace(path, gone)
                shutil.rmtree(gone, ignore_errors=True)
    with lock(key, progress):
        if path.is_dir():  # another process made it while this one waited
            return path
        return make_store(entry(key), path)


def make_store(source: Path, path: Path) -> Path:
    """A new Oxigraph store at `path` holding the graph files of the folder `source`."""
    import pyoxigraph as ox

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{STORE_DIR}.", dir=path.parent))
    try:
        store = ox.Store(str(tmp / STORE_DIR))
        for name, filename in GRAPH_FILES.items():
            store.bulk_load(path=str(source / filename), format=ox.RdfFormat.N_TRIPLES,
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


def _store_damage(path: Path, key: str) -> str | None:
    """Why the store at `path` cannot be used, or None: it opens, and each graph that has triples in
    the entry has some in the store (a cheap check; the files it was made from are checked by digest)."""
    import pyoxigraph as ox

    counts = line_counts(key) or {}
    try:
        store = ox.Store.read_only(str(path))
        for name, n in counts.items():
            if n and not store.query(f"ASK {{ GRAPH <{name}> {{ ?s ?p ?o }} }}"):
                return f"its graph {name.rsplit('/', 1)[-1]} is empty"
    except (OSError, ValueError, RuntimeError) as e:
        return str(e).splitlines()[0][:120] if str(e) else type(e).__name__
    return None


def scratch_store(built, progress: Progress | None = None) -> Path:  # BuiltDataset
    """Without a usable cache: an Oxigraph store of `built` in a temporary folder, removed at exit."""
    import atexit

    folder = Path(tempfile.mkdtemp(prefix="jisr-kg-store-"))
    atexit.register(shutil.rmtree, folder, True)
    for name, filename in GRAPH_FILES.items():
        with open(folder / filename, "wb") as f:
            for chunk in _chunks(built.lines[name]):
                f.write(chunk)
    return make_store(folder, folder / STORE_DIR)


# ---------------------------------------------------------------- waiting for one another


_HELD: dict[str, int] = {}  # key -> how many times this process holds its lock (it is re-entrant here)


@contextlib.contextmanager
def lock(key: str, progress: Progress | None = None, wait: float | None = None) -> Iterator[bool]:
    """Hold the lock of `key`'s entry while building it, so that commands started together build it
    once. Yields whether the lock is held: False without a writable cache or after waiting `wait`
    seconds (default LOCK_WAIT, or $JISR_KG_LOCK_WAIT) for another process, which is then not waited for."""
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield True
        finally:
            _HELD[key] -= 1
        return
    import fcntl

    try:
        fd = os.open(cache_root() / f".{key}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield False
        return
    try:
        limit = wait if wait is not None else float(os.environ.get("JISR_KG_LOCK_WAIT", LOCK_WAIT))
        deadline = time.monotonic() + limit
        told = False
        held = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if not told:
                    (progress or _silent)("waiting for another jisr-kg building the same cache entry")
                    told = True
                if time.monotonic() >= deadline:
                    (progress or _silent)(f"gave up waiting after {limit:.0f} s; going on without the lock")
                    break
                time.sleep(0.05)
            except OSError:
                break  # a file system without locks: go on, the entries are still written atomically
        _HELD[key] = 1 if held else 0
        try:
            yield held
        finally:
            _HELD.pop(key, None)
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- other things kept with an entry


def read_extra(key: str, name: str) -> bytes | None:
    """A file kept beside the graphs of a sound entry (the validation report), or None."""
    try:
        return (entry(key) / name).read_bytes()
    except OSError:
        return None


def write_extra(key: str, name: str, data: bytes) -> bool:
    """Keep `data` as `name` in the entry for `key`, atomically; False when it cannot be written."""
    from jisr_kg.fsutil import write_atomic

    if not has(key):
        return False
    try:
        write_atomic(entry(key) / name, data)
    except OSError:
        return False
    return True


def is_entry(path: Path) -> bool:
    """Whether `path` is a folder this cache wrote: its name is a key (32 hex digits) and it holds the
    graph files. Nothing else in the cache folder is ever removed: `JISR_KG_CACHE` may name a folder
    that other programs share."""
    return (len(path.name) == 32 and all(c in "0123456789abcdef" for c in path.name)
            and path.is_dir() and not path.is_symlink() and (path / GRAPH_FILES[ASSERTED_GRAPH]).is_file())


def _prune() -> None:
    try:
        entries = sorted((p for p in cache_root().iterdir() if is_entry(p)), key=lambda p: p.stat().st_mtime,
                         reverse=True)
    except OSError:
        return
    for old in entries[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
