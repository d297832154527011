"""Writing files so that a failure never leaves a half-written one behind, and never writes where it
must not: an output folder is replaced only when this project wrote it before (it carries a marker)
or it is new or empty; an input file or folder is never an output."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from jisr_kg.errors import UsageError

#: The file every output folder this project writes carries, naming the command that wrote it.
MARKER = ".jisr-kg-output"


def _read_umask() -> int:
    # /proc tells the umask without changing it; elsewhere the umask is read once, at import, before
    # any thread runs (os.umask sets it while it reads it, which is not thread-safe later on).
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def default_mode(directory: bool = False) -> int:
    """The mode a plain open() or mkdir() would give (temporary files are created private)."""
    return (0o777 if directory else 0o666) & ~_UMASK


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_dir(out_dir: Path, command: str, *, protected: Iterable[Path] = (),
                     legacy_names: Iterable[str] = (), legacy_marker: str | None = None) -> Path:
    """The resolved folder that `command` may (re)write, or a UsageError saying why not.

    Allowed: a path that does not exist yet, an empty folder, or a folder that carries this project's
    marker (written by an earlier run), or whose every entry is one of `legacy_names`, or that holds
    `legacy_marker` (written before the marker existed). Refused: a file, the current folder or one
    of its parents, and any folder that holds or lies inside a `protected` path (the data, the
    ontology, the queries)."""
    option = "-o/--output"
    resolved = out_dir.resolve()
    cwd = Path.cwd().resolve()
    if _inside(cwd, resolved):
        raise UsageError(f"{option} {out_dir}: that is the current folder or holds it; choose a new folder")
    if resolved == Path.home().resolve() or resolved.parent == resolved:
        raise UsageError(f"{option} {out_dir}: refusing to replace that folder; choose a new folder")
    for p in protected:
        p = p.resolve()
        if _inside(resolved, p) or _inside(p, resolved):
            raise UsageError(f"{option} {out_dir}: it would overwrite the input {p}; choose a folder outside it")
    if resolved.exists() or resolved.is_symlink():
        if not resolved.is_dir():
            raise UsageError(f"{option} {out_dir}: exists and is not a folder; choose a new folder")
        entries = {p.name for p in resolved.iterdir()}
        owned = MARKER in entries or entries <= set(legacy_names) or (legacy_marker in entries)
        if entries and not owned:
            raise UsageError(f"{option} {out_dir}: the folder is not empty and was not written by "
                             f"`jisr-kg {command}`; choose a new or empty folder")
    return resolved


def check_output_file(path: Path, *, protected: Iterable[Path] = ()) -> Path:
    """`path` as a file to write, unless it is a folder or one of the inputs (`protected`)."""
    resolved = path.resolve()
    if resolved.is_dir():
        raise UsageError(f"-o/--output {path}: is a folder; give a file name")
    for p in protected:
        if _inside(resolved, p.resolve()):
            raise UsageError(f"-o/--output {path}: it would overwrite the input {p.resolve()}; choose another file")
    return resolved


def publish_dir(out_dir: Path, files: dict[str, bytes], command: str) -> None:
    """Write `files` into a new folder beside `out_dir`, with the marker, and swap it in."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        os.chmod(tmp, default_mode(directory=True))
        for name, data in files.items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        mark(tmp, command)
        swap_in(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def mark(folder: Path, command: str) -> None:
    """Leave the marker that lets a later run of `command` replace `folder`."""
    (folder / MARKER).write_text(json.dumps({"written by": f"jisr-kg {command}"}) + "\n", encoding="utf-8")


def swap_in(tmp: Path, out_dir: Path) -> None:
    """Put the finished folder `tmp` where `out_dir` is, replacing the old one only once the new is there.
    The caller has checked (check_output_dir) that the old one may go."""
    if out_dir.exists() or out_dir.is_symlink():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old.is_symlink():
            old.unlink()
        else:
            shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out_dir)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
