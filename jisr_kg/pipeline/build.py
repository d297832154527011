"""Build: the cached dataset, and the main job that writes a release into `dist/`."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from jisr_kg.fsutil import check_output_dir
from jisr_kg.paths import DEFAULT_REASONER, Inputs, inputs
from jisr_kg.pipeline import cache

Progress = Callable[[str], None]


def build_dataset(
    data: Path | list[Path] | None = None,
    *,
    reasoner: str = DEFAULT_REASONER,
    profile: str = "owlrl",
    use_cache: bool = True,
    progress: Progress | None = None,
    before_reasoning: Callable[..., object] | None = None,
    beside_consensus: Callable[..., object] | None = None,
):  # returns dataset.BuiltDataset
    """Load, derive the consensus view and reason, or take the result from the cache when the inputs
    have not changed. A damaged cache entry is rebuilt (with a note); commands that start together on
    a cold cache build it once, the others wait for it. `before_reasoning`, `beside_consensus`: see
    `compile_dataset` (called only when the dataset is built, not when it comes from the cache)."""
    inp = _inputs(data, reasoner, profile)
    key = inp.key()
    if not use_cache:
        return _compile(inp, reasoner, profile, progress, before_reasoning, beside_consensus)
    if key in _LOADED:
        _LOADED[key] = _LOADED.pop(key)  # the most recently used goes last
        return _LOADED[key]
    cached = cache.load(key, progress)
    if cached is None:
        with cache.lock(key, progress):
            cached = cache.load(key, progress)  # built by another process while this one waited
            if cached is None:
                cached = _compile(inp, reasoner, profile, progress, before_reasoning, beside_consensus)
                cache.save(cached, progress)
    _remember(key, cached)
    return cached


def _compile(inp: Inputs, reasoner: str, profile: str, progress: Progress | None,
             before_reasoning: Callable[..., object] | None = None,
             beside_consensus: Callable[..., object] | None = None):
    from jisr_kg.pipeline.dataset import compile_dataset

    return compile_dataset(inp, reasoner=reasoner, profile=profile, progress=progress,  # type: ignore[arg-type]
                           before_reasoning=before_reasoning, beside_consensus=beside_consensus)


#: Datasets this process has loaded, by key, least recently used first: a library user (or a test)
#: running many queries pays for parsing the cache once. Inputs that change get a new key; a
#: long-running process (the server, a notebook) keeps at most LOADED_MAX of them in memory.
_LOADED: dict = {}
LOADED_MAX = 2
#: Stores made in a temporary folder when the cache cannot be written, by key.
_SCRATCH: dict[str, Path] = {}


def _remember(key: str, built) -> None:  # dataset.BuiltDataset
    _LOADED[key] = built
    while len(_LOADED) > LOADED_MAX:
        del _LOADED[next(iter(_LOADED))]


def ensure_store(
    data: Path | list[Path] | None = None, *, reasoner: str = DEFAULT_REASONER, profile: str = "owlrl",
    progress: Progress | None = None,
) -> Path:
    """The on-disk Oxigraph store of the built dataset, built first if the inputs changed (or was
    damaged). Without a writable cache, a store in a temporary folder, removed at exit."""
    inp = _inputs(data, reasoner, profile)
    key = inp.key()
    if key in _SCRATCH:
        return _SCRATCH[key]
    if not cache.has(key):
        built = build_dataset(data, reasoner=reasoner, profile=profile, progress=progress)
        if not cache.has(key):  # the cache could not be written
            _SCRATCH[key] = cache.scratch_store(built, progress)
            return _SCRATCH[key]
    try:
        return cache.store_path(key, progress)
    except OSError as e:  # e.g. a read-only cache that has the graphs but no store yet
        (progress or (lambda _m: None))(f"warning: cannot make the store in the cache ({e}); using a temporary one")
        _SCRATCH[key] = cache.scratch_store(build_dataset(data, reasoner=reasoner, profile=profile,
                                                          progress=progress), progress)
        return _SCRATCH[key]


def validated(
    data: Path | list[Path] | None = None, *, reasoner: str = DEFAULT_REASONER, validator: str = "sparql",
    progress: Progress | None = None,
):  # returns validate.ValidationReport
    """The validation report of the built dataset: the one kept in the cache when the inputs, the
    shapes and the validator are unchanged (without reading the graphs), else validated now."""
    from jisr_kg.pipeline.validate import cached_report, validate_dataset

    key = _inputs(data, reasoner, "owlrl").key()
    if key not in _LOADED and cache.has(key):
        found = cached_report(_Keyed(key), validator=validator, progress=progress)
        if found is not None:
            return found
    built = build_dataset(data, reasoner=reasoner, progress=progress)
    if progress:
        progress("validating")
    return validate_dataset(built, validator=validator, progress=progress)


@dataclass
class _Keyed:
    key: str


def _inputs(data: Path | list[Path] | None, reasoner: str, profile: str) -> Inputs:
    inp = inputs(data, reasoner=reasoner)
    if profile != "owlrl":
        inp = Inputs(inp.ontology, inp.data, inp.consensus_query, inp.shapes, (*inp.extra, ("profile", profile)))
    return inp


# ---------------------------------------------------------------- the release


@dataclass
class BuildSummary:
    out_dir: Path
    files: dict[str, int] = field(default_factory=dict)  # name -> bytes
    triples: dict[str, int] = field(default_factory=dict)  # graph -> triples
    violations: int = 0
    warnings: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def build_release(
    out_dir: Path = Path("dist"),
    data: Path | list[Path] | None = None,
    *,
    reasoner: str = DEFAULT_REASONER,
    profile: str = "owlrl",
    progress: Progress | None = None,
    strict: bool = True,
    validator: str = "sparql",
) -> BuildSummary:
    """The main job: load, reason, validate, and export every format into `out_dir`, with a VoID
    description. Everything is written into a temporary folder first and moved into place only when
    all of it succeeded, so that a failed or interrupted build leaves the old release untouched.

    Each file is written as a stream (memory holds the sorted lines, not the files). A release that
    this build wrote before from the same inputs, shapes and validator, and that nobody has touched
    since (every file's size, mtime and inode as recorded), is left as it is."""
    from jisr_kg.fsutil import default_mode, mark, swap_in
    from jisr_kg.pipeline.void import describe

    say = progress or (lambda _msg: None)
    target = check_release_dir(out_dir, data)
    summary = BuildSummary(out_dir)
    inp = _inputs(data, reasoner, profile)
    same = _unchanged_release(target, inp, validator, summary)
    if same:
        say(f"{out_dir} holds the release of these inputs already")
        return summary
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    # The work of the release is two lists of tasks (see `_release_tasks`): what needs no inferred
    # triple, and the rest. A forked child starts on the first list while this process reasons; once
    # the dataset is built, this process and the validating child take the tasks left in both lists,
    # until none is left: the two cores stay busy whichever side has more work at this scale.
    first, second = _TaskCounter(), _TaskCounter()
    early = _EarlyChild(tmp, first)
    # What this process works out from the asserted graph while a child derives the consensus view
    # (about as long as that takes at 100x): the validator's store with that graph loaded (the
    # validating child, forked later, completes it), and what the exports read the graph for.
    started: list = []
    facts: dict[str, object] = {}

    def beside_consensus(asserted: list[str]) -> None:
        from jisr_kg.pipeline.dataset import BuiltDataset
        from jisr_kg.pipeline.export import graph_facts
        from jisr_kg.pipeline.validate import start_store
        from jisr_kg.rdf.namespaces import ASSERTED_GRAPH

        started.append(start_store({ASSERTED_GRAPH: asserted}, validator=validator))
        facts.update(graph_facts(BuiltDataset({ASSERTED_GRAPH: asserted}, ""), ASSERTED_GRAPH))

    def before_reasoning(partial) -> None:  # dataset.BuiltDataset of the asserted and consensus graphs
        partial._derived.update(facts)
        early.start(partial)

    try:
        t = time.perf_counter()
        built = build_dataset(data, reasoner=reasoner, profile=profile, progress=progress,
                              before_reasoning=before_reasoning, beside_consensus=beside_consensus)
        built = _from_files_if_large(built)
        built._derived.update(facts)
        summary.seconds["load and reason"] = time.perf_counter() - t
        summary.triples = {name.rsplit("/", 1)[-1]: built.count(name) for name in built.names()}
        lists = [(_release_tasks(built, tmp, inferred=False), first),
                 (_release_tasks(built, tmp, inferred=True), second)]

        def drain() -> dict[str, object]:
            return {name: result for tasks, taken in lists for name, result in _drain(tasks, taken).items()}

        say("validating and exporting")
        t = time.perf_counter()
        report, done, more = validate_beside(built, drain, validator=validator, progress=progress, also=drain,
                                             started=started[0] if started else None)
        started.clear()
        done.update(more)  # type: ignore[arg-type]
        done.update(early.result())
        summary.seconds["validate and export"] = time.perf_counter() - t
        summary.violations, summary.warnings = report.count("Violation"), report.count("Warning")
        if strict and report.has_violations:
            from jisr_kg.errors import CheckFailed
            from jisr_kg.pipeline.validate import ValidationReport

            violations = ValidationReport([r for r in report.results if r.severity == "Violation"], None)
            raise CheckFailed(f"the data does not conform: {summary.violations} violations "
                              "(listed above; `jisr-kg validate` shows the whole report); nothing was written",
                              details=violations.format("text"))

        say(f"writing {out_dir}")
        counts = {name[len(_COUNTS):]: value for name, value in done.items() if name.startswith(_COUNTS)}
        files = {name: value for name, value in done.items() if not name.startswith(_COUNTS)}
        text = report.format("text").encode("utf-8")
        files["validation-report.txt"] = _write(tmp / "validation-report.txt", lambda out: out.write(text))
        # the schema the data follows and the shapes that checked it travel with the release, as they are
        for path in (*inp.ontology, inp.shapes):
            raw = path.read_bytes()
            files[path.name] = _write(tmp / path.name, lambda out, r=raw: out.write(r))
        void = describe(built, files, counts)  # type: ignore[arg-type]
        files["void.ttl"] = _write(tmp / "void.ttl", lambda out: out.write(void))
        os.chmod(tmp, default_mode(directory=True))
        mark(tmp, "build")
        swap_in(tmp, target)
    finally:
        early.stop()
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    summary.files = {name: size for name, (size, _digest) in sorted(files.items())}
    _record_release(target, built.key, inp.shapes, validator, summary)
    return summary


#: Above this many triples a release is written from the graph files of the cache entry, read again
#: for each file, not from the lines in memory (about 300 bytes a triple: 4 GB at 1000 times our
#: data). Besides their own size, lines in memory cost as much again while the validating child runs:
#: each process that reads a line object writes its reference count, and the page is copied.
RELEASE_FROM_FILES_MIN = 3_000_000


def _from_files_if_large(built):  # dataset.BuiltDataset in and out
    """`built`, or for a large one the same graphs read from its cache entry (then the lines in memory
    are let go: the entry's files are what a later command of this process reads anyway)."""
    from jisr_kg.pipeline.dataset import release_memory

    if sum(built.count(name) for name in built.names()) <= RELEASE_FROM_FILES_MIN:
        return built
    on_disk = cache.file_backed(built.key)
    if on_disk is None:  # no cache that could be written: from memory, then
        return built
    _LOADED.pop(built.key, None)
    del built
    release_memory()
    return on_disk


#: The export formats, slowest first (CPU at 10 and 100 times our data): see `_release_tasks`.
_EXPORT_ORDER = ("jsonld", "trig", "xml", "turtle", "nquads", "ntriples")
#: The names of the tasks that count a graph for the VoID description (the graph's IRI follows).
_COUNTS = "counts "

Task = tuple[str, Callable[[], object]]


def _release_tasks(built, tmp: Path, *, inferred: bool) -> list[Task]:  # built: dataset.BuiltDataset
    """The work of writing a release from `built` into `tmp`, as named tasks that any process holding
    the same graphs can run, in any order: each file (its result: size and sha256) and the VoID
    counts of each graph (`_COUNTS` + its IRI). `inferred=False`: the tasks that read no inferred
    triple, which `built` need not hold yet; else the others. Slowest first, so that the last task to
    finish is a short one."""
    from jisr_kg.pipeline.export import FORMATS, consensus_lines, stream_export, stream_lines
    from jisr_kg.pipeline.void import GraphCounts
    from jisr_kg.rdf import formats
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH

    def file(name: str, write: Callable[[BinaryIO], object]) -> Task:
        return name, lambda: _write(tmp / name, write)

    def counts(name: str) -> Task:
        return _COUNTS + name, lambda: GraphCounts.of(built.lines[name])

    order = sorted(FORMATS, key=lambda f: _EXPORT_ORDER.index(f) if f in _EXPORT_ORDER else len(_EXPORT_ORDER))
    tasks = [file(f"jisr-kg{'-inferred' if inferred else ''}{formats.rdf(fmt).extension}",
                  lambda out, f=fmt: stream_export(built, f, out, infer=inferred))
             for fmt in order]
    if inferred:
        return [*tasks, counts(INFERRED_GRAPH)]
    consensus = file("jisr-kg-consensus.ttl", lambda out: stream_lines(lambda: consensus_lines(built), "turtle", out))
    return [consensus, *tasks, counts(ASSERTED_GRAPH), counts(CONSENSUS_GRAPH)]


def _drain(tasks: list[Task], taken: _TaskCounter) -> dict[str, object]:
    """Run the tasks no other process has taken, until none is left; their results by name."""
    done: dict[str, object] = {}
    while (i := taken.next()) < len(tasks):
        name, run = tasks[i]
        done[name] = run()
    return done


class _EarlyChild:
    """A forked child that runs the release's first tasks (those that read no inferred triple) while
    this process reasons, sharing them through `taken` with whoever takes the rest after reasoning.
    Not started where `forked.can_fork` says no, or for a large dataset, where the child would copy
    the pages of every line it reads."""

    def __init__(self, tmp: Path, taken: _TaskCounter) -> None:
        self.tmp, self.taken = tmp, taken
        self.child = None  # forked.Forked

    def start(self, built) -> None:  # dataset.BuiltDataset of the asserted and consensus graphs
        from jisr_kg.pipeline.forked import Forked, can_fork

        if not can_fork() or sum(built.count(name) for name in built.lines) > RELEASE_FROM_FILES_MIN:
            return
        tasks = _release_tasks(built, self.tmp, inferred=False)
        self.child = Forked(lambda: _drain(tasks, self.taken), "the process writing the release's files")

    def result(self) -> dict[str, object]:
        """What the child's tasks gave (waiting for it to finish); an error it met is raised here."""
        return {} if self.child is None else self.child.result()

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()


class _TaskCounter:
    """The index of the next task, shared by this process and a child forked after it was made."""

    def __init__(self) -> None:
        import multiprocessing

        try:
            self._value = multiprocessing.get_context("fork").Value("l", 0)
        except ValueError:  # no fork (Windows): one process takes every task
            self._value = multiprocessing.Value("l", 0)

    def next(self) -> int:
        with self._value.get_lock():
            i = self._value.value
            self._value.value = i + 1
        return i


def _write(path: Path, write: Callable[[BinaryIO], object]) -> tuple[int, str]:
    """Write a file through `write(out)`, and return its size and sha256 (for the VoID description)."""
    from jisr_kg.fsutil import default_mode

    class Hashing:
        def __init__(self, f: BinaryIO) -> None:
            self.f, self.h, self.size = f, hashlib.sha256(), 0

        def write(self, data: bytes) -> int:
            self.h.update(data)
            self.size += len(data)
            return self.f.write(data)

        def flush(self) -> None:
            self.f.flush()

    with open(path, "wb", buffering=1 << 20) as f:
        out = Hashing(f)
        write(out)  # type: ignore[arg-type]
    os.chmod(path, default_mode())
    return out.size, out.h.hexdigest()


# A record of the last release written from a cache entry, kept in the entry: (folder, validator,
# shapes) -> each file's size, mtime and inode, and the summary. A later build with the same inputs
# that finds the folder exactly so has nothing to do (git's index works the same way).


def _release_record_name(target: Path, validator: str, shapes: Path) -> str:
    try:
        shapes_digest = hashlib.sha256(shapes.read_bytes()).hexdigest()
    except OSError:
        shapes_digest = "?"
    h = hashlib.sha256(f"{target}\0{validator}\0{shapes_digest}".encode()).hexdigest()[:24]
    return f"release-{h}.json"


def _stamps(folder: Path) -> dict[str, list[int]] | None:
    try:
        return {p.name: [st.st_size, st.st_mtime_ns, st.st_ino]
                for p in folder.iterdir() for st in [p.stat()] if p.is_file()}
    except OSError:
        return None


def _record_release(target: Path, key: str, shapes: Path, validator: str, summary: BuildSummary) -> None:
    import json

    stamps = _stamps(target)
    if stamps is None or not cache.has(key):
        return
    doc = {"files": stamps, "sizes": summary.files, "triples": summary.triples,
           "violations": summary.violations, "warnings": summary.warnings}
    cache.write_extra(key, _release_record_name(target, validator, shapes), json.dumps(doc).encode())


def _unchanged_release(target: Path, inp: Inputs, validator: str, summary: BuildSummary) -> bool:
    """Whether `target` holds, untouched, the release this build would write; if so, fill `summary`."""
    import json

    if not target.is_dir():
        return False
    key = inp.key()
    raw = cache.read_extra(key, _release_record_name(target, validator, inp.shapes))
    if raw is None or not cache.has(key):
        return False
    try:
        doc = json.loads(raw)
        if _stamps(target) != doc["files"]:
            return False
        summary.files = {str(k): int(v) for k, v in doc["sizes"].items()}
        summary.triples = {str(k): int(v) for k, v in doc["triples"].items()}
        summary.violations, summary.warnings = int(doc["violations"]), int(doc["warnings"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return True


T = TypeVar("T")


def validate_beside(built, work: Callable[[], T], *, validator: str = "sparql",
                    progress: Progress | None = None, also: Callable[[], object] | None = None,
                    started=None):  # started: validate.StartedStore
    """Validate `built` in a forked child process while `work` runs in this one: the validation and
    the exports each keep one core busy, so on two cores a release takes about as long as the slower
    of the two. `also` (some of the exports) runs in the child after the validation, to even out the
    two; then the result is (report, work's, also's), else (report, work's). Where there is no fork
    (Windows), one after the other. `started`: see `validate.validate_dataset`."""
    from jisr_kg.pipeline.forked import Forked, can_fork
    from jisr_kg.pipeline.validate import DEFAULT_VALIDATOR, cached_report, validate_dataset

    def done(report, result):
        return (report, result) if also is None else (report, result, also())

    cached = cached_report(built, validator=validator, progress=progress)
    if cached is not None:  # validated before with these inputs and shapes: nothing to fork for
        return done(cached, work())
    if not can_fork():
        # the plain call for the default validator (what a library user or test may stand in for)
        options = {} if validator == DEFAULT_VALIDATOR else {"validator": validator}
        if started is not None:
            options["started"] = started
        return done(validate_dataset(built, **options), work())

    def validate_then_also() -> tuple:  # in the child, which has this process's memory: nothing pickled in
        return validate_dataset(built, validator=validator, started=started), also() if also is not None else None

    child = Forked(validate_then_also, "the validating process")
    try:
        result = work()
        report, more = child.result()
    finally:
        child.stop()
    return (report, result) if also is None else (report, result, more)


#: What a release folder held before releases carried the marker: such a folder may be replaced too.
LEGACY_RELEASE = frozenset(
    [f"jisr-kg{s}" for s in (".ttl", ".trig", ".nt", ".nq", ".jsonld", ".rdf")]
    + [f"jisr-kg-inferred{s}" for s in (".ttl", ".trig", ".nt", ".nq", ".jsonld", ".rdf")]
    + ["jisr-kg-consensus.ttl", "validation-report.txt", "void.ttl"]
)


def check_release_dir(out_dir: Path, data: Path | list[Path] | None = None) -> Path:
    """The release folder, if `build` may write it (see fsutil.check_output_dir); the inputs are
    protected."""
    return check_output_dir(out_dir, "build", protected=input_paths(data), legacy_names=LEGACY_RELEASE)


def input_paths(data: Path | list[Path] | None = None) -> list[Path]:
    """What a command reads and so must never write: the data, the ontology and the stored queries."""
    from jisr_kg.paths import project_root

    root = project_root()
    given = [] if data is None else ([data] if isinstance(data, Path) else list(data))
    return [root / "data", root / "ontology", root / "queries", *given]
