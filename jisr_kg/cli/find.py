"""`jisr-kg find TEXT`: look up the IRI of a thing by part of its name."""

from __future__ import annotations

import argparse
import json
import sys

from jisr_kg.cli.common import data_folder
from jisr_kg.errors import EXIT_FAILED, EXIT_OK, UsageError


def add_parser(sub, common: argparse.ArgumentParser) -> None:  # argparse's subparsers action
    p = sub.add_parser(
        "find", parents=[common],
        help="entities and claims whose name contains TEXT (case and accents ignored)",
        description="List the actors, units, places, events and claims whose label or other name contains "
        "TEXT, ignoring case and accents (\"dara\" finds Darā): exact matches first, then names with a word "
        "that starts with TEXT, then the rest. Each line gives the prefixed name, the kind and the label. "
        "Exits 1 when nothing matches.",
    )
    p.add_argument("text", metavar="TEXT", nargs="+", help="the words to look for (joined by spaces)")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="at most N results (default 20; 0: all)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=_cmd)


def _cmd(args: argparse.Namespace, console) -> int:  # cli.Console
    from jisr_kg.search import find

    text = " ".join(args.text)
    if not text.strip():
        raise UsageError("find: give some text to look for")
    if args.limit < 0:
        raise UsageError(f"--limit {args.limit}: give 0 (all) or a positive number")
    data = data_folder(args)
    matches = find(text, limit=args.limit or None, data=data)
    if args.format == "json":
        sys.stdout.write(json.dumps([m.as_dict() for m in matches], indent=2, ensure_ascii=False) + "\n")
    else:
        width = max((len(m.name) for m in matches), default=0)
        kind_width = min(14, max((len(m.kind) for m in matches), default=0))
        for m in matches:
            also = f"  (as {m.matched!r})" if m.matched != m.label else ""
            sys.stdout.write(f"{m.name:{width}}  {m.kind:{kind_width}}  {m.label}{also}\n")
    if not matches:
        print(f"jisr-kg: nothing found for {text!r}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
