#!/usr/bin/env python
"""Benchmark jisr-kg at 1x, 10x and 100x the project's data, beside Oxigraph's and reasonable's own tools.

    python benchmarks/run.py [--scales 1,10,100] [--runs 5] [--skip-slow | --include-slow]

For each scale K, `jisr-kg synth --scale K --share actor:wikipedia-authors` writes K renamed copies of
`data/` into a temporary folder (sharing the article-voice claimant, so that the consensus view and
the entailments grow K-fold like the rest), and then:

- Pipeline steps, in a fresh Python process per run, each step timed on its own (perf_counter) with the
  process's peak resident memory during the step (sampled from /proc every 5 ms): parse (what `load`
  does), consensus, reason with rules (the default), owlrl and reasonable, validate (pyshacl), each
  export format (as `build` writes it: without and with the entailments), writing the cache entry
  (sorted N-Triples) and loading it back, and reasonable alone (its own parser on the same N-Triples, no rdflib).
- Commands, each a new process, timed from start to exit with its peak memory (wait4): `jisr-kg build`
  with an empty cache (the default reasoner, and `--reasoner owlrl`), a cold `jisr-kg query` (empty cache: it
  builds first) and a repeated one (warm cache: it opens the cached Oxigraph store), `jisr-kg push` to a
  local `oxigraph serve`; and beside them the same work done by `oxigraph load` (the data files into a
  new store), `oxigraph query` (every stored query on a copy of the very store `jisr-kg query` reads)
  and a bare Graph Store PUT of the same N-Triples with urllib.

Each measurement is repeated `--runs` times (the median is reported) unless the runs would exceed
`--budget` seconds, then fewer (at least one; the count is reported). A step estimated to take longer
than `--slow` seconds (default 600; from the two smaller scales, by a power law in the number of
triples) is skipped and reported as "skipped (est. ...)" (plain owlrl at 100x would take about 17 minutes;
`--reasoner owlrl`, which leaves out the premises no rule can use, about 3).
`--include-slow` runs everything, `--skip-slow` skips anything estimated over 30 s.

Writes docs/benchmarks.md (only between `<!-- bench:start -->` and `<!-- bench:end -->`), benchmarks/results.json
and docs/benchmarks.png.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PY = sys.executable
QUERY = "claims-by-claimant"  # the representative stored query: a join of claims, claimants, quotes
SHARE = "actor:wikipedia-authors"
from jisr_kg.rdf.formats import RDF_NAMES as EXPORT_FORMATS  # noqa: E402

GRAPHS = ("asserted", "consensus", "inferred")
TARGETS = {  # (what, scale) -> seconds (issue 15)
    ("build", 1): 0.8,
    ("build", 10): 4.0,
    ("build", 100): 30.0,
    ("build repeated", 1): 0.3,
    ("validate repeated", 1): 0.3,
    ("query warm", 1): 0.1,
}
MEMORY_TARGETS = {("build", 100): 1.5 * 2**30, ("build", 1000): 8 * 2**30}  # (what, scale) -> peak bytes
QUERY_RATIO_TARGET = 1.5
BUILD = {"rules": "build", "owlrl": "build owlrl"}  # the step name of `jisr-kg build --reasoner R`
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


# ================================================================ the worker (one pipeline run)


class PeakRSS:
    """The largest resident set size of this process while the block runs (sampled every 5 ms)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(0.005)

    def __enter__(self) -> PeakRSS:
        self.peak = self.rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def worker(data: Path, reasoners: list[str], out: Path, *, pyshacl: bool = True, reasonable: bool = True) -> None:
    """One run of the pipeline steps on `data`; writes {step: [seconds, peak bytes]} to `out`."""
    from jisr_kg.paths import inputs
    from jisr_kg.pipeline import cache
    from jisr_kg.pipeline.dataset import BuiltDataset, consensus_view
    from jisr_kg.pipeline.export import consensus_lines, stream_export, stream_lines
    from jisr_kg.pipeline.load import parse_files
    from jisr_kg.pipeline.reason import entailments
    from jisr_kg.pipeline.validate import validate_dataset
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH

    results: dict[str, list[float]] = {}

    def timed(name: str, fn):
        with PeakRSS() as mem:
            t = time.perf_counter()
            value = fn()
            seconds = time.perf_counter() - t
        results[name] = [seconds, mem.peak]
        out.write_text(json.dumps(results))  # what is done so far, should a later step fail
        return value

    inp = inputs(data)

    asserted = timed("parse", lambda: parse_files(inp.rdf))
    consensus = timed("consensus", lambda: consensus_view(asserted, inp.consensus_query.read_text(encoding="utf-8")))
    base = asserted | consensus
    inferred = None
    for reasoner in reasoners:
        got = timed(f"reason {reasoner}", lambda r=reasoner: entailments(base, reasoner=r))
        if reasoner == "rules" or inferred is None:
            inferred = got
    assert inferred is not None
    built = BuiltDataset({ASSERTED_GRAPH: sorted(asserted), CONSENSUS_GRAPH: sorted(consensus),
                          INFERRED_GRAPH: sorted(inferred)}, inp.key())
    sizes = [len(asserted), len(consensus), len(inferred)]
    inferred = set()

    asserted = consensus = base = set()  # as `build` holds them: the sorted lines only
    with tempfile.TemporaryDirectory(prefix="jisr-bench-") as tmp:
        if reasonable:
            nt = []
            for name in (ASSERTED_GRAPH, CONSENSUS_GRAPH):
                path = Path(tmp) / f"{name.rsplit('/', 1)[-1]}.ttl"  # N-Triples is Turtle: reasonable reads .ttl
                path.write_text("".join(line + "\n" for line in built.lines[name]), encoding="utf-8")
                nt.append(path)

            def reasonable_alone() -> int:
                import reasonable

                r = reasonable.PyReasoner()
                for path in nt:
                    r.load_file(str(path))
                return len(r.reason())

            timed("reasonable alone", reasonable_alone)
        os.environ["JISR_KG_CACHE"] = str(Path(tmp) / "cache")
        timed("write cache", lambda: cache.save(built))
        timed("make store", lambda: cache.store_path(built.key))
        timed("validate", lambda: validate_dataset(built, use_cache=False))
        if pyshacl:
            timed("validate pyshacl", lambda: validate_dataset(built, validator="pyshacl", use_cache=False))
        target = Path(tmp) / "out"

        def write(fn) -> None:
            with open(target, "wb") as f:
                fn(f)

        for fmt in EXPORT_FORMATS:
            timed(f"export {fmt}", lambda f=fmt: (write(lambda o: stream_export(built, f, o, infer=False)),
                                                  write(lambda o: stream_export(built, f, o, infer=True))))
        timed("export consensus view",
              lambda: write(lambda o: stream_lines(lambda: consensus_lines(built), "turtle", o)))
        built = None  # what a repeated command starts from
        timed("load cache", lambda: cache.load(inp.key()))
    results["triples"] = sizes
    out.write_text(json.dumps(results))


