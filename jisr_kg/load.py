"""Load: parse RDF files into one rdflib graph, with parse errors as FILE:LINE:COL messages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import rdflib
from rdflib.plugins.parsers.notation3 import BadSyntax

from .errors import InputError
from .paths import RDF_FORMATS


def parse_into(graph: rdflib.Graph, path: Path) -> None:
    """Parse one file into `graph`; on failure raise InputError naming the file, line and column."""
    fmt = RDF_FORMATS.get(path.suffix)
    if fmt is None:
        raise InputError("not an RDF file", path=path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(e.strerror or "cannot read", path=path) from None
    # Parse into a scratch graph first, so that a file that fails half-way leaves nothing behind.
    scratch = rdflib.Dataset() if fmt in ("trig", "nquads") else rdflib.Graph()
    try:
        scratch.parse(data=data, format=fmt, publicID=path.resolve().as_uri())
    except BadSyntax as e:
        line, col = _position(e)
        raise InputError(_why(e), path=path, line=line, column=col) from None
    except Exception as e:  # noqa: BLE001 - every parser has its own exception types
        raise InputError(_describe(e), path=path, line=_line_of(e, data)) from None
    if isinstance(scratch, rdflib.Dataset):
        for s, p, o, _ in scratch.quads((None, None, None, None)):
            graph.add((s, p, o))
    else:
        graph += scratch


def load(paths: Iterable[Path]) -> rdflib.Graph:
    """Parse the files, in order, into one graph."""
    graph = rdflib.Graph()
    for path in paths:
        parse_into(graph, path)
    return graph


def _position(e: BadSyntax) -> tuple[int, int]:
    text: bytes = e._str if isinstance(e._str, bytes) else str(e._str).encode()
    start = text.rfind(b"\n", 0, e._i) + 1
    return e.lines + 1, len(text[start : e._i].decode("utf-8", "replace")) + 1


def _why(e: BadSyntax) -> str:
    return f"syntax error: {e._why}"


def _describe(e: Exception) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return f"syntax error: {msg}"


def _line_of(e: Exception, data: bytes) -> int | None:
    """Line-based parsers (N-Triples, N-Quads) quote the bad line; find it in the file."""
    m = re.search(r"Invalid line(?: \(.*?\))?: (.*)", str(e))
    if not m:
        m = re.search(r"line (\d+)", str(e))
        return int(m.group(1)) if m else None
    bad = m.group(1).strip().encode()
    for number, line in enumerate(data.splitlines(), start=1):
        if line.strip() == bad:
            return number
    return None
