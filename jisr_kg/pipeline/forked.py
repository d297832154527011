"""A function run in a forked child process while this one goes on: how a build keeps both cores busy
(the files that need no inferences are written while it reasons; large inputs are parsed by two
processes).

os.fork, not a multiprocessing pool: a pool's threads would make later forks unsafe (a fork copies
only the calling thread, and a lock one of the others held stays held in the child), and the build
forks its validating child later. Where there is no fork, or the process has other threads (a server,
a notebook), `can_fork` says no and the caller does the work itself.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import Generic, TypeVar

from jisr_kg.errors import JisrError

T = TypeVar("T")


def can_fork() -> bool:
    import threading

    return hasattr(os, "fork") and threading.active_count() == 1


def die_with_parent() -> None:
    """Let the kernel end this (child) process when its parent dies, however it dies (even SIGKILL,
    which leaves no chance to clean up): an orphaned validation would go on for minutes."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1  # the name in <sys/prctl.h>
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Forked(Generic[T]):
    """`work()` run in a forked child. `result()` waits for it and gives what it returned, or raises
    the JisrError it raised; `stop()` ends it early. Its result comes back pickled through a pipe."""

    def __init__(self, work: Callable[[], T], what: str) -> None:
        self.what = what  # for the message if the child dies: "the process writing the release's files"
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read)
            _child(work, write, what)
        os.close(write)
        self.pid: int | None = pid
        self.pipe: int | None = read

    def result(self) -> T:
        with os.fdopen(self.pipe, "rb") as f:  # type: ignore[arg-type]
            self.pipe = None
            raw = f.read()
        _, status = os.waitpid(self.pid, 0)  # type: ignore[arg-type]
        self.pid = None
        try:
            kind, value = pickle.loads(raw)
        except Exception:  # nothing, or half of it: the child was killed
            raise JisrError(f"{self.what} ended without finishing ({_ended(status)}); nothing was written",
                            exit_code=1) from None
        if kind == "error":
            raise value
        return value

    def stop(self) -> None:
        """End the child if it still runs (the parent failed or was interrupted), and wait for it."""
        import signal

        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = None


def _child(work: Callable[[], object], pipe: int, what: str) -> None:
    """The child's whole life: run `work`, send back its result or the error that stopped it, and
    exit without running the parent's clean-up (atexit handlers, temporary folders)."""
    code = 0
    try:
        die_with_parent()
        outcome: tuple = ("ok", work())
    except JisrError as e:  # e.g. data that RDF/XML cannot carry: the parent raises it as if it met it
        outcome = ("error", e)
    except BaseException as e:  # an interrupt, or a bug: the parent reports it
        outcome, code = ("error", JisrError(f"{what} failed: {e!r}", exit_code=1)), 1
    try:
        with os.fdopen(pipe, "wb") as f:
            f.write(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(code)


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        import signal

        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
