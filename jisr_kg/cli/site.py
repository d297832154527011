"""`jisr-kg site -o DIR`: the reader's pages as a static site."""

from __future__ import annotations

import argparse
from pathlib import Path

from jisr_kg.cli.common import data_folder
from jisr_kg.errors import EXIT_OK


def add_parser(sub, common: argparse.ArgumentParser) -> None:  # argparse's subparsers action
    p = sub.add_parser(
        "site", parents=[common],
        help="write the pages for readers as a static site (every entity's page and RDF)",
        description="Write the pages of `jisr-kg serve` as static files: the disputes, the source with its "
        "evidence, the timeline, the map, the ontology, a page for every IRI of the data with its description "
        "in each RDF format, and search that runs in the browser. Links are relative, so the folder works on "
        "any static host or from the file system. The folder is replaced only if `jisr-kg site` wrote it.",
    )
    p.add_argument("-o", "--output", default="site", metavar="DIR", help="the site folder (default: site)")
    p.set_defaults(run=_cmd)


def _cmd(args: argparse.Namespace, console) -> int:  # cli.Console
    from jisr_kg.web.site import write_site

    data = data_folder(args)
    s = write_site(Path(args.output), data, progress=console.progress)
    print(f"wrote {s.out_dir} in {s.seconds:.1f} s: {s.pages} pages, {s.files} files, {s.bytes / 1e6:.1f} MB "
          f"({len(s.entities)} IRIs of the data, each with its page and RDF)")
    return EXIT_OK
