"""Bounded local queries (docs/decisions/0019-bounded-queries.md): a runaway query stops at --timeout,
at Ctrl-C and with --max-memory, on every engine; SERVICE is refused unless allowed, and then bounded
too; nothing is left running afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import ROOT, children
from conftest import jisr as run_jisr
from jisr_kg import api
from jisr_kg.errors import QueryError, UsageError
from jisr_kg.sparql import bounded
from jisr_kg.sparql.bounded import QueryAborted, QueryTimeout, run_bounded
from jisr_kg.sparql.results import write

pytestmark = pytest.mark.slow  # each test waits out a time limit or a signal on a runaway query: run by .ci/run

CROSS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
ENGINES = ["oxigraph", "rdflib"]


@pytest.fixture(scope="module", autouse=True)
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the data, built once: timings here must not include a rebuild because someone edited
    data/ meanwhile. The module's commands use it through JISR_KG_DATA_ARGS."""
    copy = tmp_path_factory.mktemp("bounded") / "data"
    shutil.copytree(ROOT / "data", copy)
    DATA[:] = ["--data", str(copy)]
    for engine in ENGINES:
        api.run_text("ASK {}", engine=engine, data=copy)
    yield copy
    DATA[:] = []


DATA: list[str] = []


def jisr(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[bytes]:
    return run_jisr(*args, *DATA, stdin=stdin)


def start(*args: str, stdin: str) -> subprocess.Popen:
    """`jisr-kg ARGS` in its own session (as a terminal's foreground job is its own process group)."""
    p = subprocess.Popen([sys.executable, "-m", "jisr_kg", "--quiet", *args, *DATA], cwd=ROOT, start_new_session=True,
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert p.stdin is not None
    p.stdin.write(stdin.encode())
    p.stdin.close()
    return p


def session(sid: int) -> list[str]:
    return subprocess.run(["pgrep", "-s", str(sid)], capture_output=True, text=True).stdout.split()


def wait_for_query_child(p: subprocess.Popen, settle: float) -> int:
    """The query's child process, once it has been working for `settle` seconds."""
    end = time.monotonic() + 60
    while not children(p.pid):
        assert p.poll() is None, p.stderr.read().decode() if p.stderr else ""
        assert time.monotonic() < end, "no query process started"
        time.sleep(0.05)
    time.sleep(settle)
    assert p.poll() is None
    return children(p.pid)[0]


def cheap_run_time(engine: str) -> float:
    """How long a trivial query takes end to end on this machine now (start-up, loading)."""
    t = time.monotonic()
    r = jisr("query", "-", "--engine", engine, stdin="ASK {}")
    assert r.returncode == 0, r.stderr.decode()
    return time.monotonic() - t


# ---------------------------------------------------------------- Ctrl-C, the deadline, memory


@pytest.mark.parametrize("engine", ENGINES)
def test_ctrl_c_stops_a_cross_product_at_once(engine: str) -> None:
    p = start("query", "-", "--engine", engine, stdin=CROSS)
    wait_for_query_child(p, settle=2.0)
    t = time.monotonic()
    os.killpg(p.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    assert p.wait(10) == 130
    assert time.monotonic() - t < 2.0
    assert p.stderr is not None and p.stderr.read().decode().strip() == "jisr-kg: interrupted"
    time.sleep(0.2)
    assert session(p.pid) == [], "a query process was left running"


def test_sigint_to_the_command_alone_stops_the_engine_too() -> None:
    """`kill -INT PID` reaches only the command, not its child: the command kills the child."""
    p = start("query", "-", stdin=CROSS)
    child = wait_for_query_child(p, settle=1.0)
    p.send_signal(signal.SIGINT)
    assert p.wait(10) == 130
    time.sleep(0.2)
    assert not os.path.exists(f"/proc/{child}") or "Z" in open(f"/proc/{child}/stat").read().split()[2]


def test_a_killed_command_takes_its_query_with_it() -> None:
    p = start("query", "-", "--timeout", "0", stdin=CROSS)
    child = wait_for_query_child(p, settle=0.5)
    p.kill()
    p.wait(10)
    end = time.monotonic() + 5
    while os.path.exists(f"/proc/{child}") and time.monotonic() < end:
        time.sleep(0.05)
    assert session(p.pid) == [], "the query ran on after its command was killed"


MAX_RSS = """
import resource, subprocess, sys, time
t = time.monotonic()
r = subprocess.run(sys.argv[1:], input=sys.stdin.buffer.read(), capture_output=True)
print(r.returncode, round(time.monotonic() - t, 2), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.stderr.write(r.stderr.decode())
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_timeout_stops_a_cross_product_with_little_memory(engine: str) -> None:
    baseline = cheap_run_time(engine)
    r = subprocess.run([sys.executable, "-c", MAX_RSS, sys.executable, "-m", "jisr_kg", "--quiet", "query", "-",
                        "--engine", engine, "--timeout", "2", *DATA], input=CROSS.encode(), capture_output=True,
                       cwd=ROOT, timeout=120)
    code, elapsed, max_rss_kb = r.stdout.decode().split()
    assert int(code) == 1
    assert r.stderr.decode().strip() == ("jisr-kg: error: the query ran past its time limit of 2 s and was stopped "
                                         "(a larger --timeout gives it longer; 0 means no limit)")
    # 2 s of the engine, plus what any query takes here to start (the rdflib engine loads the graph first)
    assert float(elapsed) < baseline + 3.0, (elapsed, baseline)
    assert int(max_rss_kb) < 1024 * 1024, f"{int(max_rss_kb) // 1024} MB"


def test_max_memory_stops_a_growing_query() -> None:
    r = jisr("query", "-", "--max-memory", "150", "--timeout", "120", stdin=CROSS)
    assert r.returncode == 1
    assert "over --max-memory 150 MB, and was stopped" in r.stderr.decode()


def test_no_time_limit_with_zero_and_answers_unchanged(data: Path) -> None:
    unbounded = jisr("query", "claims-by-claimant", "--format", "csv", "--timeout", "0")
    default = jisr("query", "claims-by-claimant", "--format", "csv")
    assert unbounded.returncode == default.returncode == 0
    expected = write(api.run_query("claims-by-claimant", data=data), "csv").encode()
    assert unbounded.stdout == default.stdout == expected


# ---------------------------------------------------------------- SERVICE


@contextmanager
def silent_server() -> Iterator[str]:
    """An HTTP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql"
    finally:
        stop.set()
        thread.join()
        for s in held:
            s.close()
        server.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_service_is_refused_unless_allowed_and_then_bounded(engine: str) -> None:
    with silent_server() as url:
        query = f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"
        r = jisr("query", "-", "--engine", engine, stdin=query)
        assert r.returncode == 2
        assert r.stderr.decode().strip() == (f"jisr-kg: error: the query calls SERVICE <{url}>, a request to another "
                                             "server; a local query makes one only with --allow-service")
        baseline = cheap_run_time(engine)
        t = time.monotonic()
        r = jisr("query", "-", "--engine", engine, "--allow-service", "--timeout", "2", stdin=query)
        assert r.returncode == 1, r.stderr.decode()
        assert "ran past its time limit of 2 s" in r.stderr.decode()
        assert time.monotonic() - t < baseline + 3.0


def test_service_refused_by_the_library_too() -> None:
    with pytest.raises(UsageError, match="--allow-service"):
        api.run_text("SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")


# ---------------------------------------------------------------- the library and the mechanism


@pytest.mark.parametrize("threads", [False, True], ids=["forked", "spawned"])
def test_library_timeout(threads: bool, monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """With a timeout the library runs the query in a child: forked, or spawned when the caller has
    threads (a fork beside threads is unsafe)."""
    if threads:
        monkeypatch.setattr(bounded, "_single_threaded", lambda: False)
    t = time.monotonic()
    with pytest.raises(QueryTimeout, match="time limit of 1 s"):
        api.run_text(CROSS, timeout=1, data=data)
    assert time.monotonic() - t < 15
    rows = api.run_query("claims-by-claimant", timeout=30, data=data).rows
    assert rows == api.run_query("claims-by-claimant", data=data).rows and rows


def answer(x: int) -> list[int]:
    return [x] * 3


def refuse() -> None:
    raise QueryError("no, thank you", exit_code=2)


def crash() -> None:
    raise ZeroDivisionError("a bug")


def die() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def test_run_bounded_passes_values_errors_and_deaths_back(capfd: pytest.CaptureFixture[str]) -> None:
    assert run_bounded(answer, (7,), timeout=5) == [7, 7, 7]
    with pytest.raises(QueryError, match="no, thank you") as e:
        run_bounded(refuse, timeout=5)
    assert e.value.exit_code == 2
    with pytest.raises(QueryAborted, match=r"internal error \(ZeroDivisionError"):
        run_bounded(crash, timeout=5)
    assert "ZeroDivisionError: a bug" in capfd.readouterr().err  # the bug is shown, not hidden
    with pytest.raises(QueryAborted, match="killed by SIGSEGV"):
        run_bounded(die, timeout=5)


COST = """
import time
from jisr_kg.sparql.bounded import run_bounded, _single_threaded
assert _single_threaded()
run_bounded(int, timeout=5)
times = []
for _ in range(5):
    t = time.perf_counter()
    run_bounded(int, ("1",), timeout=5)
    times.append(time.perf_counter() - t)
print(min(times))
"""


def test_a_child_costs_little() -> None:
    """The cheap path stays cheap: in the command (one thread), a child for a trivial answer is a fork
    that costs milliseconds, not a new interpreter."""
    r = subprocess.run([sys.executable, "-c", COST], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout) < 0.03, r.stdout
