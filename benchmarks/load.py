#!/usr/bin/env python
"""A bounded load run of `jisr-kg serve`, beside `oxigraph serve-read-only` on the same store.

    python benchmarks/load.py [--scales 1,100] [--requests 2000] [--concurrency 16] [--out docs/benchmarks-server.md]

For each scale K (1: the project's data; K > 1: `jisr-kg synth --scale K --share actor:wikipedia-authors`
into a temporary folder, as benchmarks/run.py does), it starts `jisr-kg serve` on a free loopback port
and `oxigraph serve-read-only --union-default-graph` on the very store jisr-kg serves (its cache entry),
and sends each the same requests:

- an entity's Turtle: `/id/actor/joshua-landis.ttl` on jisr-kg; on Oxigraph, the same bounded
  description's CONSTRUCT on /query with Accept: text/turtle;
- a stored query through `/api/queries/NAME` (its default parameters) on jisr-kg;
- the same query's text through `/sparql` on jisr-kg and through /query on Oxigraph (SPARQL JSON);
- the entity's HTML page: `/id/actor/joshua-landis` with Accept: text/html (the page a browser gets;
  after the first request the server answers it from its cache of rendered pages);
- many different entity pages, each request a different IRI: every actor, unit, place, event and
  claim of the data (the synthesized copies too), in a fixed shuffled order, so that most requests
  render their page for the first time (at 1x, where there are fewer pages than requests, the order
  repeats; the cycle is longer than the server's page cache, so those are rendered again too).
  The HTML cases have no Oxigraph anchor: the engine serves no pages.

Each case is a fixed number of requests (--requests) from a fixed number of clients (--concurrency),
each client on one keep-alive connection; the run stops by itself. It reports throughput, p50 and p99
latency and errors (a status other than 200, or a broken connection). Loopback only. The clients are
a small asyncio HTTP/1.1 client in this process, so they share the machine's cores with the servers
(on a 2-core machine that caps what both servers can show; the comparison is on equal terms).

Writes a Markdown table to --out (between `<!-- load:start -->` and `<!-- load:end -->` when those
markers are there) and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
ENTITY = "https://w3id.org/jisr-kg/id/actor/joshua-landis"
#: Stored queries with small answers whose cost grows with the data (claims-by-claimant: the engine
#: finds one claimant's claims among all) and with a large answer (timeline: every dated event).
QUERIES = ("claims-by-claimant", "timeline")
#: The kinds of entity whose pages the rotating HTML case asks for.
PAGE_KINDS = ("actor", "unit", "place", "event", "claim")
HTML = {"Accept": "text/html"}


# ---------------------------------------------------------------- a small keep-alive HTTP/1.1 client


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, chunked = None, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
        return status, body
    return status, await reader.readexactly(length or 0)


@dataclass
class Outcome:
    latencies: list[float]
    errors: int
    seconds: float
    cpu: float = float("nan")  # the server's CPU seconds (all its processes) during the run

    @property
    def cpu_per_request(self) -> float:
        done = len(self.latencies) + self.errors
        return self.cpu / done if done else float("nan")

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


Paths = str | Iterator[str]


async def _load(port: int, paths: Paths, headers: dict[str, str], requests: int, concurrency: int,
                timeout: float) -> Outcome:
    """`paths`: one path for every request, or an iterator that gives each request its own."""
    tail = f" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    each = itertools.repeat(paths) if isinstance(paths, str) else paths
    left = [requests]
    latencies: list[float] = []
    errors = [0]

    async def client() -> None:
        reader = writer = None
        while left[0] > 0:
            left[0] -= 1
            raw = f"GET {next(each)}{tail}".encode()
            t = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(raw)
                status, _ = await asyncio.wait_for(_read_response(reader), timeout)
                if status == 200:
                    latencies.append(time.perf_counter() - t)
                else:
                    errors[0] += 1
            except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                errors[0] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Outcome(latencies, errors[0], time.perf_counter() - t0)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its living children, from /proc (Linux); NaN elsewhere.
    It does not depend on what else runs on the machine, unlike throughput."""
    proc = Path("/proc")
    if not proc.is_dir():
        return float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for d in proc.iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(d.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def load(port: int, paths: Paths, headers: dict[str, str], requests: int, concurrency: int,
         timeout: float = 60.0, pid: int | None = None) -> Outcome:
    # a short warm-up (caches, the first connection), not counted; an iterator of paths goes on where
    # the warm-up stopped, so the warm-up does not render the pages that are measured
    asyncio.run(_load(port, paths, headers, min(50, requests), min(4, concurrency), timeout))
    before = cpu_seconds(pid) if pid else float("nan")
    outcome = asyncio.run(_load(port, paths, headers, requests, concurrency, timeout))
    if pid:
        outcome.cpu = cpu_seconds(pid) - before
    return outcome


# ---------------------------------------------------------------- the servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {seconds} s")


def start_jisr(data: Path | None, workers: int | None) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    cmd = [sys.executable, "-m", "jisr_kg", "--quiet", "serve", "--port", str(port), "--timeout", "60"]
    if data:
        cmd += ["--data", str(data)]
    if workers:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    _wait_port(port, proc, 1800)
    _wait_idle(proc.pid, 600)
    return proc, port


def _wait_idle(pid: int, seconds: float) -> None:
    """Wait (bounded) until the server has done its start-up work: the HTML pages read their data and
    build the search index in a thread at start (about half a minute at 100x), which would otherwise be
    measured with the first case."""
    deadline = time.monotonic() + seconds
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - last < 0.05 or now != now:  # idle, or no /proc to tell
            return
        last = now
    print(f"  (the server was still busy after {seconds:g} s; measuring anyway)", file=sys.stderr)


def start_oxigraph(store: Path) -> tuple[subprocess.Popen, int]:
    exe = shutil.which("oxigraph")
    if not exe:
        raise SystemExit("the `oxigraph` command is not installed: pip install oxigraph")
    port = _free_port()
    proc = subprocess.Popen([exe, "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}",
                             "--union-default-graph", "--timeout-s", "60"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(port, proc, 120)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------- one scale


def entity_pages(store: Path) -> list[str]:
    """The site paths of every actor, unit, place, event and claim in the store's asserted graph, in a
    fixed shuffled order (kinds and copies mixed, the same order on every run)."""
    import random

    import pyoxigraph as ox

    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, ID

    found = ox.Store.read_only(str(store)).query(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH <{ASSERTED_GRAPH}> {{ ?s a ?type }} }}")
    paths = sorted({"/id/" + s.value[len(ID):] for (s,) in found
                    if s.value.startswith(ID) and s.value[len(ID):].split("/", 1)[0] in PAGE_KINDS})
    random.Random(13).shuffle(paths)
    return paths


def bench_scale(scale: int, args: argparse.Namespace, work: Path) -> list[dict]:
    from jisr_kg.pipeline.build import ensure_store
    from jisr_kg.sparql.query import resolve, with_prefixes
    from jisr_kg.web.resolve import description_query

    data = None
    if scale > 1:
        data = work / f"x{scale}"
        subprocess.run([sys.executable, "-m", "jisr_kg", "--quiet", "synth", "--scale", str(scale), "--share",
                        "actor:wikipedia-authors", "-o", str(data)], cwd=ROOT, check=True, timeout=3600)
    print(f"scale {scale}x: building (if needed) ...", file=sys.stderr, flush=True)
    store = ensure_store(data)
    pages = entity_pages(store)
    jisr, jport = start_jisr(data, args.workers)
    oxi, oport = start_oxigraph(store)
    rows = []
    n, c = args.requests, args.concurrency
    nq = args.query_requests if scale == 1 else args.big_query_requests
    try:
        def run(label: str, ours: tuple[Paths, dict], anchor: tuple[str, dict] | None, n: int = n) -> None:
            if args.only and not any(word in label for word in args.only.split(",")):
                return
            print(f"  {label} ...", file=sys.stderr, flush=True)
            a = load(jport, *ours, n, c, pid=jisr.pid)
            b = load(oport, *anchor, n, c, pid=oxi.pid) if anchor else None
            rows.append({"scale": scale, "case": label, "requests": n, "jisr": a, "oxigraph": b,
                         "load": os.getloadavg()[0]})

        describe = with_prefixes(description_query(ENTITY))
        run("entity Turtle (`/id/actor/joshua-landis.ttl`)", ("/id/actor/joshua-landis.ttl", {}),
            ("/query?" + urlencode({"query": describe}), {"Accept": "text/turtle"}))
        json_accept = {"Accept": "application/sparql-results+json"}
        for name in QUERIES:
            text = resolve(name).bind()
            anchor = ("/query?" + urlencode({"query": with_prefixes(text)}), json_accept)
            run(f"`{name}` via `/api/queries`", (f"/api/queries/{quote(name)}", json_accept), anchor, nq)
            run(f"`{name}` via `/sparql`", ("/sparql?" + urlencode({"query": text}), json_accept), anchor, nq)
        run("entity page (`/id/actor/joshua-landis`, Accept: text/html)", ("/id/actor/joshua-landis", HTML), None)
        run(f"entity pages, a different one each request (of {len(pages):,} actors, units, places, events, claims)",
            (itertools.cycle(pages), HTML), None)
    finally:
        stop(jisr)
        stop(oxi)
    return rows


def _fmt(o: Outcome | None) -> tuple[str, ...]:
    if o is None:
        return ("-", "-", "-", "-", "-")
    return (f"{o.throughput:.0f}", f"{o.pct(50) * 1000:.1f}", f"{o.pct(99) * 1000:.1f}", str(o.errors),
            f"{o.cpu_per_request * 1000:.2f}")


def table(rows: list[dict], args: argparse.Namespace) -> str:
    out = [
        f"Load run: a fixed number of requests per case (below) from {args.concurrency} concurrent keep-alive "
        "clients on "
        f"loopback, after a 50-request warm-up; `jisr-kg serve` with its default settings"
        f"{f' and --workers {args.workers}' if args.workers else ''} beside `oxigraph serve-read-only "
        "--union-default-graph` on the same store (the anchor: what the engine alone gives over HTTP). "
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared by clients and servers, Python "
        f"{platform.python_version()}; measured {time.strftime('%Y-%m-%d %H:%M')}, load average before the run "
        f"{args.loadavg:.1f}, and at the end of each case in the last column (the 1-minute average; the run's own "
        "clients and server count for about 2 of it; other work on the machine slows both servers alike). "
        "CPU ms/req: the "
        "server's CPU time (all its processes) per request, which does not depend on that other work. The "
        "HTML pages have no anchor (-): Oxigraph serves no pages.",
        "",
        "| scale | request | requests | jisr-kg req/s | p50 ms | p99 ms | errors | CPU ms/req | oxigraph req/s "
        "| p50 ms | p99 ms | errors | CPU ms/req | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(f"| {r['scale']}x | {r['case']} | {r['requests']} | " + " | ".join(_fmt(r["jisr"])) + " | "
                   + " | ".join(_fmt(r["oxigraph"])) + f" | {r['load']:.1f} |")
    return "\n".join(out) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", default="1", help="comma-separated copies of the data (default 1)")
    p.add_argument("--requests", type=int, default=2000, help="requests for the entity (default 2000)")
    p.add_argument("--query-requests", type=int, default=300, help="requests per stored query case at 1x (default 300)")
    p.add_argument("--big-query-requests", type=int, default=48,
                   help="requests per stored query case at the larger scales (default 48)")
    p.add_argument("--only", default=None, help="only the cases whose label has one of these words (comma-separated)")
    p.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--workers", type=int, default=None, help="jisr-kg serve --workers (default: its own)")
    p.add_argument("--out", default=None, help="a Markdown file to write the table into")
    args = p.parse_args()
    if min(args.requests, args.query_requests, args.concurrency) <= 0:
        raise SystemExit("--requests and --concurrency take positive numbers")
    scales = [int(s) for s in args.scales.split(",")]
    args.loadavg = os.getloadavg()[0]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="jisr-kg-load-") as tmp:
        for k in scales:
            rows += bench_scale(k, args, Path(tmp))
    text = table(rows, args)
    print(text)
    if args.out:
        out = Path(args.out)
        old = out.read_text(encoding="utf-8") if out.exists() else ""
        m = re.search(r"<!-- load:start -->\n.*?<!-- load:end -->", old, re.S)
        block = f"<!-- load:start -->\n{text}<!-- load:end -->"
        out.write_text(old[: m.start()] + block + old[m.end():] if m else old + block + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
