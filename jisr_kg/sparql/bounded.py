"""Bounded work: a local query runs in a child process that is killed at its deadline or on Ctrl-C.

Why a process: pyoxigraph evaluates a query in Rust and holds its thread until the query ends; a
Python signal handler (KeyboardInterrupt, an alarm) only runs when control comes back to Python, so
neither Ctrl-C nor a timer stops a cross product in the same process. rdflib runs in Python, but a
SERVICE call inside it waits on a socket with no timeout. Killing a child process stops every engine
at once, and gives its memory back.

Why fork: a fork of the command's small process costs about a millisecond and carries what the
parent already has (the parsed arguments, a loaded dataset), so the cheap path stays cheap. A fork
beside other threads can deadlock the child (a lock held by a thread that does not exist there), so
a process with more than one thread (a library caller's server, a notebook) gets a spawned child
instead, which imports afresh (slower, but safe).

The deadline counts from the moment the engine starts (`started()`), not from the fork: building a
cold cache is the build's work, not the query's. See docs/decisions/0019-bounded-queries.md.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from jisr_kg.errors import EXIT_FAILED, JisrError, QueryError

T = TypeVar("T")

#: In the child: the connection on which it tells the parent that the engine has started.
_channel: Any = None


class QueryTimeout(QueryError):
    """The query ran past its time limit and was stopped: the query ran, it did not finish (exit 1)."""

    exit_code = EXIT_FAILED


class QueryAborted(QueryError):
    """The query's process died (out of memory, a crash in the engine)."""

    exit_code = EXIT_FAILED


def started() -> None:
    """Called by the engines right before they start: the deadline counts from here."""
    if _channel is not None:
        _channel.send(("started", None))


def run_bounded(func: Callable[..., T], args: tuple = (), *, timeout: float | None = None,
                max_memory_mb: int | None = None) -> T:
    """`func(*args)` in a child process; its value, or its JisrError raised here. The child is killed
    when the engine has run for `timeout` seconds (QueryTimeout), on Ctrl-C (KeyboardInterrupt here),
    and when this process dies. `max_memory_mb` caps its resident memory (looked at ten times a
    second; an address-space rlimit would keep the engine's own threads from starting)."""
    # Output buffered here would be written a second time by the child.
    sys.stdout.flush()
    sys.stderr.flush()
    if _single_threaded() and hasattr(os, "fork"):
        return _run_forked(func, args, timeout, max_memory_mb)
    return _run_spawned(func, args, timeout, max_memory_mb)


def _run_forked(func: Callable[..., T], args: tuple, timeout: float | None, max_memory_mb: int | None) -> T:
    """A bare os.fork and two pipes: no multiprocessing to import, a child in about a millisecond."""
    import gc
    import pickle

    reader, writer = os.pipe()
    alive_r, alive_w = os.pipe()
    # Objects that exist now are left out of the child's garbage collections: a collection touches every
    # object it tracks, which would copy the whole shared heap into the child page by page.
    gc.freeze()
    pid = os.fork()
    if pid:
        gc.unfreeze()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            os.close(reader)
            os.close(alive_w)
            _child_main(_FdSender(writer), _watch_fd(alive_r), func, args)
        except BaseException:  # nothing may unwind into the parent's code
            code = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):  # a closed pipe: nothing more to say
                    stream.flush()
            os._exit(code)
    os.close(writer)
    os.close(alive_r)
    messages = _FdReader(reader, pickle)
    status: list[int] = []

    def died() -> int | None:
        if not status:
            status.append(os.waitpid(pid, 0)[1])
        return os.waitstatus_to_exitcode(status[0])

    try:
        return _wait(messages, died, timeout, max_memory_mb, pid)
    finally:
        if not status:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            died()
        os.close(reader)
        os.close(alive_w)


