"""`jisr-kg synth` and `jisr-kg push`: the command shells over pipeline.synth and store.push."""

from __future__ import annotations

import argparse
from pathlib import Path

from jisr_kg.cli.common import data_folder
from jisr_kg.paths import DEFAULT_REASONER, REASONERS
from jisr_kg.pipeline.synth import synthesize
from jisr_kg.rdf.namespaces import ID
from jisr_kg.sparql.remote import DEFAULT_TIMEOUT
from jisr_kg.store.push import push


def add_synth_parser(sub, common: argparse.ArgumentParser) -> None:  # argparse's subparsers action
    s = sub.add_parser(
        "synth", parents=[common],
        help="write K renamed copies of the data (for scale tests and benchmarks)",
        description="Write K copies of the data folder (the project's data/, or --data DIR) into a new folder "
        "that --data reads. Copy 1 keeps the original IRIs; copy k appends -ck to every IRI under "
        f"{ID}. The ontology and external IRIs are shared.",
    )
    s.add_argument("--scale", type=int, required=True, metavar="K", help="how many copies (1 or more)")
    s.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="the folder to write (new, empty, or written by an earlier synth)")
    s.add_argument("--share", action="append", default=[], metavar="IRI",
                   help="a project IRI every copy keeps as it is, e.g. actor:wikipedia-authors so that the "
                   "consensus view grows with K (repeatable)")
    s.set_defaults(run=_synth)


def _synth(args: argparse.Namespace, console) -> int:  # cli.Console
    data = data_folder(args)
    s = synthesize(args.scale, Path(args.output), data, share=tuple(args.share), progress=console.progress)
    print(f"wrote {s.out_dir}: {s.scale} cop{'y' if s.scale == 1 else 'ies'}, {len(s.files)} RDF files, "
          f"{s.triples} triples")
    return 0


def add_push_parser(sub, common: argparse.ArgumentParser) -> None:  # argparse's subparsers action
    p = sub.add_parser(
        "push", parents=[common],
        help="load the built dataset into a SPARQL store (Graph Store protocol, one PUT per named graph)",
        description="Replace the graphs <https://w3id.org/jisr-kg/graph/{asserted,consensus,inferred,void}> "
        "in a SPARQL store with the built dataset, and nothing else in the store. --endpoint takes the "
        "store's base URL: Oxigraph http://host:7878 (/store, /query), Fuseki http://host:3030/DATASET "
        "(/data, /query), Virtuoso http://host:8890/sparql (/sparql-graph-crud, /sparql).",
    )
    p.add_argument("--endpoint", metavar="URL", help="the store's base URL, or its query or Graph Store endpoint")
    p.add_argument("--gsp", metavar="URL", help="the Graph Store HTTP Protocol endpoint, if the guess does not fit")
    p.add_argument("--query-endpoint", metavar="URL", help="the SPARQL query endpoint, if the guess does not fit")
    p.add_argument("--reasoner", choices=REASONERS, default=DEFAULT_REASONER,
                   help=f"the reasoner of the build to push (default: {DEFAULT_REASONER})")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help="give up on a request that is not wholly answered after this long: connecting, sending "
                   f"and the complete answer (default: {DEFAULT_TIMEOUT:g})")
    p.add_argument("--no-check", dest="check", action="store_false",
                   help="do not count the triples in the store afterwards (for a store without a query endpoint)")
    p.set_defaults(run=_push)


def _push(args: argparse.Namespace, console) -> int:  # cli.Console
    data = data_folder(args)
    s = push(args.endpoint, gsp=args.gsp, query_endpoint=args.query_endpoint, data=data, reasoner=args.reasoner,
             check=args.check, timeout=args.timeout, progress=console.progress)
    total = sum(s.triples.values())
    print(f"pushed {total} triples in {len(s.triples)} graphs to {s.gsp} in {s.seconds:.2f} s")
    for name, n in s.triples.items():
        print(f"  {name}  {n}")
    return 0
