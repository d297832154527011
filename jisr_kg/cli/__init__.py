"""The `jisr-kg` command: a thin shell over the library API."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jisr_kg import __version__
from jisr_kg.cli.common import data_folder
from jisr_kg.errors import EXIT_FAILED, EXIT_OK, JisrError, UsageError
from jisr_kg.paths import DEFAULT_REASONER, REASONERS
from jisr_kg.rdf.formats import GRAPH_NAMES as GRAPH_RESULT_FORMATS
from jisr_kg.rdf.formats import RDF_NAMES as EXPORT_FORMATS
from jisr_kg.rdf.formats import RESULT_NAMES as RESULT_FORMATS


class Console:
    """Progress on stderr for steps that may take a while (silenced by --quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.start = time.perf_counter()

    def progress(self, message: str) -> None:
        if not self.quiet:
            print(f"jisr-kg: {message} ...", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    # The defaults of --data/--quiet live in the namespace, not in the parser: the option objects are
    # shared with every subcommand, and a default there would reset a --data given before the command.
    args = parser.parse_args(argv, namespace=argparse.Namespace(data=None, quiet=False))
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_OK
    console = Console(args.quiet)
    _exit_on_sigterm()
    try:
        return int(args.run(args, console) or EXIT_OK)
    except JisrError as e:
        if e.details:
            print(e.details.rstrip("\n"), file=sys.stderr)
        print(f"jisr-kg: error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # the reader went away (`jisr-kg export | head`): not an error
        _quiet_stdout()
        return EXIT_OK
    except OSError as e:  # after BrokenPipeError, which is one
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"jisr-kg: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jisr-kg: interrupted", file=sys.stderr)
        return 130


def _exit_on_sigterm() -> None:
    """SIGTERM (a `kill`, a service manager) ends the command as Ctrl-C does: through Python's
    clean-up, so that `with` blocks end their children (the validating child of `build`) and remove
    their temporary files, instead of the process vanishing and leaving them behind."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's flush at exit does not complain about the
    closed pipe (the advice of Python's signal documentation)."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _output(args: argparse.Namespace) -> Path | None:
    """The file `-o` names, checked before any work is done (never one of the inputs), or None for stdout."""
    if getattr(args, "output", None) in (None, "-"):
        return None
    from jisr_kg.fsutil import check_output_file
    from jisr_kg.pipeline.build import input_paths

    return check_output_file(Path(args.output), protected=input_paths(data_folder(args)))


def _write(data: bytes | str, target: Path | None) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if target is None:
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
        return
    from jisr_kg.fsutil import write_atomic

    write_atomic(target, raw)


# ---------------------------------------------------------------- commands


def cmd_build(args: argparse.Namespace, console: Console) -> int:
    from jisr_kg.pipeline.build import build_release

    t = time.perf_counter()
    s = build_release(Path(args.output), data_folder(args), reasoner=args.reasoner,
                      progress=console.progress, validator=args.validator)
    total = time.perf_counter() - t
    print(f"built {s.out_dir} in {total:.2f} s")
    print(f"  triples: {s.triples['asserted']} asserted, {s.triples['consensus']} consensus, "
          f"{s.triples['inferred']} inferred")
    print(f"  validation: {s.violations} violations, {s.warnings} warnings")
    print(f"  files: {len(s.files)} ({', '.join(sorted(s.files))})")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, console: Console) -> int:
    from jisr_kg.api import validate_data

    paths = [Path(p) for p in args.paths] if args.paths else data_folder(args)
    report = validate_data(paths, reasoner=args.reasoner, progress=console.progress, validator=args.validator)
    _write(report.format(args.format), None)
    return EXIT_FAILED if report.has_violations else EXIT_OK


def cmd_queries(args: argparse.Namespace, console: Console) -> int:
    from jisr_kg.sparql.query import stored_queries

    queries = stored_queries()
    if args.format == "json":
        import json

        doc = [{"name": q.name, "summary": q.summary, "tags": q.tags, "cq": q.cqs,
                "parameters": [p.name for p in q.parameters]} for q in queries]
        _write(json.dumps(doc, indent=2) + "\n", None)
        return EXIT_OK
    width = max((len(q.name) for q in queries), default=4)
    lines = []
    for q in queries:
        extra = []
        if q.parameters:
            extra.append("params: " + ", ".join(p.name for p in q.parameters))
        if q.cqs:
            extra.append("answers: " + ", ".join(q.cqs))
        lines.append(f"{q.name.ljust(width)}  {q.summary}" + (f"  [{'; '.join(extra)}]" if extra else ""))
    _write("\n".join(lines) + "\n", None)
    return EXIT_OK


def cmd_query(args: argparse.Namespace, console: Console) -> int:
    from jisr_kg.sparql.query import check_query, resolve
    from jisr_kg.sparql.results import GraphResult, write, write_graph

    params = _params(args.param or [])
    # ---- remote stores (docs/decisions/0016-remote-stores.md): flags that only a local query can use
    # are refused with --endpoint, not dropped; --no-infer and --timeout carry over to the store.
    if args.endpoint:
        from jisr_kg.errors import UsageError

        given = {"--engine": args.engine is not None, "--data": data_folder(args) is not None,
                 "--reasoner": args.reasoner != DEFAULT_REASONER,  # --reasoner: its default cannot be told apart
                 "--allow-service": bool(getattr(args, "allow_service", False)),  # the local query's limits
                 "--max-memory": getattr(args, "max_memory", None) is not None}
        local_only = [flag for flag, yes in given.items() if yes]
        if local_only:
            flags = " and ".join([", ".join(local_only[:-1]), local_only[-1]] if len(local_only) > 1 else local_only)
            raise UsageError(f"{flags}: only for a local query, not with --endpoint (a remote query runs on "
                             "the store's data, with the store's engine)")
        if args.timeout == 0:  # a request with no deadline is what issue 11 calls a hang
            raise UsageError("--timeout 0 (no limit) is for local queries; with --endpoint give a positive "
                             "number of seconds")
    # ---- end remote stores
    target = _output(args)
    q = resolve(args.query)
    fmt = _query_format(args, check_query(q.bind(params)).form or "", target)
    if args.endpoint:
        # ---- remote stores: the same graphs as locally (--no-infer leaves out the inferred one), and
        # --timeout bounds the whole request (default: the remote client's).
        from jisr_kg.sparql.remote import DEFAULT_TIMEOUT, remote_query

        timeout = DEFAULT_TIMEOUT if getattr(args, "timeout", None) is None else args.timeout
        result = remote_query(args.endpoint, q.bind(params), infer=not args.no_infer, timeout=timeout)
        # ---- end remote stores
    else:
        import warnings

        from jisr_kg.api import run_query

        # Always in a child process (docs/decisions/0019-bounded-queries.md): --timeout stops the engine,
        # Ctrl-C stops it at once; 0 means no time limit, never an unbounded Ctrl-C.
        timeout = LOCAL_TIMEOUT if args.timeout is None else (args.timeout or math.inf)
        from jisr_kg.sparql.query import ParameterWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ParameterWarning)
            result = run_query(q, params, engine=args.engine or "oxigraph", infer=not args.no_infer,
                               data=data_folder(args), reasoner=args.reasoner, progress=console.progress,
                               timeout=timeout, allow_service=args.allow_service, max_memory_mb=args.max_memory)
        for w in caught:
            print(f"jisr-kg: warning: {w.message}", file=sys.stderr)
    if isinstance(result, GraphResult):
        _write(write_graph(result, fmt), target)
    else:
        width = args.max_width
        if width is None and target is None and sys.stdout.isatty():
            import shutil

            width = shutil.get_terminal_size().columns
        _write(write(result, fmt, max_width=width), target)
    return EXIT_OK


LOCAL_TIMEOUT = 60.0  # seconds; a local query's default time limit


def _params(items: list[str]) -> dict[str, str]:
    """--param NAME=VALUE items as a dict; a one-line usage error for a malformed one."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param takes NAME=VALUE, not {item!r}")
        try:  # bytes that are not UTF-8 arrive as lone surrogates, which no query text can carry
            item.encode("utf-8")
        except UnicodeEncodeError:
            shown = item.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
            raise UsageError(f"--param {shown}: the value is not UTF-8 text") from None
        params[name] = value
    return params


def _query_format(args: argparse.Namespace, form: str, target: Path | None) -> str:
    """The output format: --format, else the one -o's extension names (t.csv: csv), else table or
    turtle. A --format that contradicts the extension, or an extension of the other kind of result
    (a SELECT into x.ttl), is a usage error, told before the query runs."""
    from jisr_kg.rdf import formats

    graph = form in ("CONSTRUCT", "DESCRIBE")
    kind, names = ("a CONSTRUCT/DESCRIBE", GRAPH_RESULT_FORMATS) if graph else (f"a {form}", RESULT_FORMATS)
    if args.format and args.format not in names:
        raise UsageError(f"{kind} result takes --format {'|'.join(names)}, not {args.format}")
    suffix = target.suffix.lower() if target is not None else ""
    if not suffix:
        return args.format or names[0]
    own = formats.rdf_by_extension(suffix) if graph else formats.results_by_extension(suffix)
    other = formats.results_by_extension(suffix) if graph else formats.rdf_by_extension(suffix)
    if own is None or own.name not in names:
        if other is not None or own is not None:
            raise UsageError(f"-o {target.name}: {kind} result cannot be written as {suffix} "
                             f"(it takes {'|'.join(names)})")
        return args.format or names[0]
    if args.format and args.format != own.name:
        raise UsageError(f"--format {args.format} contradicts -o {target.name} ({suffix} is {own.name})")
    return own.name


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from jisr_kg.api import export_data
    from jisr_kg.rdf import formats

    if args.inferred and args.consensus:
        raise UsageError("--inferred and --consensus cannot go together: the consensus view has no "
                         "inferred triples (choose one)")
    target = _output(args)
    fmt = args.format or "turtle"
    if target is not None and target.suffix:
        own = formats.rdf_by_extension(target.suffix)
        if own is None and formats.results_by_extension(target.suffix) is not None:
            raise UsageError(f"-o {target.name}: {target.suffix} is a query results format, not RDF "
                             f"(export takes {'|'.join(EXPORT_FORMATS)})")
        if own is not None and args.format and args.format != own.name:
            raise UsageError(f"--format {args.format} contradicts -o {target.name} ({target.suffix} is {own.name})")
        fmt = own.name if own is not None else fmt
    data = export_data(fmt, infer=args.inferred, consensus=args.consensus, data=data_folder(args),
                  reasoner=args.reasoner, progress=console.progress)
    _write(data, target)
    return EXIT_OK


def cmd_stats(args: argparse.Namespace, console: Console) -> int:
    from jisr_kg.api import stats

    s = stats(data_folder(args), progress=console.progress)
    sections = [
        ("triples", [*s.triples.items(), ("total", sum(s.triples.values()))]),
        ("entities per class", s.classes),
        ("claims per claimant", s.claimants),
        ("claims per standing", s.standings),
        ("links between claims (asserted)", s.relations),
    ]
    width = min(40, max(len(name) for _, rows in sections for name, _ in rows))
    out = []
    for title, rows in sections:
        out += [title] + [f"  {name:{width}}  {n:6}" for name, n in rows] + [""]
    _write("\n".join(out[:-1]) + "\n", None)
    return EXIT_OK


def cmd_coverage(args: argparse.Namespace, console: Console) -> int:
    from jisr_kg.pipeline.coverage import coverage_report

    report = coverage_report(data_folder(args))
    _write(report.format(), None)
    return EXIT_OK if report.complete else EXIT_FAILED


def cmd_docs(args: argparse.Namespace, console: Console) -> int:
    from jisr_kg.pipeline.docs import write_docs

    path = write_docs(Path(args.output), progress=console.progress)
    print(f"wrote {path}")
    return EXIT_OK


# ---------------------------------------------------------------- the parser

QUERY_EXAMPLES = """examples:
  $ jisr-kg query claims-by-claimant --param claimant=actor:joshua-landis
  $ jisr-kg query events-on-date --param day=2011-06-06 -o events.csv
  $ echo 'SELECT (COUNT(*) AS ?n) WHERE { ?c a jkg:Claim }' | jisr-kg query -
  $ jisr-kg query claims-by-claimant --format json --timeout 10
"""
EXPORT_EXAMPLES = """examples:
  $ jisr-kg export -o graph.nt
  $ jisr-kg export --inferred --format trig
  $ jisr-kg export --consensus -o consensus.ttl
"""


def _query_epilog() -> str:
    """The examples, and the prefixes a query may use without declaring them (from the one table)."""
    from jisr_kg.rdf.namespaces import PREFIXES

    width = max(len(p) for p in PREFIXES) + 1
    lines = [f"  {(p + ':').ljust(width)} {ns}" for p, ns in PREFIXES.items()]
    return QUERY_EXAMPLES + "\nprefixes a query may use without declaring them:\n" + "\n".join(lines) + "\n"


def _positive(kind: str, convert: type, allow_zero: bool = True) -> Callable[[str], Any]:
    """An argparse type: a number of `kind`, not negative (nor zero, unless allowed), finite."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if value < 0 or (value == 0 and not allow_zero) or value != value or value == math.inf:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}")
        return value

    return parse


_seconds = _positive("a number of seconds (0 or more)", float)
_megabytes = _positive("a number of megabytes (over 0)", int, allow_zero=False)
_columns = _positive("a number of columns (0 or more)", int)


def make_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", metavar="DIR", default=argparse.SUPPRESS,
                        help="the data folder to use instead of the project's data/")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress messages on stderr")
    reasoning = argparse.ArgumentParser(add_help=False)
    reasoning.add_argument("--reasoner", choices=REASONERS, default=DEFAULT_REASONER,
                           help="rules (default: owlrl's entailments, faster), owlrl (the reference) "
                           "or reasonable (OWL 2 RL in Rust)")

    p = argparse.ArgumentParser(
        prog="jisr-kg",
        description="The June 2011 Jisr ash-Shughur clashes as a knowledge graph of claims with provenance: "
        "build, validate, query and export it.",
        parents=[common],
    )
    p.add_argument("--version", action="version", version=f"jisr-kg {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser("build", parents=[common, reasoning], help="the main job: load, reason, validate and "
                       "export every format into dist/")
    b.add_argument("-o", "--output", default="dist", help="the release folder (default: dist)")
    b.add_argument("--validator", choices=("sparql", "pyshacl"), default="sparql",
                   help="sparql (default: the shapes as SPARQL on Oxigraph) or pyshacl (the reference)")
    b.set_defaults(run=cmd_build)

    v = sub.add_parser("validate", parents=[common, reasoning], help="check the data against the SHACL shapes")
    v.add_argument("paths", nargs="*", metavar="PATH", help="RDF files or folders to validate instead of the data")
    v.add_argument("--format", choices=("text", "turtle", "json"), default="text")
    v.add_argument("--validator", choices=("sparql", "pyshacl"), default="sparql",
                   help="sparql (default: the shapes as SPARQL on Oxigraph) or pyshacl (the reference)")
    v.set_defaults(run=cmd_validate)

    qs = sub.add_parser("queries", parents=[common], help="list the stored queries")
    qs.add_argument("--format", choices=("text", "json"), default="text")
    qs.set_defaults(run=cmd_queries)

    q = sub.add_parser("query", parents=[common, reasoning], help="run a stored query, a .rq file, or - for stdin",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_query_epilog())
    q.add_argument("query", metavar="NAME|FILE.rq|-")
    q.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="bind a parameter (repeatable); NAME= (empty) leaves it unbound, overriding its default")
    q.add_argument("--format", choices=tuple(dict.fromkeys(RESULT_FORMATS + GRAPH_RESULT_FORMATS)), default=None,
                   help="table (default), csv, tsv, json or xml for SELECT/ASK; turtle (default), ntriples, "
                   "jsonld or xml (RDF/XML) for CONSTRUCT/DESCRIBE")
    q.add_argument("--no-infer", action="store_true", help="query the asserted (and consensus) triples only")
    # ---- remote stores: --engine defaults to None (oxigraph) so that a given --engine can be told from the
    # default and refused with --endpoint; --timeout is the remote deadline (and the local one, if added).
    q.add_argument("--engine", choices=("oxigraph", "rdflib"), default=None,
                   help="oxigraph (the cached store, default) or rdflib (the reference)")
    q.add_argument("--endpoint", metavar="URL", help="run the query on a remote SPARQL endpoint instead "
                   "(the project's graphs as pushed there; --no-infer leaves out the inferred graph)")
    q.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="stop a local query whose engine has run this long (default: 60; 0: no limit); with "
                   "--endpoint: give up unless the whole answer has come within this long (default: 120)")
    # ---- end remote stores
    q.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    q.set_defaults(run=cmd_query)

    q.add_argument("--allow-service", action="store_true",
                   help="let a local query call other servers with SERVICE (refused otherwise); --timeout bounds them")
    q.add_argument("--max-memory", type=_megabytes, default=None, metavar="MB",
                   help="stop a local query whose process needs more memory than this (default: no limit)")
    q.add_argument("--max-width", type=_columns, default=None, metavar="N",
                   help="fit the table in N columns, cutting long cells with an ellipsis (default: the "
                   "terminal's width; not a terminal: cells cut at 80 characters; 0: nothing cut)")

    e = sub.add_parser("export", parents=[common, reasoning], help="write the graph in an RDF format",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXPORT_EXAMPLES)
    e.add_argument("--format", choices=EXPORT_FORMATS, default=None,
                   help="the RDF format (default: the one -o's extension names, else turtle)")
    e.add_argument("--inferred", action="store_true", help="include the OWL RL entailments")
    e.add_argument("--consensus", action="store_true", help="only the consensus view (plain triples, no claims)")
    e.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    e.set_defaults(run=cmd_export)

    s = sub.add_parser("stats", parents=[common], help="triples, entities per class, claims per claimant")
    s.set_defaults(run=cmd_stats)

    c = sub.add_parser("coverage", parents=[common], help="share of the article's sentences and infobox lines "
                       "carried by claims; exits 1 below 100%%")
    c.set_defaults(run=cmd_coverage)

    d = sub.add_parser("docs", parents=[common], help="write HTML documentation of the ontology")
    d.add_argument("-o", "--output", default="docs-html/ontology.html",
                   help="the HTML file (default: docs-html/ontology.html, outside dist/, which build replaces)")
    d.set_defaults(run=cmd_docs)

    # The larger commands live in modules of their own and register here (a failing import is a bug
    # to see, not a reason to drop a command).
    from jisr_kg.cli import find, scale, serve, site

    scale.add_synth_parser(sub, common)
    scale.add_push_parser(sub, common)
    serve.add_parser(sub, common)
    find.add_parser(sub, common)
    site.add_parser(sub, common)
    return p


def run() -> None:
    code = main()
    # End without freeing every object one by one: the interpreter's own exit deallocates the dataset
    # line by line (0.4 s at 100 times our data, 0.05 s at 1x, on every command). The exit functions
    # still run (temporary folders are removed) and the output is flushed; every file was closed.
    import atexit
    import os

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away: not an error
        _quiet_stdout()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