def _run_spawned(func: Callable[..., T], args: tuple, timeout: float | None, max_memory_mb: int | None) -> T:
    """A fresh interpreter (multiprocessing's spawn), for a caller that has threads."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    alive_r, alive_w = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_spawned_main, args=(writer, alive_r, func, args), daemon=True,
                        name="jisr-kg-query")
    child.start()
    writer.close()
    alive_r.close()

    def died() -> int | None:
        child.join()
        return child.exitcode

    try:
        return _wait(reader, died, timeout, max_memory_mb, child.pid)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        reader.close()
        alive_w.close()


def _wait(messages: Any, died: Callable[[], int | None], timeout: float | None, max_memory_mb: int | None,
          pid: int) -> Any:
    deadline: float | None = None
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        if max_memory_mb:  # look at the child's memory a few times a second
            wait = MEMORY_POLL if wait is None else min(wait, MEMORY_POLL)
        if not messages.poll(wait):
            if max_memory_mb and (rss := _rss_mb(pid)) > max_memory_mb:
                raise QueryAborted(f"the query used {rss:.0f} MB, over --max-memory {max_memory_mb} MB, "
                                   "and was stopped")
            if deadline is None or time.monotonic() < deadline:
                continue
            raise QueryTimeout(f"the query ran past its time limit of {timeout:g} s and was stopped "
                               "(a larger --timeout gives it longer; 0 means no limit)")
        try:
            kind, value = messages.recv()
        except (EOFError, OSError):
            raise QueryAborted(_death(died())) from None
        if kind == "started":
            if timeout:
                deadline = time.monotonic() + timeout
            continue
        if kind == "ok":
            return value
        raise value


MEMORY_POLL = 0.1  # seconds between two looks at the child's memory


def _rss_mb(pid: int) -> float:
    """The process's resident memory in MB (Linux /proc; 0 where there is none to read)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class _FdSender:
    """The child's end: pickled messages, each after its length."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, message: object) -> None:
        import pickle

        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(len(data).to_bytes(8, "big") + data)
        while view:
            view = view[os.write(self.fd, view):]

    def close(self) -> None:
        os.close(self.fd)


class _FdReader:
    """The parent's end: poll(timeout) says whether a whole message is there (or the pipe closed)."""

    def __init__(self, fd: int, pickle: Any) -> None:
        self.fd, self.pickle, self.buffer, self.closed = fd, pickle, bytearray(), False

    def _complete(self) -> bool:
        return len(self.buffer) >= 8 and len(self.buffer) >= 8 + int.from_bytes(self.buffer[:8], "big")

    def poll(self, timeout: float | None) -> bool:
        import select

        end = None if timeout is None else time.monotonic() + timeout
        while not self._complete() and not self.closed:
            left = None if end is None else max(0.0, end - time.monotonic())
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return False
            chunk = os.read(self.fd, 1 << 20)
            if chunk:
                self.buffer += chunk
            else:
                self.closed = True
        return True

    def recv(self) -> Any:
        if not self._complete():
            raise EOFError
        size = int.from_bytes(self.buffer[:8], "big")
        data = bytes(self.buffer[8 : 8 + size])
        del self.buffer[: 8 + size]
        return self.pickle.loads(data)


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        return f"the query's process was killed by {name}"
    return f"the query's process ended without an answer (exit status {code})"


def _single_threaded() -> bool:
    import threading

    if threading.active_count() > 1:
        return False
    try:  # threads that native code started (a store's background threads) are not in `threading`
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _spawned_main(conn: Any, alive_r: Any, func: Callable[..., Any], args: tuple) -> None:
    def wait_for_parent() -> None:
        try:
            alive_r.recv_bytes()
        except (EOFError, OSError):
            pass

    _child_main(conn, wait_for_parent, func, args)


def _watch_fd(fd: int) -> Callable[[], None]:
    def wait_for_parent() -> None:
        try:
            os.read(fd, 1)
        except OSError:
            pass

    return wait_for_parent


def _child_main(conn: Any, wait_for_parent: Callable[[], None], func: Callable[..., Any], args: tuple) -> None:
    global _channel
    # Ctrl-C reaches the whole process group: the child then dies at once, even inside the engine.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _die_with_parent(wait_for_parent)
    _channel = conn
    try:
        message: tuple = ("ok", func(*args))
    except JisrError as e:
        message = ("error", e)
    except MemoryError:
        message = ("error", QueryAborted("the query ran out of memory"))
    except Exception as e:  # a bug: show it, and tell the parent in one line
        import traceback

        traceback.print_exc()
        message = ("error", QueryAborted(f"the query failed with an internal error ({type(e).__name__}, above)"))
    try:
        conn.send(message)
    except Exception as e:  # an error (or a value) that does not pickle
        conn.send(("error", QueryAborted(f"the query's answer could not be passed back: {e}")))
    conn.close()


def _die_with_parent(wait_for_parent: Callable[[], None]) -> None:
    """End this process when the parent dies (SIGTERM, SIGKILL): a thread waits on a pipe whose other
    end only the parent holds, so that an orphaned query does not run on for nobody. (Portable, and
    cheaper to start than prctl(PR_SET_PDEATHSIG) through ctypes.)"""
    import threading

    def watch() -> None:
        wait_for_parent()
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True, name="jisr-kg-parent-watch").start()