# ================================================================ measuring processes


class Timeout(Exception):
    """A process ran past its time limit and was killed."""


TIME = "/usr/bin/time" if Path("/usr/bin/time").is_file() else None  # GNU time: the peak RSS of one command


def run_process(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 3600,
                stamps: list | None = None) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS bytes, exit code, stderr tail) of one process.

    The peak memory comes from GNU time (`%M`) when it is there, so that it is the command's own and
    not the benchmark's (a child forked from this process starts out sharing its pages); otherwise from
    wait4. With `stamps`, every line the process writes to stderr is recorded as (seconds since start,
    line) when it arrives: the progress messages of `jisr-kg build` mark where its time goes.
    """
    mem = tempfile.NamedTemporaryFile(prefix="rss-", delete=False)
    mem.close()
    full = [TIME, "-f", "%M", "-o", mem.name, *cmd] if TIME else cmd
    lines: list[str] = []
    t = time.perf_counter()
    proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT,
                            start_new_session=True)

    def read() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            lines.append(line)
            if stamps is not None:
                stamps.append((time.perf_counter() - t, line))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _pid, status, usage = _wait(proc.pid, t + timeout)
    except Timeout:
        os.killpg(proc.pid, 9)
        os.wait4(proc.pid, 0)
        proc.returncode = -9
        reader.join(5)
        os.unlink(mem.name)
        raise Timeout(f"{' '.join(cmd[:6])} ran over {timeout:g} s") from None
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(10)
    peak = usage.ru_maxrss * 1024
    if TIME:
        try:
            peak = int(Path(mem.name).read_text().strip().splitlines()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    os.unlink(mem.name)
    return seconds, peak, proc.returncode, "\n".join(lines)[-2000:]


def _wait(pid: int, deadline: float):
    delay = 0.0005
    while True:
        got = os.wait4(pid, os.WNOHANG)
        if got[0]:
            return got
        if time.perf_counter() > deadline:
            raise Timeout
        time.sleep(delay)
        delay = min(delay * 2, 0.005)


class Runner:
    def __init__(self, runs: int, budget: float) -> None:
        self.runs, self.budget = runs, budget

    def repeat(self, once, label: str) -> dict:
        """Run `once()` -> (seconds, peak bytes) up to `runs` times within the budget; the summary."""
        times, peaks, spent = [], [], 0.0
        for i in range(self.runs):
            try:
                seconds, peak = once()
            except Timeout as e:
                print(f"    {label:38} timeout: {e}", flush=True)
                return {"status": "timeout", "message": str(e)}
            except (RuntimeError, OSError) as e:
                print(f"    {label:38} FAILED: {e}", flush=True)
                return {"status": "failed", "message": str(e)[-500:]}
            times.append(seconds)
            peaks.append(peak)
            spent += seconds
            if i + 1 < self.runs and spent + seconds > self.budget:
                break
        entry = {"status": "ok", "runs": times, "peak_bytes": peaks, "median": statistics.median(times),
                 "peak_median": statistics.median(peaks)}
        print(f"    {label:38} {fmt_s(entry['median']):>10}  {fmt_mb(entry['peak_median']):>8}  n={len(times)}",
              flush=True)
        return entry


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 0.1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


def fmt_mb(nbytes: float | None) -> str:
    return "-" if nbytes is None else f"{nbytes / 2**20:.0f} MB"


# ================================================================ the stores


def oxigraph_command() -> str:
    beside = Path(PY).parent / "oxigraph"
    found = str(beside) if beside.is_file() else shutil.which("oxigraph")
    if not found:
        sys.exit("the `oxigraph` command is not installed: pip install -e '.[bench]'")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A local `oxigraph serve` in a temporary folder."""

    def __init__(self, location: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([oxigraph_command(), "serve", "--location", str(location), "--bind",
                                      f"127.0.0.1:{self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/query?query=ASK%7B%7D", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("oxigraph serve did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def raw_put(url: str, files: list[tuple[str, Path]]) -> None:
    """The bare Graph Store protocol work of a push: one PUT of each N-Triples file, nothing else."""
    for graph, path in files:
        target = f"{url}/store?" + urllib.parse.urlencode({"graph": graph})
        req = urllib.request.Request(target, data=path.read_bytes(), method="PUT",
                                     headers={"Content-Type": "application/n-triples"})
        with urllib.request.urlopen(req, timeout=3600) as r:
            assert r.status in (200, 201, 204)


# ================================================================ one scale


def estimate(points: list[tuple[int, float]], triples: int) -> float | None:
    """A step's time at `triples`, from (triples, seconds) measured at smaller scales: a power law
    through the two largest, never less than linear."""
    points = [(n, t) for n, t in points if t and t > 0]
    if not points:
        return None
    if len(points) == 1:
        (n0, t0), = points
        return t0 * triples / n0
    (n0, t0), (n1, t1) = points[-2:]
    b = max(1.0, math.log(t1 / t0) / math.log(n1 / n0)) if n1 != n0 else 1.0
    return t1 * (triples / n1) ** b


def history(results: dict, scale: int, get) -> list[tuple[int, float]]:
    """(asserted triples, median seconds) of a measurement at the scales below `scale`."""
    points = []
    for k in sorted(results, key=int):
        if int(k) < scale:
            entry = get(results[k])
            if entry and entry.get("status") == "ok":
                points.append((results[k]["triples"]["asserted"], entry["median"]))
    return points


BUILD_PHASES = (  # the progress message that starts each phase of `jisr-kg build`
    ("parsing", "parse"),
    ("deriving the consensus view", "consensus"),
    ("reasoning", "reason + write the cache"),
    ("validating and exporting", "validate (child process) beside the exports"),
    ("writing", "VoID + publish"),
)


def phases(stamps: list[tuple[float, str]], total: float) -> dict[str, float]:
    """Seconds per phase of a build, from the times its progress messages arrived."""
    marks = [(0.0, "start-up, imports, hashing the inputs")]
    for at, line in stamps:
        text = line.removeprefix("jisr-kg: ")
        for prefix, name in BUILD_PHASES:
            if text.startswith(prefix):
                marks.append((at, name))
    marks.append((total, "end"))
    out: dict[str, float] = {}
    for (at, name), (nxt, _) in zip(marks, marks[1:]):
        out[name] = out.get(name, 0.0) + (nxt - at)
    return out


def void_sizes(void: Path) -> dict[str, int]:
    """Triples per graph (asserted, consensus, inferred) as the release's VoID description counts them."""
    import pyoxigraph as ox

    triples = ox.NamedNode("http://rdfs.org/ns/void#triples")
    graphs = {ox.NamedNode(f"https://w3id.org/jisr-kg/graph/{name}"): name for name in GRAPHS}
    return {graphs[t.subject]: int(t.object.value) for t in ox.parse(path=str(void), format=ox.RdfFormat.TURTLE)
            if t.predicate == triples and t.subject in graphs}


def bench_scale(scale: int, args: argparse.Namespace, runner: Runner, results: dict, work: Path) -> dict:
    print(f"== {scale}x (load average {os.getloadavg()[0]:.1f})", flush=True)
    here: dict = {"steps": {}, "queries": {}, "build phases": {}, "load average": [os.getloadavg()[0]]}
    steps = here["steps"]
    data = work / f"x{scale}"
    # with Python's bytecode cache, as an installed package runs (compiled once beforehand, so that
    # no run pays for it); a PYTHONDONTWRITEBYTECODE in the environment would add ~15 ms to each start
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "jisr_kg")], check=False)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.root:  # another project folder (ontology, queries) for every command and worker
        env["JISR_KG_ROOT"] = str(args.root)
    jisr = [PY, "-m", "jisr_kg", "-q"]

    seconds, peak, rc, err = run_process([*jisr, "synth", "--scale", str(scale), "-o", str(data), "--share", SHARE],
                                         env=env)
    if rc:
        sys.exit(f"synth failed: {err}")
    steps["synth"] = {"status": "ok", "runs": [seconds], "peak_bytes": [peak], "median": seconds, "peak_median": peak}
    import pyoxigraph as ox  # the input's size, before anything runs, for the estimates

    files = [ROOT / "ontology" / "ontology.ttl", *sorted(data.glob("*.ttl"))]
    if args.build_only:
        # a set of every parsed triple is several GB at 1000x, beside the build being measured: the
        # sizes come from the release's VoID instead (below)
        n = 0
    else:
        n = len({t for f in files for t in ox.parse(path=str(f), format=ox.RdfFormat.TURTLE)})
        here["triples"] = {"asserted": n}

    def skipped(name: str, get=None, limit: float | None = None) -> bool:
        limit = args.slow if limit is None else limit
        if args.slow is None or args.build_only:
            return False
        est = estimate(history(results, scale, get or (lambda r: r["steps"].get(name))), n)
        if est is not None and est > limit:
            entry = {"status": "skipped", "estimate": est}
            print(f"    {name:38} skipped (est. {fmt_s(est)})", flush=True)
            if get is None:
                steps[name] = entry
            return True
        return False

    # ---- pipeline steps, in worker processes (owlrl left out when its estimate is over the limit)
    probe = work / f"probe-{scale}.json"
    reasoners = ["rules", "reasonable"] if skipped("reason owlrl") else ["rules", "owlrl", "reasonable"]
    if args.focus:
        reasoners = ["rules"]
    with_pyshacl = scale <= args.pyshacl_max
    pipeline: list[dict] = []

    def one_pipeline() -> tuple[float, int]:
        seconds, peak, rc, err = run_process(
            [PY, __file__, "--worker", str(data), "--worker-out", str(probe),
             "--worker-reasoners", ",".join(reasoners),
             *([] if with_pyshacl else ["--worker-no-pyshacl"]), *(["--worker-no-reasonable"] if args.focus else [])],
            env=env, timeout=args.timeout)
        if rc:
            raise RuntimeError(f"pipeline worker failed ({rc}): {err}")
        pipeline.append(json.loads(probe.read_text()))
        return seconds, peak

    if not args.build_only:
        runner.repeat(one_pipeline, "pipeline worker (all steps)")
        if not pipeline or "triples" not in pipeline[0]:
            sys.exit(f"the pipeline worker failed at {scale}x; see above")
        sizes = pipeline[0].pop("triples")
        here["triples"] = dict(zip(("asserted", "consensus", "inferred"), sizes))
        for run in pipeline[1:]:
            run.pop("triples", None)
    for name in pipeline[0] if pipeline else ():
        times = [run[name][0] for run in pipeline]
        peaks = [run[name][1] for run in pipeline]
        steps[name] = {"status": "ok", "runs": times, "peak_bytes": peaks, "median": statistics.median(times),
                       "peak_median": statistics.median(peaks)}
        print(f"    {name:38} {fmt_s(steps[name]['median']):>10}  {fmt_mb(steps[name]['peak_median']):>8}  "
              f"n={len(times)}", flush=True)

    # ---- commands
    def command(name: str, cmd: list[str], *, cache: Path | None = None, cold: bool = False,
                timeout: float | None = None, stamps: list | None = None) -> dict | None:
        if skipped(name):
            return None

        def once() -> tuple[float, int]:
            c = Path(tempfile.mkdtemp(prefix="cache-", dir=work)) if cold else cache
            e = {**env, "JISR_KG_CACHE": str(c)} if c else env
            mine: list = []
            try:
                seconds, peak, rc, err = run_process(cmd, env=e, timeout=timeout or args.timeout, stamps=mine)
            finally:
                if cold:
                    shutil.rmtree(c, ignore_errors=True)
            if rc:
                raise RuntimeError(f"{' '.join(cmd)} failed ({rc}): {err}")
            if stamps is not None:
                stamps.append((seconds, mine))
            return seconds, peak

        steps[name] = runner.repeat(once, name)
        return steps[name]

    dist = work / "dist"
    for reasoner in ("rules",) if args.focus or args.build_only else ("rules", "owlrl"):
        stamps: list = []
        # not quiet: the progress messages on stderr mark the phases
        got = command(BUILD[reasoner], [PY, "-m", "jisr_kg", "--data", str(data), "build", "-o", str(dist),
                                        "--reasoner", reasoner], cold=True, stamps=stamps)
        if got and got["status"] == "ok":
            per_run = [phases(marks, total) for total, marks in stamps]
            here["build phases"][reasoner] = {k: statistics.median(r.get(k, 0.0) for r in per_run) for k in per_run[0]}
    if args.build_only:
        here["triples"] = void_sizes(dist / "void.ttl")
        here["triples source"] = "void"
        here["load average"].append(os.getloadavg()[0])
        return here
    if with_pyshacl:
        command("build pyshacl", [*jisr, "--data", str(data), "build", "-o", str(dist), "--validator", "pyshacl"],
                cold=True)
    command("query cold", [*jisr, "--data", str(data), "query", QUERY], cold=True)
    warm = Path(tempfile.mkdtemp(prefix="cache-warm-", dir=work))
    e = {**env, "JISR_KG_CACHE": str(warm)}
    for first in (["query", QUERY], ["validate"], ["build", "-o", str(dist)]):
        _s, _p, rc, err = run_process([*jisr, "--data", str(data), *first], env=e, timeout=args.timeout)
        if rc:
            sys.exit(f"warming the cache failed: {err}")
    command("query warm", [*jisr, "--data", str(data), "query", QUERY], cache=warm)
    command("validate repeated", [*jisr, "--data", str(data), "validate"], cache=warm)
    command("build repeated", [*jisr, "--data", str(data), "build", "-o", str(dist)], cache=warm)
    if args.focus:
        shutil.rmtree(warm, ignore_errors=True)
        here["load average"].append(os.getloadavg()[0])
        return here

    # ---- the reference tools, on the same input and the same store
    ox_cmd = oxigraph_command()

    def oxigraph_load() -> tuple[float, int]:
        location = Path(tempfile.mkdtemp(prefix="oxload-", dir=work))
        try:
            seconds, peak, rc, err = run_process([ox_cmd, "load", "--location", str(location), "--file",
                                                  *map(str, files)], timeout=args.timeout)
        finally:
            shutil.rmtree(location, ignore_errors=True)
        if rc:
            raise RuntimeError(f"oxigraph load failed: {err}")
        return seconds, peak

    steps["oxigraph load"] = runner.repeat(oxigraph_load, "oxigraph load")

    os.environ["JISR_KG_CACHE"] = str(warm)
    from jisr_kg.pipeline.build import ensure_store  # the cache is warm: this only finds the store
    from jisr_kg.sparql.query import stored_queries, with_prefixes
    from jisr_kg.store.push import query_form

    store = ensure_store(data)
    store_copy = work / f"store-{scale}"
    shutil.copytree(store, store_copy)
    qdir = work / f"queries-{scale}"
    qdir.mkdir()
    # Both sides run the very same text: the stored queries as they were when the benchmark started
    # (`snapshot`), given to `jisr-kg query` as a file, and to `oxigraph query` bound the same way.
    for q in stored_queries(args.snapshot):
        if skipped(f"query {q.name}", lambda r, q=q: (r["queries"].get(q.name) or {}).get("jisr"),
                   limit=min(args.slow or math.inf, args.query_timeout)):
            here["queries"][q.name] = {"status": "skipped", "estimate": estimate(
                history(results, scale, lambda r, q=q: (r["queries"].get(q.name) or {}).get("jisr")), n)}
            continue
        text = with_prefixes(q.bind())
        qfile = qdir / f"{q.name}.rq"
        qfile.write_text(text, encoding="utf-8")
        graph = query_form(text) in ("CONSTRUCT", "DESCRIBE")
        ours = runner.repeat(lambda q=q, graph=graph: _ok(run_process(
            [*jisr, "--data", str(data), "query", str(q.path), "--format",
             "ntriples" if graph else "json"], env=e, timeout=args.query_timeout)), f"jisr-kg query {q.name}")
        theirs = runner.repeat(lambda qfile=qfile, graph=graph: _ok(run_process(
            [ox_cmd, "query", "--location", str(store_copy), "--query-file", str(qfile), "--union-default-graph",
             "--results-format", "nt" if graph else "json"], timeout=args.query_timeout)),
            f"oxigraph query {q.name}")
        entry = {"status": "ok" if ours["status"] == theirs["status"] == "ok" else "timeout",
                 "jisr": ours, "oxigraph": theirs}
        if entry["status"] == "ok":
            entry["ratio"] = ours["median"] / theirs["median"]
        here["queries"][q.name] = entry
    if here["queries"].get(QUERY, {}).get("status") == "ok":
        steps["oxigraph query"] = here["queries"][QUERY]["oxigraph"]

    # ---- push, and the bare protocol work beside it, each run into a new empty `oxigraph serve` (a store
    # that has been PUT into many times grows with every replacement and slows down: not what we measure)
    nt = [(f"https://w3id.org/jisr-kg/graph/{g}", store.parent / f"{g}.nt") for g in GRAPHS]

    def into_new_store(work_on) -> tuple[float, int]:
        location = Path(tempfile.mkdtemp(prefix="server-", dir=work))
        server = Server(location)
        try:
            return work_on(server.url)
        finally:
            server.stop()
            shutil.rmtree(location, ignore_errors=True)

    def push_once(url: str) -> tuple[float, int]:
        return _ok(run_process([*jisr, "--data", str(data), "push", "--endpoint", url],
                               env=e, timeout=args.timeout))

    def put_once(url: str) -> tuple[float, int]:
        t = time.perf_counter()
        raw_put(url, nt)
        return time.perf_counter() - t, 0

    steps["push"] = runner.repeat(lambda: into_new_store(push_once), "push")
    steps["bare GSP PUT"] = runner.repeat(lambda: into_new_store(put_once), "bare GSP PUT (urllib)")
    shutil.rmtree(store_copy, ignore_errors=True)
    shutil.rmtree(warm, ignore_errors=True)
    here["load average"].append(os.getloadavg()[0])
    return here


def _ok(measured: tuple[float, int, int, str]) -> tuple[float, int]:
    seconds, peak, rc, err = measured
    if rc:
        raise RuntimeError(f"failed ({rc}): {err}")
    return seconds, peak


# ================================================================ reporting


def machine() -> dict:
    from importlib import metadata

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    versions = {}
    for pkg in ("jisr-kg", "rdflib", "owlrl", "pyshacl", "pyoxigraph", "oxigraph", "reasonable", "matplotlib"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_bytes": ram, "python": platform.python_version(),
            "platform": platform.platform(), "packages": versions,
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


ROWS = [  # (step, what it is, reference step or None)
    ("parse", "parse the data (Oxigraph's parser, into N-Triples lines)", "oxigraph load"),
    ("consensus", "consensus view (CONSTRUCT on an in-memory Oxigraph store)", None),
    ("reason rules", "reason, rules (default: owlrl on the schema, our rules on the instances)", "reasonable alone"),
    ("reason owlrl", "reason, owlrl (the reference)", "reasonable alone"),
    ("reason reasonable", "reason, reasonable (via rdflib)", "reasonable alone"),
    ("write cache", "write the cache entry (N-Triples, with its manifest of sha256 digests)", None),
    ("make store", "make the Oxigraph store of the cache entry (bulk load; a build's first query or validation)",
     None),
    ("validate", "validate (default: the shapes as SPARQL, on the cached Oxigraph store)", "validate pyshacl"),
    ("validate pyshacl", "validate with pyshacl (the reference, with making its rdflib graph)", None),
    *[(f"export {f}", f"export {f} (asserted + inferred)", None) for f in EXPORT_FORMATS],
    ("export consensus view", "export the consensus view (Turtle)", None),
    ("load cache", "load the cache entry (what a repeated command does before it validates or exports)", None),
    ("build", "`jisr-kg build` (empty cache)", None),
    ("build pyshacl", "`jisr-kg build --validator pyshacl` (empty cache)", None),
    ("build repeated", "`jisr-kg build` again, unchanged inputs and release (warm cache)", None),
    ("validate repeated", "`jisr-kg validate` again, unchanged inputs (warm cache)", None),
    ("build owlrl", "`jisr-kg build --reasoner owlrl` (empty cache)", None),
    ("query cold", f"`jisr-kg query {QUERY}`, empty cache (builds, then makes the store)", None),
    ("query warm", f"`jisr-kg query {QUERY}`, warm cache", "oxigraph query"),
    ("push", "`jisr-kg push` to `oxigraph serve` (warm cache)", "bare GSP PUT"),
    ("oxigraph load", "reference: `oxigraph load` of the same files", None),
    ("oxigraph query", f"reference: `oxigraph query` ({QUERY}, same store)", None),
    ("reasonable alone", "reference: reasonable alone (its parser, no rdflib)", None),
    ("bare GSP PUT", "reference: three PUTs of the cached N-Triples", None),
    ("synth", "`jisr-kg synth` (generating the data)", None),
]


def cell(step: dict | None, runs: int = 5) -> str:
    if not step:
        return "-"
    if step["status"] == "skipped":
        return f"skipped (est. {fmt_s(step['estimate'])})"
    if step["status"] in ("timeout", "failed"):
        return step["status"]
    mem = f" · {fmt_mb(step['peak_median'])}" if step.get("peak_median") else ""
    n = len(step["runs"])
    return f"{fmt_s(step['median'])}{mem}" + (f" (n={n})" if n != runs else "")


def markdown(doc: dict) -> str:
    m = doc["machine"]
    scales = sorted(doc["scales"], key=int)
    pk = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, {m['ram_bytes'] / 2**30:.0f} GiB RAM), "
        f"Python {m['python']}; {pk}. Command: `{doc['command']}`. Data: `jisr-kg synth --scale K "
        f"--share {SHARE}` (K renamed copies of `data/`). Median of up to {doc['runs']} runs (n when fewer) "
        "and the peak resident memory of the process during the step; raw numbers in `benchmarks/results.json`, "
        "the plot in `docs/benchmarks.png`. The machine is shared: load average (1 min) at the start and end "
        "of each scale: " + ", ".join(f"{k}x {'-'.join(f'{x:.1f}' for x in doc['scales'][k].get('load average', []))}"
                                      for k in scales) + ".",
        "",
    ]
    head = ["step"] + [f"{k}x ({doc['scales'][k]['triples']['asserted']:,} asserted, "
                       f"{doc['scales'][k]['triples']['inferred']:,} inferred"
                       + ("; the data's graph only, from VoID" if doc["scales"][k].get("triples source") == "void"
                          else "") + ")" for k in scales]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, _ref in ROWS:
        if not any(key in doc["scales"][k]["steps"] for k in scales):
            continue
        cells = [cell(doc["scales"][k]["steps"].get(key), doc["runs"]) for k in scales]
        lines.append("| " + " | ".join([label, *cells]) + " |")
    lines += ["", "Against the reference tools (time of the jisr-kg step / time of the tool doing the same work):",
              "", "| jisr-kg step | reference | " + " | ".join(f"{k}x" for k in scales) + " |",
              "|---|---|" + "---|" * len(scales)]
    for key, label, ref in ROWS:
        if not ref:
            continue
        ratios = []
        for k in scales:
            a, b = doc["scales"][k]["steps"].get(key), doc["scales"][k]["steps"].get(ref)
            ok = a and b and a["status"] == b["status"] == "ok" and b["median"] > 0
            ratios.append(f"{a['median'] / b['median']:.1f}x" if ok else "-")
        lines.append(f"| {label} | {ref} | " + " | ".join(ratios) + " |")
    lines += ["", "Targets:", "", "| target | measured | met |", "|---|---|---|"]
    for (what, k), limit in TARGETS.items():
        if str(k) not in doc["scales"]:
            continue
        steps = doc["scales"][str(k)]["steps"]
        names = [what]  # the targets are for the default build; owlrl's is in the table above
        for name in names:
            s = steps.get(name)
            if not s:
                continue
            if s["status"] != "ok":
                lines.append(f"| {name} at {k}x <= {fmt_s(limit)} | {cell(s, doc['runs'])} | no (est.) |")
                continue
            lines.append(f"| {name} at {k}x <= {fmt_s(limit)} | {fmt_s(s['median'])} | "
                         f"{'yes' if s['median'] <= limit else 'no'} |")
    for (what, k), limit in MEMORY_TARGETS.items():
        s = doc["scales"].get(str(k), {}).get("steps", {}).get(what)
        if s and s["status"] == "ok":
            lines.append(f"| peak memory of {what} at {k}x <= {fmt_mb(limit)} | {fmt_mb(s['peak_median'])} | "
                         f"{'yes' if s['peak_median'] <= limit else 'no'} |")
        elif str(k) in doc["scales"]:
            lines.append(f"| {what} at {k}x completes, peak memory <= {fmt_mb(limit)} | {cell(s, doc['runs'])} | no |")
    big = max((k for k in scales if doc["scales"][k]["queries"]), key=int, default=scales[-1])
    queries = doc["scales"][big]["queries"]
    if queries:
        done = {k: q for k, q in queries.items() if q["status"] == "ok"}
        within = sum(1 for q in done.values() if q["ratio"] <= QUERY_RATIO_TARGET)
        lines.append(f"| stored queries at {big}x within {QUERY_RATIO_TARGET}x of `oxigraph query` | "
                     f"{within} of {len(queries)} ({len(queries) - len(done)} not run to the end) | "
                     f"{'yes' if within == len(queries) else 'no'} |")
    phases_at = {k: doc["scales"][k].get("build phases", {}) for k in scales}
    if any(phases_at.values()):
        lines += ["", "Where the time of `jisr-kg build` goes (from the arrival of its progress messages, median):", "",
                  "| build | " + " | ".join(name for _p, name in (("", "start-up, imports, hashing the inputs"),
                                                                      *BUILD_PHASES)) + " | total |",
                  "|---|" + "---|" * (len(BUILD_PHASES) + 2)]
        for k in scales:
            for reasoner, ph in phases_at[k].items():
                cells = [fmt_s(ph.get(name)) for name in ("start-up, imports, hashing the inputs",
                                                          *[b for _a, b in BUILD_PHASES])]
                lines.append(f"| {k}x {reasoner} | " + " | ".join(cells) + f" | {fmt_s(sum(ph.values()))} |")
    scales = [k for k in scales if doc["scales"][k]["queries"]]  # not the --build-only or --focus ones
    lines += [] if not scales else ["", "Stored queries, each a new process on the same store (`jisr-kg query NAME` "
              "with a warm cache, against `oxigraph query --union-default-graph` on a copy of the "
              "cached store); jisr-kg time / oxigraph time:", "",
              "| query | " + " | ".join(f"{k}x jisr-kg | {k}x oxigraph | ratio" for k in scales) + " |",
              "|---|" + "---|---|---|" * len(scales)]
    names = sorted({name for k in scales for name in doc["scales"][k]["queries"]},
                   key=lambda name: [-_qtime(doc["scales"][k]["queries"].get(name)) for k in reversed(scales)])
    for name in names:
        row = []
        for k in scales:
            q = doc["scales"][k]["queries"].get(name)
            if not q:
                row += ["-", "-", "-"]
            elif q["status"] == "skipped":
                row += [f"skipped (est. {fmt_s(q['estimate'])})", "-", "-"]
            elif q["status"] != "ok":
                row += [cell(q["jisr"], doc["runs"]), cell(q["oxigraph"], doc["runs"]), "-"]
            else:
                row += [fmt_s(q["jisr"]["median"]), fmt_s(q["oxigraph"]["median"]), f"{q['ratio']:.2f}"]
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    for note in doc.get("notes", []):
        lines += ["", note]
    return "\n".join(lines)


