"""`jisr-kg serve`: the read-only SPARQL endpoint, the stored queries as a web API and the graph's IRIs,
over the cached store (built first if needed). The work is in jisr_kg.web.serve."""

from __future__ import annotations

import argparse
from typing import Any

from jisr_kg.cli.common import data_folder
from jisr_kg.errors import EXIT_OK, UsageError
from jisr_kg.paths import DEFAULT_REASONER, REASONERS


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser("serve", parents=[common], help="serve a read-only SPARQL endpoint, the stored queries "
                       "as a web API and the graph's IRIs (127.0.0.1:8000 by default)")
    s.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for all)")
    s.add_argument("--port", default="8000", help="the port (default 8000; 0 picks a free one)")
    s.add_argument("--timeout", default="30", metavar="SECONDS",
                   help="stop a query that runs longer than this (default 30)")
    s.add_argument("--workers", default=None, metavar="N",
                   help="query worker processes (default: the number of cores, 2 to 4)")
    s.add_argument("--max-rows", default=None, metavar="N",
                   help="refuse results with more rows or triples than this (default 100000)")
    s.add_argument("--reasoner", choices=REASONERS, default=DEFAULT_REASONER,
                   help="the reasoner of the build that is served (default: rules)")
    s.set_defaults(run=cmd_serve)


def _number(value: str | None, option: str, kind: type, low: float, high: float | None = None) -> Any:
    if value is None:
        return None
    try:
        n = kind(value)
    except ValueError:
        n = None
    if n is None or n != n or n < low or (high is not None and n > high):
        upper = f" and {high:g}" if high is not None else ""
        what = "a number of seconds" if kind is float else "a whole number"
        raise UsageError(f"{option} takes {what} between {low:g}{upper}, not {value!r}")
    return n


def cmd_serve(args: argparse.Namespace, console: Any) -> int:
    from jisr_kg.web import serve

    port = _number(args.port, "--port", int, 0, 65535)
    timeout = _number(args.timeout, "--timeout", float, 0.1, 86400)
    workers = _number(args.workers, "--workers", int, 1, 64)
    max_rows = _number(args.max_rows, "--max-rows", int, 1)
    serve(args.host, port, timeout=timeout, data=data_folder(args), reasoner=args.reasoner,
          workers=workers, max_rows=max_rows, progress=console.progress,
          announce=lambda message: print(message, flush=True))
    if not console.quiet:
        import sys

        print("jisr-kg: stopped", file=sys.stderr)
    return EXIT_OK