def _qtime(q: dict | None) -> float:
    if not q:
        return 0.0
    if q["status"] == "skipped":
        return q.get("estimate") or math.inf
    if q["status"] != "ok":
        return math.inf
    return q["jisr"]["median"]


def write_readme(text: str) -> None:
    readme = ROOT / "docs" / "benchmarks.md"
    content = readme.read_text(encoding="utf-8")
    if README_START not in content or README_END not in content:
        print("docs/benchmarks.md has no bench markers; the table is only in benchmarks/results.json", file=sys.stderr)
        return
    head, rest = content.split(README_START, 1)
    _old, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_START}\n{text}\n{README_END}{tail}", encoding="utf-8")


PLOT_STEPS = ("parse", "consensus", "reason rules", "reason owlrl", "reason reasonable", "validate", "validate pyshacl",
              "make store", "export turtle",
              "export jsonld", "write cache", "build", "build owlrl", "query warm", "push",
              "oxigraph load", "oxigraph query", "reasonable alone")


def plot(doc: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6), dpi=110)
    scales = sorted(doc["scales"], key=int)
    markers = "os^vD<>ph*"
    colours = plt.get_cmap("tab20").colors
    for i, name in enumerate(PLOT_STEPS):
        xs, ys, ex, ey = [], [], [], []
        for k in scales:
            s = doc["scales"][k]["steps"].get(name)
            n = doc["scales"][k]["triples"]["asserted"]
            if s and s["status"] == "ok":
                xs.append(n)
                ys.append(s["median"])
            elif s and s["status"] == "skipped":
                ex.append(n)
                ey.append(s["estimate"])
        if not xs:
            continue
        style = "--" if name.startswith(("oxigraph", "reasonable alone")) else "-"
        (line,) = ax.plot(xs, ys, style, marker=markers[i % len(markers)], color=colours[i % len(colours)], label=name)
        if ex:
            ax.plot([xs[-1], *ex], [ys[-1], *ey], ":", color=line.get_color())
            ax.plot(ex, ey, "x", color=line.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("asserted triples (K copies of the data)")
    ax.set_ylabel("seconds (median)")
    ax.set_title("jisr-kg: time per step against the size of the graph (x, dotted: estimated, skipped)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# ================================================================ main


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", default="1,10,100", help="comma-separated copies of the data (default 1,10,100)")
    p.add_argument("--runs", type=int, default=5, help="runs per measurement, median reported (default 5)")
    p.add_argument("--budget", type=float, default=120.0,
                   help="seconds one measurement may take over all its runs before fewer runs are made (default 120)")
    p.add_argument("--timeout", type=float, default=3600.0, help="give up on a process after this long")
    p.add_argument("--query-timeout", type=float, default=60.0,
                   help="give up on one stored query after this long (default 60 s)")
    slow = p.add_mutually_exclusive_group()
    slow.add_argument("--skip-slow", action="store_true", help="skip every step estimated to take over 30 s")
    slow.add_argument("--include-slow", action="store_true", help="skip nothing (owlrl at 100x takes ~17 min)")
    p.add_argument("--no-write", action="store_true", help="print only; do not touch README, results.json, the plot")
    p.add_argument("--report-only", action="store_true",
                   help="measure nothing: write README's table and the plot again from benchmarks/results.json")
    p.add_argument("--merge", action="store_true",
                   help="keep the other scales of benchmarks/results.json (re-measure only --scales)")
    p.add_argument("--worker", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", metavar="FILE", help=argparse.SUPPRESS)
    p.add_argument("--focus", action="store_true",
                   help="the pipeline, build, validate and query only (no owlrl or reasonable, reference tools, "
                   "per-query comparison or push)")
    p.add_argument("--build-only", action="store_true",
                   help="synth and `jisr-kg build` from an empty cache only, --runs times (for 1000x: about an "
                   "hour and 12 GB a run); triple counts from the release's VoID")
    p.add_argument("--pyshacl-max", type=int, default=100,
                   help="the largest scale at which pyshacl also validates (default 100)")
    p.add_argument("--root", type=Path, default=None, help="run with JISR_KG_ROOT=ROOT (another ontology)")
    p.add_argument("--worker-reasoners", default="rules,owlrl,reasonable", help=argparse.SUPPRESS)
    p.add_argument("--worker-no-pyshacl", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker-no-reasonable", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(Path(args.worker), args.worker_reasoners.split(","), Path(args.worker_out),
               pyshacl=not args.worker_no_pyshacl, reasonable=not args.worker_no_reasonable)
        return 0
    if args.report_only:
        doc = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
        text = markdown(doc)
        write_readme(text)
        plot(doc, ROOT / "docs" / "benchmarks.png")
        print(text)
        return 0
    args.slow = None if args.include_slow else (30.0 if args.skip_slow else 600.0)
    scales = sorted({int(s) for s in args.scales.split(",") if s.strip()})
    runner = Runner(args.runs, args.budget)
    doc = {"machine": machine(), "command": "python benchmarks/run.py " + " ".join(sys.argv[1:]),
           "runs": args.runs, "budget": args.budget, "scales": {}, "notes": []}
    previous = ROOT / "benchmarks" / "results.json"
    if args.merge and previous.is_file():
        old = json.loads(previous.read_text(encoding="utf-8"))
        doc["scales"] = {k: v for k, v in old.get("scales", {}).items() if int(k) not in scales}
        doc["command"] = f"{old.get('command', '?')}; then {doc['command']}"
    with tempfile.TemporaryDirectory(prefix="jisr-kg-bench-") as tmp:
        work = Path(tmp)
        args.snapshot = work / "stored-queries"
        args.snapshot.mkdir()
        for rq in sorted((ROOT / "queries").glob("*.rq")):
            shutil.copy2(rq, args.snapshot / rq.name)
        for scale in scales:
            doc["scales"][str(scale)] = bench_scale(scale, args, runner, doc["scales"], work)
            doc["scales"] = dict(sorted(doc["scales"].items(), key=lambda kv: int(kv[0])))
            if not args.no_write:  # after every scale, so that a long run shows what it has so far
                _write(doc)
                write_readme(markdown(doc))
                plot(doc, ROOT / "docs" / "benchmarks.png")
    print(markdown(doc))
    return 0


def _write(doc: dict) -> None:
    path = ROOT / "benchmarks" / "results.json"
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
